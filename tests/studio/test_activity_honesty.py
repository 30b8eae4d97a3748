"""Honest remapping, replays that know their project, and a build status per project."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from packer.lane.events import (
    AffectedAsset,
    BuildFinishedDetail,
    DiagnosticsUpdatedDetail,
    EventKind,
    Outcome,
)
from packer.lane.operation import Operation
from packer.lane.sinks import JsonLinesSink
from studio.panels.activity.inspection import InspectionPane
from studio.panels.activity.journal import ActivityJournal, JournalEntry, journal_path
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.presentation import (
    COL_OPERATION,
    burst_status,
    burst_tooltip,
    event_row,
    status_text,
)
from studio.panels.activity.records import BurstNode, EventNode, OperationStatus
from studio.panels.activity.replay import start_replay
from studio.services.event_lane import EventLane
from studio.services.lane_items import LaneEvent
from tests.studio.helpers import ScriptedPrompter, open_and_list, running_studio
from tests.studio.lane_events import event, finished
from tests.studio.synthetic import make_raw_project

FONT = AffectedAsset(asset_id=2, root="fonts/main", name="font")


def _read(op: str, outcome: Outcome) -> LaneEvent:
    end = event(op, 1, EventKind.DIAGNOSTICS_UPDATED, operation="list", terminal=True,
                outcome=outcome)
    if outcome is Outcome.CANCELLED:
        end = finished(op, 1, Outcome.CANCELLED, operation="list").model_copy(
            update={"kind": EventKind.ACTION_FAILED})
    else:
        end = end.model_copy(update={"detail": DiagnosticsUpdatedDetail()})
    return LaneEvent(end)


def _fold(model: ActivityModel) -> BurstNode:
    node = model.node(model.index(0, 0))
    assert isinstance(node, BurstNode)
    return node


def test_a_cancelled_fold_says_cancelled_and_claims_no_cause(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply([_read(f"r{n}", Outcome.CANCELLED) for n in range(3)])
    burst = _fold(model)
    assert burst_status(burst) is OperationStatus.CANCELLED
    accessible = model.index(0, 0).data(Qt.ItemDataRole.AccessibleTextRole)
    assert accessible == "3 routine reads: 3 cancelled"
    tooltip = model.index(0, COL_OPERATION).data(Qt.ItemDataRole.ToolTipRole)
    assert "3 cancelled" in tooltip and "succeeded" not in tooltip
    assert "Studio runs" not in tooltip and "every selection" not in tooltip


def test_a_mixed_fold_counts_each_outcome(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply([_read("a", Outcome.SUCCEEDED), _read("b", Outcome.CANCELLED),
                 _read("c", Outcome.SUCCEEDED)])
    burst = _fold(model)
    assert burst_status(burst) is OperationStatus.CANCELLED  # the one that needs a look
    assert "2 succeeded" in burst_tooltip(burst) and "1 cancelled" in burst_tooltip(burst)


def _log_with_open_operation(path: Path, project: str = "p") -> None:
    stream = io.StringIO()
    sink = JsonLinesSink(stream)
    killed = Operation(sink, project_id=project, operation="doctor")  # the CI job died here
    killed.emit(EventKind.ASSET_DISCOVERED, "checking", affected=(FONT,))
    with Operation(sink, project_id=project, operation="build") as build:
        build.emit(EventKind.BUILD_STARTED, "Build started", affected=(FONT,))
        build.finish(EventKind.BUILD_FINISHED, Outcome.BLOCKED, "Build blocked: 1 error",
                     detail=BuildFinishedDetail(), affected=(FONT,))
    path.write_text(stream.getvalue() + "not json\n{}\n", encoding="utf-8")


def test_a_replayed_operation_without_terminal_is_incomplete_as_in_history(
    qtbot: QtBot, tmp_path: Path
) -> None:
    log = tmp_path / "ci.jsonl"
    _log_with_open_operation(log)
    lane = EventLane()
    model = ActivityModel()
    lane.events_delivered.connect(model.apply)
    start_replay(log, lane).join()
    qtbot.waitUntil(lambda: len(model.operations()) == 2 and not model.running_operations())
    doctor = next(r for r in model.operations() if r.operation == "doctor")
    assert doctor.status is OperationStatus.INCOMPLETE and not doctor.pinned
    assert doctor.summary == "checking"  # the log's own last word, not an invented failure
    assert doctor.terminal is not None and doctor.terminal.made_by_lane
    assert "the log ends before this operation's terminal" in doctor.terminal.event.summary

    history = tmp_path / "activity.jsonl"
    history.write_bytes(JournalEntry(event("h", 1, operation="doctor")).to_line())
    restored = ActivityModel()
    restored.restore(ActivityJournal(history).load())
    from_history = restored.operation("h")
    assert from_history is not None
    assert status_text(from_history) == status_text(doctor) == "incomplete"


def test_the_lane_s_failure_for_a_dead_worker_carries_the_exception(qtbot: QtBot) -> None:
    lane = EventLane()
    model = ActivityModel()
    lane.events_delivered.connect(model.apply)
    sink = lane.open_sink("Build game")
    sink.publish(event("w", 1, EventKind.BUILD_STARTED, operation="build"))
    sink.close(RuntimeError("disk on fire"))
    qtbot.waitUntil(lambda: not model.running_operations() and bool(model.operations()))
    rec = model.operation("w")
    assert rec is not None and rec.status is OperationStatus.FAILED and rec.pinned
    assert "RuntimeError: disk on fire" in rec.summary
    last = rec.children[-1]
    assert isinstance(last, EventNode)
    assert event_row(last)[1].startswith("action_failed (made by the Studio): ")


def test_a_foreign_replay_links_nothing_and_leaves_the_build_status_alone(
    qtbot: QtBot, tmp_path: Path
) -> None:
    log = tmp_path / "ci.jsonl"
    _log_with_open_operation(log, project="someone-else")
    project = make_raw_project(tmp_path / "game", registered=3, unregistered=0, name="game")
    prompter = ScriptedPrompter()
    with running_studio(prompter) as studio:
        window = open_and_list(qtbot, studio, project.root)
        assert window.run_surface.status_text == "No build yet"
        reports: list[object] = []
        studio.replay_reported.connect(reports.append)
        studio.replay_when_open(log)
        qtbot.waitUntil(lambda: bool(reports), timeout=10_000)
        model = studio.activity_model
        assert model is not None
        qtbot.waitUntil(lambda: any(r.operation == "build" and not r.running
                                    for r in model.operations()), timeout=10_000)
        assert window.run_surface.status_text == "No build yet"
        # Malformed lines are counted and shown, not only logged.
        assert "2 lines skipped, not events (line 4, 5)" in window.statusBar().currentMessage()
        build = next(r for r in model.operations() if r.operation == "build")
        pane = InspectionPane(project_id=model.project_id)
        qtbot.addWidget(pane)
        pane.show_node(build)
        links: list[object] = []
        pane.asset_link_activated.connect(links.append)
        pane.activate_asset(0)
        assert links == []
        assert 'href="asset:' not in pane.browser.toHtml()
        assert "From another project (someone-else)" in pane.browser.toPlainText()
        assert studio.activity_panel is not None
        assert studio.activity_panel.inspection.project_id == model.project_id


def test_a_missing_replay_log_is_one_clear_message_and_no_rows(
    qtbot: QtBot, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=1, unregistered=0, name="game")
    prompter = ScriptedPrompter()
    with running_studio(prompter) as studio:
        window = open_and_list(qtbot, studio, project.root)
        model = studio.activity_model
        assert model is not None
        before = {r.operation_id for r in model.operations()}
        studio.replay_when_open(tmp_path / "nope.jsonl")
        qtbot.waitUntil(lambda: prompter.kinds().count("refuse") == 1 and not studio.pool.busy,
                        timeout=10_000)
        studio.lane.drain_now()
        assert {r.operation_id for r in model.operations()} == before  # no rows at all
        assert model.unacknowledged_failures == 0
        [(_, _title, text)] = [q for q in prompter.asked if q[0] == "refuse"]
        assert "cannot read event log" in text and "nope.jsonl" in text
        assert "Traceback" not in window.logs.text.toPlainText()


def _history_with_build(root: Path, project_id: str, outcome: Outcome, summary: str) -> None:
    path = journal_path(root)
    path.parent.mkdir(exist_ok=True)
    end = finished("b1", 2, outcome, operation="build", summary=summary, project=project_id)
    start = event("b1", 1, EventKind.BUILD_STARTED, operation="build", project=project_id)
    path.write_bytes(JournalEntry(start).to_line() + JournalEntry(end).to_line())


def test_each_project_shows_its_own_last_build(qtbot: QtBot, tmp_path: Path) -> None:
    first = make_raw_project(tmp_path / "first", registered=1, unregistered=0, name="first")
    second = make_raw_project(tmp_path / "second", registered=1, unregistered=0, name="second")
    _history_with_build(first.root, first.project_id, Outcome.BLOCKED, "Build blocked: 1 error")
    with running_studio(ScriptedPrompter()) as studio:
        window = open_and_list(qtbot, studio, first.root)
        assert window.run_surface.status_text == "Build blocked: 1 error"
        open_and_list(qtbot, studio, second.root)
        assert window.run_surface.status_text == "No build yet"
        assert window.run_surface.build_button.isEnabled()
        open_and_list(qtbot, studio, first.root)
        assert window.run_surface.status_text == "Build blocked: 1 error"
    lines = journal_path(first.root).read_text().splitlines()
    assert json.loads(lines[1])["outcome"] == "blocked"
