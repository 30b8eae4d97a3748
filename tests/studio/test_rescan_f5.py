"""F5 runs the packer's rescan: its asset_changed / asset_discovered events reach the Activity,
and only the navigator rows it names change (no tree rebuilt from a new listing)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from packer.lane.events import EventKind
from studio.app import StudioApp
from studio.panels.activity.records import OperationRecord
from studio.services.session import AssetRowsChanged, AssetsListed
from studio.shell.main_window import MainWindow
from tests.studio.helpers import heard, open_and_list
from tests.studio.synthetic import _write_raw_asset, make_raw_project

MARK = Qt.ItemDataRole.UserRole + 99


def rescans(studio: StudioApp) -> list[OperationRecord]:
    assert studio.activity_model is not None
    return [op for op in studio.activity_model.operations() if op.operation == "rescan"]


def press_f5(qtbot: QtBot, studio: StudioApp, window: MainWindow) -> OperationRecord:
    """F5, then the rescan's finished Activity row once the Studio is idle again."""
    before = {op.operation_id for op in rescans(studio)}

    def new_one() -> OperationRecord | None:
        return next((op for op in rescans(studio) if op.operation_id not in before), None)

    window.rescan_action.trigger()
    qtbot.waitUntil(lambda: (op := new_one()) is not None and op.terminal is not None
                    and not studio.pool.busy, timeout=30_000)
    found = new_one()
    assert found is not None
    return found


def test_f5_reports_an_edited_input_and_a_new_root_and_changes_only_their_rows(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=3, unregistered=0)
    window = open_and_list(qtbot, studio, project.root)
    navigator = window.assets.navigator
    baseline = press_f5(qtbot, studio, window)  # no record yet: the baseline
    assert EventKind.ASSET_CHANGED not in baseline.kinds
    assert baseline.summary.startswith("No previous scan")
    # Marks on items: a rebuilt tree would lose them.
    for asset_id in (1, 3):
        navigator.model.itemFromIndex(navigator._index_of(("id", asset_id))).setData(
            "untouched", MARK)

    (project.assets_dir / "raw/blob_00001/data.bin").write_bytes(b"edited on disk")
    edited = press_f5(qtbot, studio, window)
    assert edited.kinds >= {EventKind.ASSET_CHANGED}
    assert EventKind.ASSET_DISCOVERED not in edited.kinds
    assert edited.assets == {"raw/blob_00001"}  # asset #2
    assert edited.summary.startswith("Rescan: 0 new, 1 changed, 0 removed, 2 unchanged")
    for asset_id in (1, 3):  # only #2's row was given new items
        item = navigator.model.itemFromIndex(navigator._index_of(("id", asset_id)))
        assert item.data(MARK) == "untouched"

    _write_raw_asset(project.assets_dir, "wip/fresh", "fresh", b"new")
    discovered = press_f5(qtbot, studio, window)
    assert EventKind.ASSET_DISCOVERED in discovered.kinds
    assert discovered.assets == {"wip/fresh"}
    qtbot.waitUntil(lambda: navigator.row_for(("root", "wip/fresh")) is not None)
    assert len(navigator.rows()) == 4  # (a new row is placed by rebuilding from memory)


def test_f5_with_nothing_changed_reads_nothing_more(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    window = open_and_list(qtbot, studio, project.root)
    press_f5(qtbot, studio, window)  # the baseline (it shows the whole list again)
    assert studio.session is not None
    listed = heard(studio.session.bus, AssetsListed)
    rows_changed = heard(studio.session.bus, AssetRowsChanged)
    quiet = press_f5(qtbot, studio, window)
    assert not quiet.kinds & {EventKind.ASSET_CHANGED, EventKind.ASSET_DISCOVERED}
    assert quiet.summary.startswith("Rescan: 0 new, 0 changed, 0 removed, 2 unchanged")
    # The job's result was handled before the pool went idle: no listing was published.
    assert listed == [] and rows_changed == []
