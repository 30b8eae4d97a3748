"""The Operation publishing context: sequence, terminals, failures, cancellation, throttling."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

import pytest

from packer.lane.cancellation import CancellationToken, OperationCancelled
from packer.lane.events import (
    ActionFailedDetail,
    AffectedAsset,
    EventKind,
    Outcome,
    PackerEvent,
    Progress,
    ProgressUpdatedDetail,
    parse_event_line,
)
from packer.lane.operation import Operation, TerminalAlreadyPublished
from packer.lane.sinks import JsonLinesSink, ListSink, NullSink


def test_sequence_is_gap_free_from_one_across_threads() -> None:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="scan")

    def work() -> None:
        for _ in range(500):
            op.emit(EventKind.ASSET_DISCOVERED, "x")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    sequences = [e.sequence for e in sink.events]
    assert sequences == list(range(1, 2002))
    assert [e.terminal for e in sink.events].count(True) == 1


def test_nothing_follows_a_terminal() -> None:
    op = Operation(ListSink(), project_id="p", operation="scan")
    op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    with pytest.raises(TerminalAlreadyPublished):
        op.emit(EventKind.ASSET_CHANGED, "late")
    op.progress(5, 10)  # silently ignored, never published


def test_an_exception_ends_the_operation_with_action_failed_and_propagates() -> None:
    sink = ListSink()
    with pytest.raises(ValueError, match="boom"), Operation(
        sink, project_id="p", operation="doctor"
    ) as op:
        op.emit(EventKind.ASSET_DISCOVERED, "x")
        raise ValueError("boom")
    last = sink.events[-1]
    assert last.kind is EventKind.ACTION_FAILED
    assert last.terminal and last.outcome is Outcome.FAILED
    assert isinstance(last.detail, ActionFailedDetail)
    assert last.detail.error == "boom" and last.detail.error_type == "ValueError"


def test_cancellation_ends_with_outcome_cancelled() -> None:
    sink = ListSink()
    token = CancellationToken()
    with pytest.raises(OperationCancelled), Operation(
        sink, project_id="p", operation="scan", token=token
    ) as op:
        token.cancel()
        op.check_cancelled()
    assert sink.events[-1].outcome is Outcome.CANCELLED


def test_a_body_that_returns_without_terminal_still_gets_one() -> None:
    sink = ListSink()
    with Operation(sink, project_id="p", operation="scan"):
        pass
    assert [e.kind for e in sink.events] == [EventKind.ACTION_FAILED]
    assert sink.events[0].outcome is Outcome.FAILED


def test_progress_is_throttled_keeps_first_and_last_and_never_goes_back() -> None:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="build")
    for done in range(0, 10_001):
        op.progress(done, 10_000)
    op.progress(3, 10_000)
    values = [e.progress.done for e in sink.events if e.progress is not None]
    assert values[0] == 0 and values[-1] == 10_000
    assert values == sorted(values)
    assert len(values) < 200  # throttled, not one per call


def test_null_sink_builds_no_events_but_terminal_is_kept() -> None:
    op = Operation(NullSink(), project_id="p", operation="scan")
    assert op.emit(EventKind.ASSET_DISCOVERED, "x") is None
    terminal = op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    assert terminal.sequence == 2


def test_json_lines_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with open(path, "w", encoding="utf-8") as stream:
        op = Operation(JsonLinesSink(stream), project_id="p", operation="scan")
        first = op.emit(EventKind.ASSET_DISCOVERED, "x")
        last = op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [parse_event_line(line) for line in lines] == [first, last]
    assert last.timestamp.tzinfo is not None


def test_a_throttled_progress_value_is_published_before_the_terminal() -> None:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="scan")
    op.progress(1, None, unit="files")
    op.progress(7, None, unit="files")  # within the interval: held back, not lost
    op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    kinds = [e.kind for e in sink.events]
    assert kinds == [
        EventKind.PROGRESS_UPDATED, EventKind.PROGRESS_UPDATED, EventKind.DIAGNOSTICS_UPDATED
    ]
    assert [e.progress.done for e in sink.events[:2] if e.progress] == [1, 7]


def test_cancellation_token_wait_returns_when_cancelled_from_another_thread() -> None:
    token = CancellationToken()
    assert token.wait(0) is False
    threading.Thread(target=token.cancel).start()
    assert token.wait(30) is True
    with pytest.raises(OperationCancelled):
        token.raise_if_cancelled()


def test_a_second_terminal_is_refused_and_never_published() -> None:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="scan")
    op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    with pytest.raises(TerminalAlreadyPublished):
        op.finish(EventKind.ACTION_FAILED, Outcome.FAILED, "again")
    with pytest.raises(TerminalAlreadyPublished):
        op.fail(RuntimeError("late"))
    with op:  # leaving the context after a terminal publishes nothing either
        pass
    assert [e.terminal for e in sink.events] == [True]
    assert op.terminal_event is sink.events[0]


class _LockProbe:
    """A sink that checks, from another thread, whether the operation's lock is held while it is
    called: it must be, or a second thread could publish between this event's sequence number
    and its delivery (events out of order). Deterministic: a non-blocking try, no timing."""

    wants_events = True

    def __init__(self) -> None:
        self.op: Operation | None = None
        self.free_while_publishing: list[int] = []

    def publish(self, event: PackerEvent) -> None:
        assert self.op is not None
        lock = self.op._lock
        result: list[bool] = []

        def try_lock() -> None:
            got = lock.acquire(blocking=False)
            if got:
                lock.release()
            result.append(got)

        other = threading.Thread(target=try_lock)
        other.start()
        other.join()
        if result[0]:
            self.free_while_publishing.append(event.sequence)


def test_events_reach_the_sink_with_the_operation_locked() -> None:
    probe = _LockProbe()
    op = Operation(probe, project_id="p", operation="scan")
    probe.op = op
    op.emit(EventKind.ASSET_DISCOVERED, "x")
    op.progress(1, 2, force=True)
    op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    assert probe.free_while_publishing == []


def test_progress_events_say_what_was_reported() -> None:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="build")
    op.progress(1, 4, unit="files", phase="hash", force=True)
    op.progress(2, None, force=True)
    op.progress(3, 4, summary="Checking…", force=True)
    first, second, third = sink.events
    assert first.progress == Progress(done=1, total=4, unit="files")
    assert first.summary == "hash: 1/4 files"
    assert isinstance(first.detail, ProgressUpdatedDetail) and first.detail.phase == "hash"
    assert second.progress == Progress(done=2, total=None, unit="assets")
    assert second.summary == "build: 2 assets"
    assert isinstance(second.detail, ProgressUpdatedDetail) and second.detail.phase is None
    assert third.summary == "Checking…"


def test_fail_describes_the_error_and_keeps_the_traceback_unless_cancelled() -> None:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="scan")
    try:
        raise ValueError("bad input")
    except ValueError as exc:
        failed = op.fail(exc, action="list")
        expected_traceback = "".join(traceback.format_exception(exc))
    assert failed.summary == "list failed: bad input" and failed.outcome is Outcome.FAILED
    detail = failed.detail
    assert isinstance(detail, ActionFailedDetail)
    assert (detail.action, detail.error, detail.error_type) == ("list", "bad input", "ValueError")
    assert detail.traceback is not None and 'raise ValueError("bad input")' in detail.traceback
    assert detail.traceback == expected_traceback

    other = Operation(ListSink(), project_id="p", operation="scan")
    cancelled = other.fail(OperationCancelled())
    assert cancelled.summary == "scan was cancelled" and cancelled.outcome is Outcome.CANCELLED
    assert isinstance(cancelled.detail, ActionFailedDetail)
    assert cancelled.detail.traceback is None
    assert cancelled.detail.error == "OperationCancelled"


class _Clock:
    """A monotonic clock the test moves by hand, starting at zero (a machine just booted)."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


