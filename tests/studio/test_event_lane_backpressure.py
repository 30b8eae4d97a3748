"""The lane's GUI-priority backpressure and its throttled progress sweep.

A producer that finds the GUI thread's heartbeat stale waits for the next beat (never for
ever: a GUI that does not answer is not waited on again), and progress swept late by the
throttle is still delivered without any further publish.
"""

from __future__ import annotations

import threading

import pytest
from pytestqt.qtbot import QtBot

from studio.services import event_lane
from studio.services.event_lane import EventLane
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import event, finished, progress


class Collected:
    def __init__(self, lane: EventLane) -> None:
        self.items: list[LaneEvent] = []
        lane.events_delivered.connect(self.items.extend)


def start_flow(qtbot: QtBot, lane: EventLane) -> None:
    """A first event through the lane, so its heartbeat runs (as it does while events flow)."""
    sink = lane.open_sink("warm-up")
    sink.publish(event("warm-up", 1))
    sink.publish(finished("warm-up", 2))
    sink.close()
    qtbot.waitUntil(lane.is_idle)


def test_producer_waits_for_the_gui_heartbeat_when_the_gui_is_starved(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EventLane, "HEARTBEAT_IDLE_MS", 600_000)  # it keeps beating
    lane = EventLane()
    start_flow(qtbot, lane)
    # Every heartbeat counts as stale, and a pause could last far longer than this test:
    # the worker can only get through because the GUI thread's heartbeat releases it.
    monkeypatch.setattr(event_lane, "GIVE_WAY_AFTER_S", -1.0)
    monkeypatch.setattr(event_lane, "GIVE_WAY_MAX_S", 600.0)
    done = threading.Event()

    def work() -> None:
        sink = lane.open_sink("op")
        for seq in range(1, 4):
            sink.publish(event("op", seq))
        sink.publish(finished("op", 4))
        sink.close()
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    qtbot.waitUntil(done.is_set, timeout=10_000)  # the event loop runs: heartbeats come
    worker.join()
    qtbot.waitUntil(lane.is_idle)
    assert lane.stats().producer_pauses >= 4  # one per lifecycle event, each released


def test_producer_never_stalls_on_a_gui_thread_that_does_not_answer(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EventLane, "HEARTBEAT_IDLE_MS", 600_000)
    lane = EventLane()
    collected = Collected(lane)
    start_flow(qtbot, lane)
    monkeypatch.setattr(event_lane, "GIVE_WAY_AFTER_S", -1.0)
    monkeypatch.setattr(event_lane, "GIVE_WAY_MAX_S", 0.05)

    def work() -> None:
        sink = lane.open_sink("op")
        for seq in range(1, 200):
            sink.publish(progress("op", seq, seq, 200) if seq % 10 else event("op", seq))
        sink.publish(finished("op", 200))
        sink.close()

    # join() blocks the GUI thread: no heartbeat while the worker publishes.
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert lane.stats().producer_pauses == 1  # the unanswered pause is not repeated
    qtbot.waitUntil(lane.is_idle)
    assert [i.sequence for i in collected.items if i.operation_id == "op"][-1] == 200


def test_no_pause_without_a_running_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    lane = EventLane()  # no event has reached the GUI thread yet: no heartbeat
    monkeypatch.setattr(event_lane, "GIVE_WAY_AFTER_S", -1.0)
    sink = lane.open_sink("op")
    for seq in range(1, 100):
        sink.publish(event("op", seq))
    assert lane.stats().producer_pauses == 0


def test_progress_left_by_a_throttled_sweep_is_still_delivered(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EventLane, "PROGRESS_INTERVAL_S", 0.2)
    lane = EventLane()
    collected = Collected(lane)
    sink = lane.open_sink("op")
    sink.publish(progress("op", 1, 1, 10))
    qtbot.waitUntil(lambda: len(collected.items) == 1)
    # Published right after a sweep, and nothing follows it: the drain this wakes skips the
    # sweep (too soon), so the lane must come back for it on its own.
    sink.publish(progress("op", 2, 2, 10))
    qtbot.waitUntil(lambda: len(collected.items) == 2)
    latest = collected.items[-1]
    assert (latest.sequence, latest.coalesced) == (2, 1)
    sink.publish(finished("op", 3))
    sink.close()
    qtbot.waitUntil(lane.is_idle)
    assert [i.sequence for i in collected.items] == [1, 2, 3]
