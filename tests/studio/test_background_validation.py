"""After a project opens, the Studio validates it in the background (doctor, after the
baseline scan): the findings fill the navigator's badges and the "Has errors" filter shows an
asset whose format is broken, without the user running doctor; the user's work goes first."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from packer.doctor.service import DoctorReport, doctor
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.sinks import EventSink
from studio.app import StudioApp
from studio.panels.activity.records import OperationStatus
from studio.services import session as session_module
from tests.studio.helpers import open_and_list
from tests.studio.synthetic import add_sound_bank, make_raw_project


def broken_sound_project(tmp_path: Path) -> tuple[Project, int]:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    asset_id = add_sound_bank(project, "sfx/broken")
    (project.assets_dir / "sfx/broken/beep.wav").write_bytes(b"")  # a zero-byte WAV
    return project, asset_id


def test_background_validation_marks_a_zero_byte_wav_as_an_error_and_the_filter_shows_it(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project, asset_id = broken_sound_project(tmp_path)
    window = open_and_list(qtbot, studio, project.root)  # waits for the background work too
    navigator = window.assets.navigator
    key = ("id", asset_id)
    qtbot.waitUntil(lambda: (row := navigator.row_for(key)) is not None and row.errors > 0,
                    timeout=15_000)
    row = navigator.row_for(key)
    assert row is not None and not row.unchecked and "✖" in row.badge
    # The other assets were validated too (no "?" left), and are clean.
    assert all(not r.unchecked and r.errors == 0 for r in navigator.rows() if r.key != key)
    assert studio.activity_model is not None
    [validation] = [op for op in studio.activity_model.operations() if op.operation == "doctor"]
    assert validation.status is OperationStatus.BLOCKED  # its error blocks a build

    navigator.errors_only.setChecked(True)  # the "Has errors" filter
    assert [r.key for r in navigator.visible_rows()] == [key]


def test_before_validation_the_broken_asset_is_unchecked_not_an_error(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the badge said without background validation: unknown ("?"), and the filter hid
    it; the validation is what turns it into an error."""
    project, asset_id = broken_sound_project(tmp_path)
    release = threading.Event()

    def held_doctor(project: Project, *, sink: EventSink, token: CancellationToken
                    ) -> DoctorReport:
        release.wait(30)
        return doctor(project, sink=sink, token=token)

    monkeypatch.setattr(session_module, "doctor", held_doctor)
    with qtbot.waitSignal(studio.project_opened, timeout=10_000):
        studio.start(project.root)
    window = studio.window
    assert window is not None
    navigator = window.assets.navigator
    key = ("id", asset_id)
    try:
        qtbot.waitUntil(lambda: navigator.row_for(key) is not None, timeout=15_000)
        row = navigator.row_for(key)
        assert row is not None and row.unchecked and row.errors == 0
        assert window.asset_counts.text() == "3 assets"
        navigator.errors_only.setChecked(True)
        assert navigator.visible_rows() == []
    finally:
        release.set()
    qtbot.waitUntil(lambda: [r.key for r in navigator.visible_rows()] == [key], timeout=15_000)
    # The status bar counts what the navigator now shows, not the listing made before.
    assert window.asset_counts.text() == "3 assets · 1 with errors"
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=15_000)


def test_a_click_is_not_queued_behind_the_validation_and_a_build_cancels_it(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _asset_id = broken_sound_project(tmp_path)
    started = threading.Event()

    def endless_doctor(project: Project, *, sink: EventSink, token: CancellationToken
                       ) -> DoctorReport:
        started.set()
        token.wait(30)  # until cancelled
        return doctor(project, sink=sink, token=token)  # raises OperationCancelled at once

    monkeypatch.setattr(session_module, "doctor", endless_doctor)
    with qtbot.waitSignal(studio.project_opened, timeout=10_000):
        studio.start(project.root)
    window = studio.window
    assert window is not None and studio.session is not None
    qtbot.waitUntil(started.is_set, timeout=15_000)
    # A click: the details arrive while the validation still runs.
    window.assets.select_asset(("id", 1))
    qtbot.waitUntil(lambda: window.assets.shown is not None, timeout=15_000)
    assert started.is_set() and studio.pool.busy
    # Opening another project does not ask about the Studio's own background work.
    assert not studio.pool.busy_for_user
    # A build: it runs, and the validation is cancelled (no failure said).
    with qtbot.waitSignal(studio.build_ended, timeout=30_000):
        window.build_action.trigger()
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=30_000)
    assert studio.activity_model is not None
    [validation] = [op for op in studio.activity_model.operations() if op.operation == "doctor"]
    assert validation.status is OperationStatus.CANCELLED
    assert "failed" not in window.logs.contents()