def test_progress_throttle_runs_on_a_clock_starting_at_zero(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import packer.lane.operation as operation_module

    clock = _Clock()
    monkeypatch.setattr(operation_module, "time", clock)
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="build")
    op.progress(1, 100)  # the first one goes out whatever the clock reads
    clock.now = 0.01
    op.progress(2, 100)  # within the interval: held back
    clock.now = 0.05
    op.progress(3, 100)  # a whole interval after the first: published
    clock.now = 0.06
    op.progress(4, 100)  # held back again
    assert [e.progress.done for e in sink.events if e.progress] == [1, 3]


def test_a_repeated_progress_value_goes_out_only_when_forced() -> None:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="build")
    op.progress(5, 10, force=True)
    op.progress(5, 10)  # nothing new to say
    op.progress(5, 10, summary="Writing the artifact…", force=True)  # a new summary, same count
    assert [(e.progress.done, e.summary) for e in sink.events if e.progress] == [
        (5, "build: 5/10 assets"), (5, "Writing the artifact…"),
    ]


def test_progress_carries_its_bytes_also_when_held_back_until_the_terminal() -> None:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="build")
    op.progress(1, 4, bytes_done=100, bytes_total=400)
    op.progress(2, 4, bytes_done=250, bytes_total=400)  # throttled, published before the end
    op.finish(EventKind.BUILD_FINISHED, Outcome.SUCCEEDED, "built")
    assert [e.progress for e in sink.events[:2]] == [
        Progress(done=1, total=4, bytes_done=100, bytes_total=400),
        Progress(done=2, total=4, bytes_done=250, bytes_total=400),
    ]


