"""The event lane: two lanes, ordering, the terminal barrier, coalescing, missing terminals."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QObject, QThread, Slot
from pytestqt.qtbot import QtBot

from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind, Outcome
from studio.services import event_lane
from studio.services.bus import OperationProgressChanged, PackerEventsDelivered, StudioBus
from studio.services.event_lane import EventLane, WorkerSink
from studio.services.lane_items import LANE_ERROR_TYPE, LaneEvent
from tests.studio.lane_events import event, finished, progress


class Recorder(QObject):
    """A GUI-thread receiver that also records which thread ran its slot."""

    def __init__(self, lane: EventLane) -> None:
        super().__init__()
        self.items: list[LaneEvent] = []
        self.progress_batches: list[dict[str, LaneEvent]] = []
        self.threads: set[QThread] = set()
        lane.events_delivered.connect(self.on_items)
        lane.progress_changed.connect(self.on_progress)

    @Slot(object)
    def on_items(self, items: list[LaneEvent]) -> None:
        self.threads.add(QThread.currentThread())
        self.items.extend(items)

    @Slot(object)
    def on_progress(self, latest: dict[str, LaneEvent]) -> None:
        self.progress_batches.append(latest)

    def of(self, op: str) -> list[LaneEvent]:
        return [i for i in self.items if i.operation_id == op]


@pytest.fixture
def lane(qtbot: QtBot) -> EventLane:
    return EventLane()


def settle(qtbot: QtBot, lane: EventLane) -> None:
    qtbot.waitUntil(lane.is_idle, timeout=10_000)


def run_in_thread(fn: object) -> None:
    thread = threading.Thread(target=fn)  # type: ignore[arg-type]
    thread.start()
    thread.join()


def test_lifecycle_events_keep_sequence_order_per_operation(qtbot: QtBot, lane: EventLane) -> None:
    rec = Recorder(lane)

    def work(op: str) -> None:
        sink = lane.open_sink(op)
        for seq in range(1, 300):
            sink.publish(event(op, seq))
        sink.publish(finished(op, 300))
        sink.close()

    threads = [threading.Thread(target=work, args=(f"op{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    settle(qtbot, lane)
    for i in range(3):
        assert [item.sequence for item in rec.of(f"op{i}")] == list(range(1, 301))


def test_progress_is_coalesced_with_counts_and_never_delays_lifecycle(
    qtbot: QtBot, lane: EventLane
) -> None:
    rec = Recorder(lane)
    sink = lane.open_sink("flood")
    # All published before the GUI thread drains once: 1000 updates, one slot.
    for seq in range(1, 1001):
        sink.publish(progress("a", seq, done=seq, total=1000))
    sink.publish(event("a", 1001))
    settle(qtbot, lane)
    delivered = rec.of("a")
    kinds = [i.event.kind for i in delivered]
    assert kinds == [EventKind.PROGRESS_UPDATED, EventKind.ASSET_DISCOVERED]
    assert delivered[0].coalesced == 1000
    assert delivered[0].event.sequence == 1000
    assert lane.stats().progress_received == 1000
    assert lane.stats().progress_delivered == 1


def test_terminal_barrier_delivers_older_progress_first(qtbot: QtBot, lane: EventLane) -> None:
    rec = Recorder(lane)
    sink = lane.open_sink("build")
    sink.publish(event("b", 1, EventKind.BUILD_STARTED))
    for seq in range(2, 12):
        sink.publish(progress("b", seq, done=seq * 10, total=110))
    sink.publish(finished("b", 12))
    settle(qtbot, lane)
    delivered = rec.of("b")
    assert [i.sequence for i in delivered] == [1, 11, 12]
    assert delivered[1].event.kind is EventKind.PROGRESS_UPDATED
    assert delivered[1].coalesced == 10
    assert delivered[2].event.terminal
    assert rec.progress_batches and rec.progress_batches[-1]["b"].sequence == 11


def test_progress_after_terminal_is_dropped_and_counted(qtbot: QtBot, lane: EventLane) -> None:
    rec = Recorder(lane)
    sink = lane.open_sink("x")
    sink.publish(finished("t", 1))
    sink.publish(progress("t", 2, done=5))  # same sink: dropped at the producer
    settle(qtbot, lane)
    other = lane.open_sink("y")  # a stray sink for the same operation: dropped on the GUI side
    other.publish(progress("t", 3, done=6))
    other.publish(progress("t", 4, done=7))
    settle(qtbot, lane)
    assert [i.sequence for i in rec.of("t")] == [1]
    assert lane.stats().dropped_after_terminal == 3


def test_worker_ending_without_terminal_is_reported_as_a_lane_made_failure(
    qtbot: QtBot, lane: EventLane
) -> None:
    rec = Recorder(lane)

    def crashing_worker() -> None:
        sink = lane.open_sink("scan")
        sink.publish(event("s", 1))
        sink.publish(progress("s", 2, done=1, total=None))
        sink.publish(finished("done-op", 1))
        sink.close(RuntimeError("disk on fire"))

    run_in_thread(crashing_worker)
    settle(qtbot, lane)
    items = rec.of("s")
    assert [i.sequence for i in items] == [1, 2, 3]
    failure = items[-1]
    assert failure.made_by_lane and failure.event.terminal
    assert failure.event.outcome is Outcome.FAILED
    assert failure.event.kind is EventKind.ACTION_FAILED
    assert "worker ended without a terminal: RuntimeError: disk on fire" in failure.event.summary
    assert failure.event.detail is not None and failure.event.detail.type == "action_failed"
    assert failure.event.detail.error_type == LANE_ERROR_TYPE
    assert [i.made_by_lane for i in rec.of("done-op")] == [False]  # it had its terminal
    assert lane.stats().lane_made_failures == 1


def test_a_queued_terminal_is_drained_without_waiting_for_the_ordinary_throttle(
    qtbot: QtBot, lane: EventLane, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ordinary flow is drained at most every DRAIN_INTERVAL_MS; a terminal has its own wake-up.
    monkeypatch.setattr(EventLane, "DRAIN_INTERVAL_MS", 600_000)
    rec = Recorder(lane)
    sink = lane.open_sink("t")
    run_in_thread(lambda: sink.publish(event("t", 1)))
    qtbot.waitUntil(lambda: len(rec.of("t")) == 1, timeout=5_000)  # idle lane: at once

    def end() -> None:
        sink.publish(event("t", 2))
        sink.publish(finished("t", 3))

    run_in_thread(end)
    # Throttled now: only the terminal's wake-up can bring these before ten minutes are up.
    qtbot.waitUntil(lambda: len(rec.of("t")) == 3, timeout=5_000)
    assert [i.sequence for i in rec.of("t")] == [1, 2, 3]
    assert rec.of("t")[-1].event.terminal
    sink.close()


class _ClockFromZero:
    """time.monotonic() as on a machine that has just booted: it starts at about 1 ms."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def monotonic(self) -> float:
        return time.monotonic() - self._start + 0.001


