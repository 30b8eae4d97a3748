"""Replaying a JSON-lines event log through the lane into the Activity panel."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from packer.lane.events import ActionFailedDetail, EventKind, Outcome
from packer.lane.operation import Operation
from packer.lane.sinks import JsonLinesSink, ListSink
from studio.__main__ import parse_args
from studio.panels.activity.journal import ActivityJournal, journal_path
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import ActivityPanel
from studio.panels.activity.presentation import COL_OPERATION, REPLAY_MARK
from studio.panels.activity.records import OperationStatus
from studio.panels.activity.replay import ReplayError, replay_events, start_replay
from studio.services.event_lane import EventLane
from tests.studio.helpers import ScriptedPrompter, running_studio
from tests.studio.synthetic import make_raw_project


def write_log(path: Path) -> None:
    stream = io.StringIO()
    sink = JsonLinesSink(stream)
    with Operation(sink, project_id="p", operation="scan") as scan:
        for n in range(30):
            scan.emit(EventKind.ASSET_DISCOVERED, f"found asset {n}")
            scan.progress(n + 1, 30, force=True)
        scan.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "scan finished")
    with Operation(sink, project_id="p", operation="build") as build:
        build.finish(EventKind.ACTION_FAILED, Outcome.FAILED, "build failed: disk full",
                     detail=ActionFailedDetail(action="build", error="disk full"))
    killed = Operation(sink, project_id="p", operation="doctor")  # the CI job died here
    killed.emit(EventKind.DIAGNOSTICS_UPDATED, "checking")
    path.write_text(stream.getvalue() + "not json at all\n", encoding="utf-8")


def test_replay_publishes_events_in_file_order_and_skips_bad_lines(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    write_log(log)
    sink = ListSink()
    report = replay_events(log, sink)
    assert report.events == 63  # scan 30 + 30 + 1, build 1, doctor 1: nothing invented
    assert report.skipped_lines == (64,)
    assert sink.kinds()[:3] == ["asset_discovered", "progress_updated", "asset_discovered"]


def test_replay_of_a_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="cannot read event log"):
        replay_events(tmp_path / "nope.jsonl", ListSink())


def test_replay_feeds_the_activity_panel_through_the_lane(qtbot: QtBot, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    write_log(log)
    lane = EventLane()
    model = ActivityModel()
    lane.events_delivered.connect(model.apply)
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    thread = start_replay(log, lane)
    qtbot.waitUntil(lambda: model.rowCount() == 3 and not model.running_operations())
    thread.join()
    by_name = {rec.operation: rec for rec in model.operations()}
    assert by_name["scan"].status is OperationStatus.SUCCEEDED
    assert by_name["scan"].events_total == 31
    assert by_name["scan"].progress_updates == 30
    assert by_name["build"].status is OperationStatus.FAILED
    doctor = by_name["doctor"]
    # Left without a terminal: ended by the lane (never a spinner), incomplete as in history.
    assert doctor.status is OperationStatus.INCOMPLETE
    assert doctor.terminal is not None and doctor.terminal.made_by_lane
    assert panel.unacknowledged_failures == 1  # the build's own failure


def test_studio_replays_a_log_into_the_open_projects_activity_panel(
    qtbot: QtBot, tmp_path: Path
) -> None:
    log = tmp_path / "ci-events.jsonl"
    write_log(log)
    assert parse_args(["--replay", str(log)]).replay == log
    project = make_raw_project(tmp_path / "game", registered=1, unregistered=0, name="game")
    with running_studio(ScriptedPrompter()) as studio:
        studio.replay_when_open(log)  # before any project is open: waits for one
        with qtbot.waitSignal(studio.project_opened, timeout=10_000):
            studio.start(project.root)

        def replayed() -> bool:
            # The replayed log and the project's own listing arrive on separate paths: wait
            # for both (on a loaded machine the listing can end after the replay).
            model = studio.activity_model
            if model is None:
                return False
            ended = [r for r in model.operations() if not r.running]
            return {"build", "doctor"} <= {r.operation for r in ended} and any(
                r.origin is None for r in ended
            ) and not studio.pool.busy and studio.lane.is_idle()  # its background work too

        qtbot.waitUntil(replayed, timeout=10_000)
        model = studio.activity_model
        assert model is not None
        # (The project's own background validation is a doctor too: the replayed one.)
        doctor = next(r for r in model.operations()
                      if r.operation == "doctor" and r.origin is not None)
        assert doctor.terminal is not None and doctor.terminal.made_by_lane
        from_log = [r for r in model.operations() if r.origin is not None]
        assert {r.operation for r in from_log} == {"scan", "build", "doctor"}
        assert {r.origin for r in from_log} == {"replayed from ci-events.jsonl"}
        build_row = model.index_of(next(r for r in from_log if r.operation == "build"),
                                   COL_OPERATION)
        assert build_row.data() == REPLAY_MARK + "build failed: disk full"
        assert "Replayed from ci-events.jsonl" in build_row.data(Qt.ItemDataRole.ToolTipRole)
        own = {r.operation_id for r in model.operations() if r.origin is None}
        assert own  # the project's own listing
    # Closed: the project's history holds its own work, never the replayed log's.
    history = ActivityJournal(journal_path(project.root)).load()
    assert history and {e.event.operation_id for e in history} <= own
