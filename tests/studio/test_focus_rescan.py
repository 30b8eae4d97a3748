"""Coming back to the Studio from another program rescans the open project (throttled, never
while a rescan runs), unless the setting is off; the setting is kept in settings.json."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from packer.doctor.rescan import RescanReport, rescan_snapshot
from packer.doctor.scan_record import load_scan_record
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind
from packer.lane.sinks import EventSink
from packer.workspace.scan import WorkspaceSnapshot
from studio.app import StudioApp
from studio.services import session as session_module
from studio.services.workers import JobInfo
from studio.shell.main_window import MainWindow
from studio.shell.settings import StudioSettings, load_settings, save_settings
from tests.studio.helpers import open_and_list
from tests.studio.synthetic import make_raw_project


@pytest.fixture
def other_program(qtbot: QtBot) -> QWidget:
    """Another top-level window to take the focus away, as another program would."""
    widget = QWidget()
    widget.setWindowTitle("another program")
    qtbot.addWidget(widget)
    return widget


def rescans_started(studio: StudioApp) -> list[JobInfo]:
    """Rescan jobs as they are submitted (the decision to rescan is taken on activation)."""
    started: list[JobInfo] = []
    studio.pool.job_started.connect(
        lambda info: started.append(info) if info.label.startswith("Rescan") else None)
    return started


def come_back(qtbot: QtBot, window: MainWindow, other: QWidget) -> None:
    """Leave the Studio for another window, then activate the Studio's window again."""
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow())
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def test_coming_back_to_the_window_rescans_once_and_reports_an_edit(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, other_program: QWidget
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    window = open_and_list(qtbot, studio, project.root)
    started = rescans_started(studio)
    (project.assets_dir / "raw/blob_00000/data.bin").write_bytes(b"edited elsewhere")

    come_back(qtbot, window, other_program)

    assert len(started) == 1
    # The Studio's own work: on the background lane (the user's work cancels it, closing
    # does not ask about it).
    assert started[0].background and not studio.pool.busy_for_user
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=30_000)
    assert studio.activity_model is not None
    latest = next(op for op in studio.activity_model.operations() if op.operation == "rescan")
    assert EventKind.ASSET_CHANGED in latest.kinds and latest.assets == {"raw/blob_00000"}


def test_a_second_return_within_the_throttle_does_not_rescan(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, other_program: QWidget
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    studio.focus_rescan.interval_s = 3600.0
    started = rescans_started(studio)
    come_back(qtbot, window, other_program)
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=30_000)
    come_back(qtbot, window, other_program)  # seconds later, the previous rescan over
    assert len(started) == 1


def test_a_return_within_the_throttle_rescans_when_it_ends(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, other_program: QWidget
) -> None:
    # The user edits in another program and comes back a few seconds after the last focus
    # rescan: the edit must still show up, once the throttle allows.
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    window = open_and_list(qtbot, studio, project.root)
    # The baseline the Studio takes after opening is recorded before the edit (else it would
    # take the edited file as its baseline, and the rescan would find nothing new).
    qtbot.waitUntil(lambda: load_scan_record(project, project.project_id).record is not None
                    and not studio.pool.busy, timeout=30_000)
    studio.focus_rescan.interval_s = 0.5
    studio.focus_rescan.last = time.monotonic()  # a focus rescan just ran
    started = rescans_started(studio)
    (project.assets_dir / "raw/blob_00000/data.bin").write_bytes(b"edited elsewhere")
    come_back(qtbot, window, other_program)
    assert started == []  # throttled: not now…
    qtbot.waitUntil(lambda: len(started) == 1, timeout=10_000)  # …but when the throttle ends
    model = studio.activity_model
    assert model is not None
    qtbot.waitUntil(lambda: any(op.operation == "rescan" and not op.running
                                and EventKind.ASSET_CHANGED in op.kinds
                                for op in model.operations()), timeout=30_000)
    latest = next(op for op in model.operations() if op.operation == "rescan")
    assert latest.assets == {"raw/blob_00000"}


def test_leaving_again_within_the_throttle_drops_the_deferred_rescan(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, other_program: QWidget
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    studio.focus_rescan.interval_s = 3600.0
    studio.focus_rescan.last = time.monotonic()
    come_back(qtbot, window, other_program)
    assert studio.focus_rescan.deferred.isActive()
    other_program.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow())
    assert not studio.focus_rescan.deferred.isActive()  # the next return decides again


def test_no_focus_rescan_while_a_rescan_runs(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, other_program: QWidget,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    studio.focus_rescan.interval_s = 0.0
    release = threading.Event()

    def held_rescan(project: Project, sink: EventSink, token: CancellationToken
                    ) -> tuple[RescanReport, WorkspaceSnapshot]:
        release.wait(30)
        return rescan_snapshot(project, sink, token)

    monkeypatch.setattr(session_module, "rescan_snapshot", held_rescan)
    started = rescans_started(studio)
    try:
        window.rescan_action.trigger()  # F5: a rescan is running…
        assert studio.session is not None and studio.session.rescanning
        come_back(qtbot, window, other_program)  # …so coming back adds none
    finally:
        release.set()
    assert len(started) == 1
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=30_000)
    assert not studio.session.rescanning


def test_with_the_setting_off_coming_back_does_not_rescan_and_the_setting_is_kept(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, other_program: QWidget
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    studio.focus_rescan.interval_s = 0.0
    started = rescans_started(studio)
    window.rescan_on_focus_action.trigger()  # Assets ▸ Rescan When the Studio Is Focused: off
    assert not window.rescan_on_focus_action.isChecked()
    come_back(qtbot, window, other_program)
    assert started == []
    qtbot.waitUntil(lambda: not load_settings().rescan_on_focus and not studio.pool.busy,
                    timeout=10_000)


def test_the_saved_setting_is_shown_in_the_menu_at_start(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    save_settings(StudioSettings(rescan_on_focus=False))
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    assert not studio.settings.rescan_on_focus
    assert not window.rescan_on_focus_action.isChecked()


def test_a_corrupt_settings_file_gives_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{not json")
    assert load_settings(tmp_path) == StudioSettings()
    (tmp_path / "settings.json").write_text('{"rescan_on_focus": "perhaps"}')
    assert load_settings(tmp_path) == StudioSettings()
