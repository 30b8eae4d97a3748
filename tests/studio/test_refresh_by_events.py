"""After a build, the navigator updates from the build's own events: no listing runs, only the
rows the build found problems with change, and the "Has errors" filter then shows them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from packer.doctor.queries import get_asset_details
from packer.files.project import Project
from packer.lane.events import (
    DiagnosticSummary,
    DiagnosticsUpdatedDetail,
    EventKind,
    Outcome,
)
from packer.mutations import MutationAction
from studio.app import StudioApp
from studio.panels.assets.rows import RowState
from studio.services import session as session_module
from studio.services.bus import PackerEventsDelivered
from studio.services.lane_items import LaneEvent
from studio.services.workers import JobInfo
from tests.studio.helpers import open_and_list
from tests.studio.lane_events import event
from tests.studio.synthetic import add_sound_bank, make_raw_project

MARK = Qt.ItemDataRole.UserRole + 99


def test_a_build_updates_the_rows_it_diagnosed_and_runs_no_listing(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    bank = add_sound_bank(project)
    window = open_and_list(qtbot, studio, project.root)  # validated in the background: fine
    # A format error made after the validation: only the build can find it now.
    (project.assets_dir / "sfx" / "beeps" / "beep.wav").write_bytes(b"")
    navigator = window.assets.navigator
    assert navigator.row_for(("id", bank)) is not None
    assert navigator.row_for(("id", bank)).errors == 0  # type: ignore[union-attr]
    # A mark on another row's item: a rebuilt tree would lose it.
    other = navigator.model.itemFromIndex(navigator._index_of(("id", 1)))
    other.setData("untouched", MARK)
    assert navigator.select(("id", bank))
    qtbot.waitUntil(lambda: window.assets.shown is not None
                    and window.assets.shown.key == ("id", bank))
    started: list[str] = []

    def record(info: JobInfo) -> None:
        started.append(info.label)

    studio.pool.job_started.connect(record)
    assert studio.activity_model is not None
    lists_before = sum(1 for op in studio.activity_model.operations() if op.operation == "list")
    with qtbot.waitSignal(studio.build_ended, timeout=30_000) as ended:
        window.build_action.trigger()
    assert ended.args[0].outcome is Outcome.BLOCKED
    qtbot.waitUntil(lambda: navigator.row_for(("id", bank)).errors == 1)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: not studio.pool.busy)
    assert not [label for label in started if label.startswith("Scan")], started
    assert sum(1 for op in studio.activity_model.operations()
               if op.operation == "list") == lists_before
    item = navigator.model.itemFromIndex(navigator._index_of(("id", 1)))
    assert item.data(MARK) == "untouched"
    assert navigator.selected_key() == ("id", bank)
    # The details shown are read again: their diagnostics now include the format error.
    qtbot.waitUntil(lambda: window.assets.shown is not None and any(
        d.code == "PK130" for d in window.assets.shown.details.diagnostics))
    navigator.errors_only.setChecked(True)
    assert [r.key for r in navigator.visible_rows()] == [("id", bank)]


def test_a_mutation_changes_only_its_row_and_runs_no_listing(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=3, unregistered=1)
    window = open_and_list(qtbot, studio, project.root)
    navigator = window.assets.navigator
    other = navigator.model.itemFromIndex(navigator._index_of(("id", 2)))
    other.setData("untouched", MARK)
    started: list[str] = []

    def record(info: JobInfo) -> None:
        started.append(info.label)

    studio.pool.job_started.connect(record)
    panel = window.assets.action_panel
    assert navigator.select(("id", 1))
    qtbot.waitUntil(lambda: MutationAction.EXCLUDE in panel.buttons and not studio.pool.busy)
    panel.buttons[MutationAction.EXCLUDE].click()
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=10_000)
    with qtbot.waitSignal(panel.applied, timeout=10_000):
        panel.apply_button.click()
    qtbot.waitUntil(lambda: navigator.row_for(("id", 1)).state  # type: ignore[union-attr]
                    is RowState.EXCLUDED, timeout=10_000)
    qtbot.waitUntil(lambda: not studio.pool.busy)
    assert not [label for label in started if label.startswith("Scan")], started
    item = navigator.model.itemFromIndex(navigator._index_of(("id", 2)))
    assert item.data(MARK) == "untouched"
    assert navigator.selected_key() == ("id", 1)
    qtbot.waitUntil(lambda: window.assets.shown is not None
                    and not window.assets.shown.details.included_in_build)
    assert studio.session is not None and studio.session.listing is not None
    assert [len(studio.session.listing.assets), len(navigator.rows())] == [4, 4]
    # Removing one: its row goes, still without a listing.
    assert navigator.select(("root", "wip/loose_0"))
    qtbot.waitUntil(lambda: MutationAction.REMOVE in panel.buttons and not studio.pool.busy)
    panel.buttons[MutationAction.REMOVE].click()
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=10_000)
    with qtbot.waitSignal(panel.applied, timeout=10_000):
        panel.apply_button.click()  # the scripted prompter consents to the deletion
    qtbot.waitUntil(lambda: navigator.row_for(("root", "wip/loose_0")) is None, timeout=10_000)
    qtbot.waitUntil(lambda: not studio.pool.busy)
    assert [len(studio.session.listing.assets), len(navigator.rows())] == [3, 3]
    assert not [label for label in started if label.startswith("Scan")], started


def test_a_click_loading_is_not_taken_back_by_findings_about_the_asset_shown_before(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Findings about the shown asset re-read its details, but not while the user's click on
    another asset is loading: that click's details are what the panel shows next."""
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    window = open_and_list(qtbot, studio, project.root)
    assert studio.session is not None
    workspace = window.assets
    assert workspace.select_asset(("id", 1))
    qtbot.waitUntil(lambda: workspace.shown is not None and workspace.shown.key == ("id", 1))
    assert workspace.shown is not None
    first_root = workspace.shown.details.root
    release = threading.Event()

    def held_for_the_second(project: Project, asset: int | str, *args: Any, **kw: Any) -> Any:
        if asset == 2:
            release.wait(30)
        return get_asset_details(project, asset, *args, **kw)

    monkeypatch.setattr(session_module, "get_asset_details", held_for_the_second)
    assert workspace.select_asset(("id", 2))  # the click: its read is held
    finding = DiagnosticSummary(code="PK130", severity="error", message="broken",
                                root=first_root)
    found = event("op-b", 2, EventKind.DIAGNOSTICS_UPDATED, operation="build",
                  project=project.project_id)
    found = found.model_copy(update={"detail": DiagnosticsUpdatedDetail(
        errors=1, diagnostics=(finding,))})
    studio.bus.publish(PackerEventsDelivered((LaneEvent(found),)))
    release.set()
    qtbot.waitUntil(lambda: workspace.shown is not None and workspace.shown.key == ("id", 2),
                    timeout=10_000)
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
    assert workspace.shown is not None and workspace.shown.key == ("id", 2)
