"""Activity history: append + fsync, restore, the 500 cap, torn lines, acknowledgements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from packer.events import Outcome
from studio.activity.journal import CAP, ActivityJournal, JournalEntry, journal_path
from studio.activity.model import ActivityModel
from studio.activity.records import OperationStatus
from studio.event_lane import LaneEvent
from tests.studio.lane_events import event, finished, progress


def test_history_round_trips_and_restores_statuses(qtbot: QtBot, tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    model = ActivityModel(ActivityJournal(path))
    model.apply([
        LaneEvent(event("a", 1)), LaneEvent(progress("a", 2, done=1)),
        LaneEvent(finished("a", 3, Outcome.FAILED)),
        LaneEvent(event("b", 1)), LaneEvent(finished("b", 2)),
        LaneEvent(event("c", 1)),  # still running when the Studio closes
        LaneEvent(finished("d", 1, Outcome.FAILED), made_by_lane=True),
    ])
    model.acknowledge(["d"])
    qtbot.waitUntil(lambda: path.exists() and len(path.read_text().splitlines()) == 6)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert all("acknowledged" in line and "operation_id" in line for line in lines)
    assert not any(line["kind"] == "progress_updated" for line in lines)

    restored = ActivityModel()
    restored.restore(ActivityJournal(path).load())
    status = {rec.operation_id: rec.status for rec in restored.operations()}
    assert status == {
        "a": OperationStatus.FAILED, "b": OperationStatus.SUCCEEDED,
        "c": OperationStatus.INTERRUPTED, "d": OperationStatus.FAILED,
    }
    assert restored.unacknowledged_failures == 1  # "d" was acknowledged before closing
    record_d = restored.operation("d")
    assert record_d is not None and record_d.terminal is not None
    assert record_d.terminal.made_by_lane


def test_history_is_trimmed_to_the_newest_500(tmp_path: Path) -> None:
    journal = ActivityJournal(tmp_path / "activity.jsonl")
    journal.append(JournalEntry(finished(f"op{i}", 1)) for i in range(CAP + 300))
    journal.flush()
    assert len((tmp_path / "activity.jsonl").read_bytes().splitlines()) <= CAP + 250
    loaded = ActivityJournal(tmp_path / "activity.jsonl").load()
    assert len(loaded) == CAP
    assert loaded[-1].event.operation_id == f"op{CAP + 299}"
    assert loaded[0].event.operation_id == "op300"
    assert len((tmp_path / "activity.jsonl").read_bytes().splitlines()) == CAP


def test_a_torn_last_line_is_skipped_with_a_warning_and_healed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "activity.jsonl"
    good = JournalEntry(finished("ok", 1)).to_line()
    path.write_bytes(good + good.replace(b'"ok"', b'"ok2"')[:40])  # a crash mid-write
    journal = ActivityJournal(path)
    loaded = journal.load()
    assert [e.event.operation_id for e in loaded] == ["ok"]
    assert journal.skipped_on_load == 1
    assert "torn last line 2" in caplog.text
    journal.append([JournalEntry(finished("next", 1))])
    journal.flush()
    reloaded = ActivityJournal(path).load()
    assert [e.event.operation_id for e in reloaded] == ["ok", "next"]


def test_appends_never_glue_onto_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "activity.jsonl"
    journal = ActivityJournal(path)
    journal.load()
    path.write_bytes(b'{"torn": ')  # torn after load, e.g. by another process crashing
    journal.append([JournalEntry(finished("after", 1))])
    journal.flush()
    assert [e.event.operation_id for e in ActivityJournal(path).load()] == ["after"]


def test_garbage_history_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "activity.jsonl"
    path.write_bytes(b"\xff\xfe not json\n[1,2]\n{}\n")
    assert ActivityJournal(path).load() == []
    assert caplog.text.count("malformed") == 3
