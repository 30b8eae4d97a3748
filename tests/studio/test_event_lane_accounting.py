"""The event lane driven by hand on the GUI thread, without its timers: what each drain delivers,
what the counters say, and how the throttle schedules the next drain.

Nothing here waits for a timer or another thread: events are published from the test itself (a
producer may be any thread), `drain_now()` / `_drain()` run the GUI side at once, and the lane's
clock is replaced where a test needs exact times.
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from packer.lane.cancellation import CancellationToken
from studio.services import event_lane
from studio.services.event_lane import EventLane
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import event, finished, progress


class Delivered:
    def __init__(self, lane: EventLane) -> None:
        self.items: list[LaneEvent] = []
        lane.events_delivered.connect(self.items.extend)

    def seen(self) -> list[tuple[int, int, bool]]:
        """(sequence, coalesced, made_by_lane) of every item, in delivery order."""
        return [(i.sequence, i.coalesced, i.made_by_lane) for i in self.items]


class Clock:
    """Stands in for `time` in the lane: it reads what the test set."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def lane(qtbot: QtBot) -> EventLane:
    return EventLane()


def test_progress_held_across_drains_merges_later_updates_and_every_count_adds_up(
    lane: EventLane, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One chunk of two items per drain: the drain leaves a backlog, and the operation's
    # progress waits behind its lifecycle event still in it.
    monkeypatch.setattr(EventLane, "CHUNK", 2)
    monkeypatch.setattr(EventLane, "DRAIN_BUDGET_S", -1.0)
    out = Delivered(lane)
    sink = lane.open_sink("work", origin="replayed from ci.jsonl")
    for seq in (1, 2, 3):
        sink.publish(event("a", seq))
    sink.publish(progress("a", 4, done=1))
    sink.publish(progress("a", 5, done=2))
    lane.drain_now()
    assert out.seen() == [(1, 1, False), (2, 1, False)]
    assert lane.stats().backlog == 1
    sink.publish(progress("a", 6, done=3))
    sink.publish(progress("a", 7, done=4))
    lane.drain_now()
    assert out.seen() == [(1, 1, False), (2, 1, False), (3, 1, False), (7, 4, False)]
    merged = out.items[-1]
    assert merged.origin == "replayed from ci.jsonl"
    assert merged.published_at == 0.0  # coalesced progress has no single publish time
    sink.publish(progress("a", 8, done=5))
    lane.drain_now()
    assert out.seen()[-1] == (8, 1, False)
    stats = lane.stats()
    assert (stats.delivered, stats.progress_received, stats.progress_delivered,
            stats.backlog) == (5, 5, 2, 0)
    assert lane.is_idle()


def test_an_operations_first_progress_keeps_the_lane_busy_until_drained(lane: EventLane) -> None:
    sink = lane.open_sink("work")
    sink.publish(progress("a", 1, done=1))
    assert not lane.is_idle()
    lane.drain_now()
    assert lane.is_idle()


def test_progress_newer_than_a_terminal_is_dropped_never_delivered_after_it(
    lane: EventLane,
) -> None:
    out = Delivered(lane)
    worker = lane.open_sink("worker")
    stray = lane.open_sink("stray")  # another sink that still thinks the operation runs
    worker.publish(event("a", 1))
    stray.publish(progress("a", 6, done=6))
    worker.publish(finished("a", 5))
    lane.drain_now()
    assert out.seen() == [(1, 1, False), (5, 1, False)]
    assert lane.stats().dropped_after_terminal == 1
    lane.drain_now()
    assert out.seen() == [(1, 1, False), (5, 1, False)]


def test_the_lane_remembers_the_last_ended_operations_to_drop_their_second_terminal(
    lane: EventLane, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(EventLane, "ENDED_MEMORY", 2)
    monkeypatch.setattr(EventLane, "DRAIN_BUDGET_S", -1.0)  # one chunk per drain
    out = Delivered(lane)
    for op in ("a", "b", "c"):
        lane.open_sink(op).publish(finished(op, 1))
    lane.drain_now()
    for op in ("b", "c", "a"):  # stray sinks: the lane alone can refuse these
        lane.open_sink(f"late {op}").publish(finished(op, 2))
    lane.drain_now()
    late = [(i.operation_id, i.sequence) for i in out.items if i.sequence == 2]
    assert late == [("a", 2)]  # forgotten: the oldest beyond the memory
    assert lane.stats().late_terminals_dropped == 2
    assert [r.getMessage() for r in caplog.records] == [
        "dropped a second terminal for operation b", "dropped a second terminal for operation c"]


def test_a_lane_made_failure_carries_the_sinks_origin_and_the_lanes_clock(
    lane: EventLane, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(1234.5)
    monkeypatch.setattr(event_lane, "time", clock)
    out = Delivered(lane)
    sink = lane.open_sink("replay", origin="replayed from ci.jsonl")
    sink.publish(event("a", 1))
    clock.now = 1240.0
    sink.close()
    lane.drain_now()
    made = out.items[-1]
    assert (made.sequence, made.coalesced, made.made_by_lane) == (2, 1, True)
    assert made.origin == "replayed from ci.jsonl"
    # A replayed log that stops early is no one's failure here: it only ends.
    assert made.event.summary == "doctor: the log ends before this operation's terminal"
    assert made.published_at == 1240.0
    assert lane.stats().lane_made_failures == 1


def test_cancelling_through_the_sink_and_all_at_once(lane: EventLane) -> None:
    first, second = CancellationToken(), CancellationToken()
    one = lane.open_sink("one", first)
    two = lane.open_sink("two", second)
    lane.open_sink("no token").cancel()  # nothing to cancel: no error
    one.cancel()
    assert [first.cancelled, second.cancelled] == [True, False]
    one.publish(event("a", 1))
    two.publish(event("b", 1))
    assert lane.cancel_all() == 2
    assert second.cancelled
    two.publish(finished("b", 2))
    lane.drain_now()
    assert lane.cancel_all() == 1  # an ended operation's token is forgotten


def test_producers_still_running_after_shutdown_never_pause_or_fail(
    qtbot: QtBot, lane: EventLane, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_lane, "GIVE_WAY_AFTER_S", -1.0)
    sink = lane.open_sink("warm-up")
    sink.publish(event("a", 1))
    qtbot.waitUntil(lambda: lane.stats().delivered == 1)  # the heartbeat now runs
    lane.shutdown()
    errors: list[BaseException] = []

    def late_producer() -> None:
        try:
            sink.publish(event("a", 2))
            for seq in range(3, 40):
                sink.publish(progress("a", seq, done=seq))
            sink.publish(finished("a", 40))
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=late_producer)
    thread.start()
    thread.join()
    assert errors == []
    assert lane.stats().producer_pauses == 0


class SteppingClock:
    """Every reading is one second after the previous one (on the producer's own thread)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def monotonic(self) -> float:
        self.now += 1.0
        return self.now


def test_each_unanswered_pause_is_counted_with_its_length(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EventLane, "HEARTBEAT_IDLE_MS", 600_000)
    lane = EventLane()
    warm = lane.open_sink("warm-up")
    warm.publish(event("w", 1))
    qtbot.waitUntil(lambda: lane.stats().delivered == 1)  # the heartbeat has stamped
    monkeypatch.setattr(event_lane, "GIVE_WAY_AFTER_S", -1.0)
    monkeypatch.setattr(event_lane, "GIVE_WAY_MAX_S", 0.001)
    monkeypatch.setattr(event_lane, "time", SteppingClock(lane._flow.gui_alive))

    def work(op: str) -> None:
        lane.open_sink(op).publish(event(op, 1))

    # join() keeps the GUI thread from beating: each producer pauses once, in vain, for
    # exactly one reading of the clock.
    for op in ("a", "b"):
        thread = threading.Thread(target=work, args=(op,))
        thread.start()
        thread.join()
    stats = lane.stats()
    assert (stats.producer_pauses, stats.producer_paused_s) == (2, 2.0)


def test_a_producer_does_not_pause_for_a_heartbeat_stamped_in_time(lane: EventLane,
                                                                   monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    monkeypatch.setattr(event_lane, "GIVE_WAY_AFTER_S", 0.5)
    monkeypatch.setattr(event_lane, "GIVE_WAY_MAX_S", 0.001)
    sink = lane.open_sink("op")
    lane._flow.gui_alive = 100.0
    sink._give_way(100.5)  # exactly GIVE_WAY_AFTER_S since the beat: not stale yet
    assert lane.stats().producer_pauses == 0
    sink._give_way(100.75)  # stale: it waits (in vain here: no GUI thread beats)
    assert lane.stats().producer_pauses == 1


def test_an_ordinary_wake_after_a_drain_waits_out_the_throttle_and_no_longer(
    lane: EventLane, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EventLane, "DRAIN_INTERVAL_MS", 600_000)
    clock = Clock(1000.0)
    monkeypatch.setattr(event_lane, "time", clock)
    lane.drain_now()  # drained at 1000.0
    clock.now = 1400.0  # 400 s later: 200 s of the 600 s interval are left
    lane._on_wake()
    assert lane._timer.isActive()
    assert 199_700 < lane._timer.remainingTime() <= 200_000
    lane.shutdown()


def test_progress_published_just_before_a_lifecycle_event_goes_first_without_a_sweep(
    lane: EventLane, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(1000.0)
    monkeypatch.setattr(event_lane, "time", clock)
    out = Delivered(lane)
    lane.drain_now()  # swept at 1000.0: the next drain, 10 ms later, does not sweep
    sink = lane.open_sink("work")
    sink.publish(progress("a", 1, done=1))  # the operation's very first event
    sink.publish(event("a", 2))
    clock.now = 1000.01
    lane._drain()
    assert out.seen() == [(1, 1, False), (2, 1, False)]  # the barrier read the slot itself
    assert lane.stats().dropped_after_terminal == 0


def test_progress_older_than_what_was_delivered_is_dropped_and_others_still_go(
    lane: EventLane,
) -> None:
    out = Delivered(lane)
    worker = lane.open_sink("worker")
    worker.publish(event("a", 3))
    lane.drain_now()
    stray = lane.open_sink("stray")  # progress of "a" that is older than what was delivered
    stray.publish(progress("a", 2, done=2))
    worker.publish(progress("b", 1, done=1))
    lane.drain_now()
    assert [(i.operation_id, i.sequence) for i in out.items] == [("a", 3), ("b", 1)]
    assert lane.stats().dropped_after_terminal == 1


def test_every_lane_made_failure_is_counted(lane: EventLane) -> None:
    for op in ("a", "b"):
        sink = lane.open_sink(op)
        sink.publish(event(op, 1))
        sink.close(RuntimeError("worker died"))
    lane.drain_now()
    assert lane.stats().lane_made_failures == 2


def test_one_wake_up_per_drain_and_one_more_for_the_first_terminal(lane: EventLane) -> None:
    # The module's contract: publishing costs the producer one queued signal per drain, not
    # one per event.
    wakes: list[str] = []
    lane._wake_requested.connect(lambda: wakes.append("wake"))
    lane._terminal_queued.connect(lambda: wakes.append("terminal"))
    sink = lane.open_sink("work")
    sink.publish(event("a", 1))
    for seq in range(2, 40):
        sink.publish(progress("a", seq, done=seq))
    sink.publish(finished("a", 40))
    other = lane.open_sink("other")
    other.publish(event("b", 1))
    other.publish(finished("b", 2))
    other.close()
    lane.open_sink("gone").close(RuntimeError("no project"))  # a lane-made terminal
    assert wakes == ["wake", "terminal"]
    lane.drain_now()
    sink.publish(event("c", 1))
    assert wakes == ["wake", "terminal", "wake"]  # a new drain, a new wake-up
    lane.drain_now()
    sink.publish(progress("c", 2, done=1))  # a running operation's progress: the fast path
    sink.publish(progress("c", 3, done=2))
    assert wakes == ["wake", "terminal", "wake", "wake"]
    lane.drain_now()
    lane.open_sink("gone too").close(RuntimeError("no project"))
    lane.open_sink("gone as well").close(RuntimeError("no project"))
    assert wakes == ["wake", "terminal", "wake", "wake", "terminal"]


def test_closing_twice_reports_once_and_says_when_no_error_was_given(lane: EventLane) -> None:
    out = Delivered(lane)
    failed = lane.open_sink("build")
    failed.close(ValueError("no project"))
    failed.close(ValueError("no project"))
    quiet = lane.open_sink("scan")
    quiet.publish(event("s", 1))
    quiet.close()
    lane.drain_now()
    assert [i.event.summary for i in out.items if i.made_by_lane] == [
        "build failed before it started an operation: ValueError: no project",
        "doctor failed: worker ended without a terminal: no error reported",
    ]


def test_a_clean_close_makes_nothing_not_even_a_dropped_terminal(lane: EventLane) -> None:
    sink = lane.open_sink("work")
    sink.publish(event("a", 1))
    sink.publish(finished("a", 2))
    sink.close()
    lane.drain_now()
    stats = lane.stats()
    assert (stats.lane_made_failures, stats.late_terminals_dropped) == (0, 0)


def test_an_ended_operation_leaves_only_its_id_behind(lane: EventLane) -> None:
    # The lane lives as long as the Studio: per-operation state must not pile up.
    sink = lane.open_sink("work", CancellationToken())
    sink.publish(event("a", 1))
    sink.publish(progress("a", 2, done=1))
    lane.drain_now()
    sink.publish(finished("a", 3))
    lane.drain_now()
    assert list(lane._ended) == ["a"]
    assert not (lane._slots or lane._taken or lane._last_sequence or lane._pending_progress
                or lane._tokens)


def test_an_idle_lane_runs_no_timer(qtbot: QtBot) -> None:
    owner = QObject()
    lane = EventLane(parent=owner)
    assert lane.parent() is owner
    sink = lane.open_sink("work")
    sink.publish(event("a", 1))
    sink.publish(finished("a", 2))
    qtbot.waitUntil(lambda: lane.stats().delivered == 2)
    qtbot.waitUntil(lambda: not lane._heartbeat.isActive(), timeout=5_000)
    assert not lane._timer.isActive()


def test_every_sixteenth_progress_update_looks_at_the_gui_heartbeat(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EventLane, "HEARTBEAT_IDLE_MS", 600_000)  # it keeps beating
    lane = EventLane()
    warm = lane.open_sink("warm-up")
    warm.publish(event("w", 1))
    qtbot.waitUntil(lambda: lane.stats().delivered == 1)
    # Always stale, and a pause ends only with a heartbeat: each check is one pause.
    monkeypatch.setattr(event_lane, "GIVE_WAY_AFTER_S", -1.0)
    monkeypatch.setattr(event_lane, "GIVE_WAY_MAX_S", 600.0)
    done = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            sink = lane.open_sink("op")
            sink.publish(event("op", 1))  # a lifecycle event: always checked
            for seq in range(2, 34):  # 32 progress updates: checked twice
                sink.publish(progress("op", seq, done=seq))
            sink.publish(finished("op", 34))
        except BaseException as exc:  # reported below
            errors.append(exc)
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    qtbot.waitUntil(done.is_set, timeout=10_000)  # the event loop runs: heartbeats come
    worker.join()
    assert errors == []
    assert lane.stats().producer_pauses == 4


def test_a_lane_made_terminal_follows_the_operations_latest_event(lane: EventLane) -> None:
    out = Delivered(lane)
    older = lane.open_sink("progress, then a lifecycle event")
    older.publish(progress("a", 1, done=1))
    older.publish(event("a", 2))
    older.close()
    newer = lane.open_sink("a lifecycle event, then progress")
    newer.publish(event("b", 1))
    newer.publish(progress("b", 2, done=1))
    newer.close()
    lane.drain_now()
    made = {i.operation_id: i.sequence for i in out.items if i.made_by_lane}
    assert made == {"a": 3, "b": 3}
