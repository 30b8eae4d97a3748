"""Activity history: append + fsync on the writer thread, restore, the 500 cap, torn lines,
acknowledgements, nothing lost on close."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from packer.lane.events import Outcome
from studio.panels.activity import journal as journal_module
from studio.panels.activity.journal import CAP, ActivityJournal, JournalEntry, journal_path
from studio.panels.activity.journal_writer import JournalWriter
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.records import OperationStatus
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import event, finished, progress

Writers = Callable[[Path], JournalWriter]


def test_history_round_trips_and_restores_statuses(
    qtbot: QtBot, tmp_path: Path, journal_writer: Writers
) -> None:
    path = journal_path(tmp_path)
    model = ActivityModel(journal_writer(path))
    model.apply([
        LaneEvent(event("a", 1)), LaneEvent(progress("a", 2, done=1)),
        LaneEvent(finished("a", 3, Outcome.FAILED)),
        LaneEvent(event("b", 1)), LaneEvent(finished("b", 2)),
        LaneEvent(event("c", 1)),  # still running when the Studio closes
        LaneEvent(finished("d", 1, Outcome.FAILED), made_by_lane=True),
    ])
    model.acknowledge(["d"])
    assert model.flush_journal(timeout=10)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 7  # six events, then the acknowledgement, appended
    assert all("acknowledged" in line and "operation_id" in line for line in lines[:6])
    assert lines[6] == {"acknowledged_operations": ["d"]}
    assert not any(line.get("kind") == "progress_updated" for line in lines)

    restored = ActivityModel()
    restored.restore(ActivityJournal(path).load())
    status = {rec.operation_id: rec.status for rec in restored.operations()}
    assert status == {
        "a": OperationStatus.FAILED, "b": OperationStatus.SUCCEEDED,
        "c": OperationStatus.INCOMPLETE, "d": OperationStatus.FAILED,
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


def test_the_gui_thread_never_writes_the_history(
    qtbot: QtBot, tmp_path: Path, journal_writer: Writers, monkeypatch: pytest.MonkeyPatch
) -> None:
    writing_threads: set[str] = set()
    real_flush, real_rewrite = ActivityJournal.flush, ActivityJournal._rewrite

    def flush(self: ActivityJournal) -> None:
        writing_threads.add(threading.current_thread().name)
        real_flush(self)

    def rewrite(self: ActivityJournal, entries: list[JournalEntry]) -> None:
        writing_threads.add(threading.current_thread().name)
        real_rewrite(self, entries)

    monkeypatch.setattr(ActivityJournal, "flush", flush)
    monkeypatch.setattr(ActivityJournal, "_rewrite", rewrite)
    path = journal_path(tmp_path)
    model = ActivityModel(journal_writer(path))
    model.apply([LaneEvent(event("a", 1)), LaneEvent(finished("a", 2, Outcome.FAILED))])
    model.acknowledge(["a"])
    assert model.flush_journal(timeout=10)
    assert writing_threads == {"activity-journal-writer"}
    assert threading.current_thread() is threading.main_thread()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line.get("acknowledged") for line in lines] == [False, False, None]
    assert lines[2] == {"acknowledged_operations": ["a"]}  # appended after its events


class _OsWithFsync:
    """The journal module's `os`, with fsync counted."""

    def __init__(self, fsync: Callable[[int], None]) -> None:
        self.fsync = fsync

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)


def test_nothing_is_lost_on_close_and_writes_are_batched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsyncs = 0
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        nonlocal fsyncs
        fsyncs += 1
        real_fsync(fd)

    monkeypatch.setattr(journal_module, "os", _OsWithFsync(counting_fsync))
    path = tmp_path / "activity.jsonl"
    writer = JournalWriter(ActivityJournal(path), interval=60)  # only close may write the rest
    for i in range(200):
        writer.append([JournalEntry(finished(f"op{i}", 1))])
    writer.close()
    assert not writer.alive
    loaded = ActivityJournal(path).load()
    assert [e.event.operation_id for e in loaded] == [f"op{i}" for i in range(200)]
    assert fsyncs <= 2  # one batch (maybe two: the first append may be written alone)
    writer.append([JournalEntry(finished("late", 1))])  # after close: refused, not raised
    assert len(ActivityJournal(path).load()) == 200


def test_a_disk_error_is_counted_and_logged_never_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the .studio folder should be")
    writer = JournalWriter(ActivityJournal(blocker / "activity.jsonl"))
    writer.append([JournalEntry(finished("x", 1))])
    assert writer.flush(timeout=10)
    writer.close()
    assert writer.errors == 1
    assert "could not be written" in caplog.text
