"""Per-asset history: the operations that touched an asset, in the packer's words; a click
selects the operation in the Activity."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from packer.lane.events import AffectedAsset, DiagnosticsUpdatedDetail, EventKind, Outcome
from studio.services.asset_history import AssetHistory
from studio.services.asset_key import asset_key
from tests.studio.helpers import ScriptedPrompter, open_and_list, running_studio
from tests.studio.lane_events import event
from tests.studio.synthetic import make_raw_project


def test_findings_are_listed_only_when_they_change() -> None:
    hero = AffectedAsset(asset_id=1, root="gfx/hero", name="hero")
    history = AssetHistory()

    def report(op: str, errors: int) -> None:
        history.add(event(op, 1, EventKind.DIAGNOSTICS_UPDATED, operation="details",
                          terminal=True, outcome=Outcome.SUCCEEDED, assets=(hero,)).model_copy(
            update={"detail": DiagnosticsUpdatedDetail(errors=errors)}))

    report("a", 0)  # nothing found, nothing before: no change
    report("b", 1)
    report("c", 1)
    report("d", 0)
    texts = [(e.operation_id, e.text) for e in history.entries(asset_key(1, "gfx/hero"))]
    assert texts == [("d", "findings: none"), ("b", "findings: 1 error")]


def test_an_asset_s_history_lists_its_builds_and_a_click_selects_the_operation(
    qtbot: QtBot, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0, name="game")
    with running_studio(ScriptedPrompter()) as studio:
        window = open_and_list(qtbot, studio, project.root)
        assert studio.session is not None
        with qtbot.waitSignal(studio.build_ended, timeout=20_000) as first:
            studio.session.build()
        qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
        (project.assets_dir / "raw" / "blob_00000" / "data.bin").write_bytes(b"changed")
        with qtbot.waitSignal(studio.build_ended, timeout=20_000) as second:
            studio.session.build()
        qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
        window.assets.select_asset(("id", 1))
        history = window.assets.details.history
        qtbot.waitUntil(lambda: len(history.texts()) >= 2, timeout=10_000)
        texts = history.texts()
        assert "Build · cache miss, rebuilt: " in texts[0]  # newest first
        assert "first build" not in texts[0] and "first build" in texts[1]
        window.assets.select_asset(("id", 2))
        qtbot.waitUntil(lambda: "cache hit" in history.texts()[0], timeout=10_000)
        item = history.list.item(0)
        assert item is not None
        history.list.itemClicked.emit(item)
        panel = studio.activity_panel
        assert panel is not None and window.utility.currentWidget() is panel
        selected = panel.selected_operation()
        assert selected is not None
        assert selected.operation_id == second.args[0].operation_id != first.args[0].operation_id
        qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