def test_the_first_event_on_an_idle_lane_is_drained_at_once_even_just_after_boot(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lane's clock is time.monotonic(), which counts from boot on Linux: "never drained"
    # must not read as "drained at time 0", or a lane made in the first minutes of uptime
    # would hold its first events back for the ordinary throttle.
    monkeypatch.setattr(event_lane, "time", _ClockFromZero())
    monkeypatch.setattr(EventLane, "DRAIN_INTERVAL_MS", 600_000)
    lane = EventLane()
    rec = Recorder(lane)
    sink = lane.open_sink("boot")
    run_in_thread(lambda: sink.publish(event("boot", 1)))
    qtbot.waitUntil(lambda: len(rec.of("boot")) == 1, timeout=5_000)
    run_in_thread(lambda: sink.publish(finished("boot", 2)))
    qtbot.waitUntil(lambda: len(rec.of("boot")) == 2, timeout=5_000)
    sink.close()
    lane.shutdown()


def test_worker_failing_before_any_operation_still_shows_up(qtbot: QtBot, lane: EventLane) -> None:
    rec = Recorder(lane)
    run_in_thread(lambda: lane.open_sink("build").close(ValueError("no project")))
    settle(qtbot, lane)
    assert len(rec.items) == 1
    assert rec.items[0].made_by_lane and rec.items[0].event.operation == "build"
    assert "no project" in rec.items[0].event.summary


def test_clean_close_reports_nothing_extra(qtbot: QtBot, lane: EventLane) -> None:
    rec = Recorder(lane)
    sink = lane.open_sink("ok")
    sink.publish(finished("o", 1))
    sink.close()
    sink.close()  # idempotent
    settle(qtbot, lane)
    assert [i.made_by_lane for i in rec.items] == [False]


def test_delivery_slots_run_on_the_gui_thread(qtbot: QtBot, lane: EventLane) -> None:
    rec = Recorder(lane)
    gui = QThread.currentThread()

    def work() -> None:
        sink = lane.open_sink("w")
        for seq in range(1, 50):
            sink.publish(progress("w", seq, done=seq))
        sink.publish(finished("w", 50))
        sink.close()

    run_in_thread(work)
    settle(qtbot, lane)
    assert rec.threads == {gui}
    assert rec.of("w")[-1].event.terminal


def test_cancel_operation_uses_the_token_given_to_open_sink(qtbot: QtBot, lane: EventLane) -> None:
    token = CancellationToken()
    sink = lane.open_sink("c", token)
    assert not lane.cancel_operation("c")  # not seen yet
    sink.publish(event("c", 1))
    assert lane.cancel_operation("c")
    assert token.cancelled
    sink.publish(finished("c", 2, Outcome.CANCELLED))
    settle(qtbot, lane)
    assert not lane.cancel_operation("c")  # ended: the token is forgotten


def test_lane_publishes_chunks_and_progress_on_the_bus(qtbot: QtBot) -> None:
    bus = StudioBus()
    lane = EventLane(bus=bus)
    chunks: list[PackerEventsDelivered] = []
    latest: list[OperationProgressChanged] = []
    bus.subscribe(PackerEventsDelivered, chunks.append)
    bus.subscribe(OperationProgressChanged, latest.append)
    sink = lane.open_sink("b")
    sink.publish(progress("p", 1, done=1))
    sink.publish(finished("p", 2))
    settle(qtbot, lane)
    assert [i.sequence for c in chunks for i in c.items] == [1, 2]
    assert latest[-1].latest["p"].sequence == 1


# ---- property: random multi-thread interleavings ------------------------------------------

Script = list[tuple[str, bool]]  # (kind, is_progress) per step; the terminal is decided apart

step = st.sampled_from(["progress", "progress", "progress", "lifecycle"])
op_script = st.tuples(
    st.lists(step, min_size=0, max_size=40),
    st.sampled_from(["terminal", "missing", "terminal_then_stragglers"]),
)


@settings(
    max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scripts=st.lists(op_script, min_size=1, max_size=6), threads=st.integers(1, 4))
def test_random_interleavings_keep_the_lane_rules(
    qtbot: QtBot, scripts: list[tuple[list[str], str]], threads: int
) -> None:
    lane = EventLane()
    rec = Recorder(lane)
    published_lifecycle: dict[str, set[int]] = defaultdict(set)
    published_progress: dict[str, int] = defaultdict(int)
    start = threading.Barrier(threads)

    def worker(index: int) -> None:
        sink: WorkerSink = lane.open_sink(f"worker{index}")
        start.wait()
        for number, (steps, ending) in enumerate(scripts):
            if number % threads != index:
                continue
            op = f"op{number}"
            seq = 0
            for kind in steps:
                seq += 1
                if kind == "progress":
                    sink.publish(progress(op, seq, done=seq))
                    published_progress[op] += 1
                else:
                    sink.publish(event(op, seq))
                    published_lifecycle[op].add(seq)
            if ending != "missing":
                seq += 1
                sink.publish(finished(op, seq))
                published_lifecycle[op].add(seq)
            if ending == "terminal_then_stragglers":
                sink.publish(progress(op, seq + 1, done=seq + 1))
        sink.close(RuntimeError("worker died") if index == 0 else None)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    qtbot.waitUntil(lane.is_idle, timeout=10_000)

    progress_seen: dict[str, int] = defaultdict(int)
    for number, (_steps, ending) in enumerate(scripts):
        op = f"op{number}"
        items = rec.of(op)
        if not _steps and ending == "missing":
            assert items == []  # it never published anything: nothing to report
            continue
        sequences = [i.sequence for i in items]
        assert sequences == sorted(set(sequences)), "sequence strictly increasing per operation"
        terminals = [i for i in items if i.event.terminal]
        assert len(terminals) == 1, "exactly one terminal per operation"
        assert items[-1] is terminals[0], "nothing after the terminal"
        assert terminals[0].made_by_lane == (ending == "missing")
        lifecycle = {i.sequence for i in items if i.event.kind is not EventKind.PROGRESS_UPDATED}
        assert published_lifecycle[op] <= lifecycle, "lifecycle events are never lost"
        progress_seen[op] = sum(
            i.coalesced for i in items if i.event.kind is EventKind.PROGRESS_UPDATED
        )
        assert progress_seen[op] == published_progress[op], "coalesced counts add up"
    stragglers = sum(1 for _s, ending in scripts if ending == "terminal_then_stragglers")
    assert lane.stats().dropped_after_terminal == stragglers


def test_a_second_terminal_for_an_ended_operation_is_never_delivered(
    qtbot: QtBot, lane: EventLane
) -> None:
    rec = Recorder(lane)
    sink = lane.open_sink("x")
    sink.publish(finished("t", 1))
    settle(qtbot, lane)
    sink.publish(finished("t", 2, Outcome.FAILED))  # the same sink, after its terminal
    other = lane.open_sink("y")  # a stray sink for the same operation
    other.publish(finished("t", 3, Outcome.FAILED))
    settle(qtbot, lane)
    assert [(i.sequence, i.event.terminal) for i in rec.of("t")] == [(1, True)]
    assert lane.stats().late_terminals_dropped == 2