def test_every_field_of_an_event_reaches_the_sink_terminal_included() -> None:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="build")
    hero = AffectedAsset(asset_id=1, root="sprites/hero", name="hero")
    op.emit(EventKind.ASSET_CHANGED, "changed", affected=[hero])
    final = Progress(done=4, total=4, unit="files")
    op.finish(EventKind.BUILD_FINISHED, Outcome.SUCCEEDED, "built", affected=[hero],
              progress=final)
    changed, finished = sink.events
    assert changed.affected_assets == (hero,)
    assert finished.affected_assets == (hero,) and finished.progress == final


def test_an_operation_without_a_token_has_its_own_uncancelled_one() -> None:
    op = Operation(ListSink(), project_id="p", operation="scan")
    assert isinstance(op.token, CancellationToken) and not op.token.cancelled
    op.check_cancelled()  # does not raise
    op.token.cancel()
    with pytest.raises(OperationCancelled):
        op.check_cancelled()


def test_publishing_after_the_terminal_names_the_operation_and_the_event() -> None:
    op = Operation(ListSink(), project_id="p", operation="scan", operation_id="op-7")
    op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    with pytest.raises(TerminalAlreadyPublished, match="operation op-7 already ended; "
                       "asset_changed would follow a terminal"):
        op.emit(EventKind.ASSET_CHANGED, "late")


def test_a_body_without_terminal_is_reported_as_such() -> None:
    sink = ListSink()
    with Operation(sink, project_id="p", operation="scan"):
        pass
    [failed] = sink.events
    assert failed.summary == "scan failed: scan ended without reporting an outcome"


class _BrokenSink:
    def publish(self, event: PackerEvent) -> None:
        raise OSError("the consumer went away")


def test_a_sink_that_fails_on_the_terminal_does_not_hide_the_bodys_error() -> None:
    with pytest.raises(ValueError, match="boom"), Operation(
        _BrokenSink(), project_id="p", operation="scan"
    ):
        raise ValueError("boom")


def test_skip_moves_the_sequence_as_that_many_unwanted_events() -> None:
    class Quiet:
        wants_events = False

        def __init__(self) -> None:
            self.events: list[PackerEvent] = []

        def publish(self, event: PackerEvent) -> None:
            self.events.append(event)

    skipping, emitting = Quiet(), Quiet()
    for sink, step in ((skipping, "skip"), (emitting, "emit")):
        op = Operation(sink, project_id="p", operation="build")
        op.emit(EventKind.ASSET_DISCOVERED, "x")
        if step == "skip":
            op.skip(5)
        else:
            for _ in range(5):
                op.emit(EventKind.CACHE_HIT, "")
        op.finish(EventKind.BUILD_FINISHED, Outcome.SUCCEEDED, "done")
    assert [e.sequence for e in skipping.events] == [e.sequence for e in emitting.events] == [7]
    with pytest.raises(TerminalAlreadyPublished):
        op.skip(1)
    with pytest.raises(RuntimeError):
        Operation(ListSink(), project_id="p", operation="build").skip(1)
