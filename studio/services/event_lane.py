"""The event lane: the only module that moves events from worker threads to the GUI thread.

Workers publish packer events into a :class:`WorkerSink` (one per packer call, from
:meth:`EventLane.open_sink`). Publishing is cheap and never touches Qt beyond one wake-up:

- every kind except ``progress_updated`` is appended to one ordered deque (the lossless lane);
- ``progress_updated`` overwrites a per-operation latest-value slot and counts the updates it
  stands for (the coalescing happens here, on the producer side, so the GUI thread's work per
  tick is bounded by the number of operations, not by the number of events);
- the first event into an empty lane emits one queued wake-up signal (and the first terminal,
  a second one); the GUI thread drains ~20 times a second while events flow, within ~16 ms
  when a terminal waits, in chunks within a time budget, sweeping the progress slots at most
  ~20 times a second;
- GUI-priority backpressure: while events flow the GUI thread stamps a heartbeat, and a producer
  that finds it stale waits (bounded) for the next beat, so a flood cannot starve the GUI thread
  of the GIL (see docs/benchmarks.md, "Event lane", for the measurements).

The GUI side keeps the rules of the seed: per-operation ``sequence`` order in delivery; before a
lifecycle event (a terminal in particular) the operation's older pending progress is delivered;
progress after a terminal is dropped and counted; an operation whose worker ends without a
terminal is reported as a failure made by the lane (``LaneEvent.made_by_lane``), the only event
the lane ever makes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind, PackerEvent
from studio.services.bus import OperationProgressChanged, PackerEventsDelivered, StudioBus
from studio.services.lane_items import LaneEvent, LaneStats, failed_before_start, missing_terminal

log = logging.getLogger(__name__)

_PROGRESS = EventKind.PROGRESS_UPDATED

# GUI-priority backpressure (see docs/benchmarks.md, "Event lane"): while events flow, the GUI
# thread stamps a heartbeat every HEARTBEAT_MS; a producer that finds it older than
# GIVE_WAY_AFTER_S waits (releasing the GIL) for the next heartbeat, at most GIVE_WAY_MAX_S.
# Checked on every lifecycle event and every GIVE_WAY_CHECK_EVERY-th progress update of a sink.
# 2 ms / 3 ms since the GUI thread's work per event was cut: tighter than 3 ms / 6 ms, it kept
# the GUI's timer p99 at 9-15 ms instead of 14-21 ms for the same throughput (the GIL stays
# busy during a pause: the GUI uses it).
HEARTBEAT_MS = 2
GIVE_WAY_AFTER_S = 0.003
GIVE_WAY_MAX_S = 0.020
GIVE_WAY_CHECK_EVERY = 16
_NO_HEARTBEAT = float("inf")  # no flow, no heartbeat: producers never pause
# A NamedTuple's own constructor is a Python function: building the tuple directly costs
# half (≈ 0.13 against ≈ 0.26 µs), and items are built per lifecycle event and progress item.
_new_item = tuple.__new__


class _Flow:
    """The flags producers and the GUI thread share without a lock (single-word reads and
    writes). A plain slotted object: an attribute of the QObject lane costs ≈ 27 ns to read
    against ≈ 10 ns here, and the progress fast path reads one per update."""

    __slots__ = ("gui_alive", "terminal_pending", "waiting", "wake_pending")

    def __init__(self) -> None:
        self.wake_pending = False
        self.terminal_pending = False  # a terminal is queued: drain at the shorter interval
        self.gui_alive = _NO_HEARTBEAT  # the GUI heartbeat's last stamp, written by the GUI
        self.waiting = False  # a producer is (about to be) waiting on the heartbeat's gate


def _shut_gate() -> threading.Lock:
    """What producers giving way wait on: a held lock, released once by the next heartbeat.

    Each waiter that gets through releases it again for the next. Cheaper for the GUI thread
    than a threading.Event (a Condition in Python): ≈ 0.15 µs against ≈ 2.7 µs uncontended,
    and a beat nobody waits for releases nothing.
    """
    gate = threading.Lock()
    gate.acquire()
    return gate


class WorkerSink:
    """A packer EventSink for one worker; `publish` runs on the worker thread.

    Call `close()` exactly once when the worker's packer call returns or raises: any operation
    seen here without a terminal is then reported by the lane as a visible failure.
    """

    __slots__ = (
        "_closed", "_ended", "_flow", "_lane", "_last", "_published", "_slots", "_unanswered",
        "_until_check", "label", "origin", "token",
    )
    wants_events = True

    def __init__(
        self, lane: EventLane, label: str, token: CancellationToken | None,
        origin: str | None = None,
    ) -> None:
        self._lane = lane
        self._slots = lane._slots  # the lane's latest-value slots (one dict for its lifetime)
        self._flow = lane._flow
        self.label = label
        self.token = token
        self.origin = origin
        # Touched only by the worker thread: each operation's latest lifecycle event (its first
        # event if none), progress updates published per running operation (an operation
        # leaves it with its terminal), and the operations whose terminal went through here.
        self._last: dict[str, PackerEvent] = {}
        self._published: dict[str, int] = {}
        self._ended: set[str] = set()
        self._closed = False
        self._until_check = GIVE_WAY_CHECK_EVERY  # progress publishes until the next GUI check
        self._unanswered = -1.0  # the GUI heartbeat a pause of ours waited on in vain

    def publish(self, event: PackerEvent) -> None:
        # The hot path, lock-free (a lock here convoys when the GIL switches inside it): a
        # progress update of a running operation is one dict store of a fresh tuple, so the
        # GUI thread always reads a consistent (event, count, origin). Each operation's events
        # come from one producer at a time (Operation holds its lock while publishing), so
        # every slot has a single writer. Everything else (a new operation, an ended one, a
        # lifecycle event) takes `_publish`. Measured alone, in a loop: ≈ 0.25 µs per progress
        # update (≈ 0.27 µs before the slots, the flags object and the per-operation counts;
        # a closure that only counts: ≈ 0.05 µs).
        if event.kind is _PROGRESS:
            op = event.operation_id
            published = self._published
            count = published.get(op)
            if count is not None:
                count += 1
                published[op] = count
                self._slots[op] = (event, count, self.origin)
                flow = self._flow
                if not flow.wake_pending:
                    flow.wake_pending = True
                    self._lane._wake_requested.emit()
                # Every few updates (a counter is cheaper than reading the clock), see whether
                # the GUI thread is starved of the GIL.
                self._until_check -= 1
                if not self._until_check:
                    self._until_check = GIVE_WAY_CHECK_EVERY
                    now = time.monotonic()
                    if now - flow.gui_alive > GIVE_WAY_AFTER_S:
                        self._give_way(now)
                return
        self._publish(event)

    def _publish(self, event: PackerEvent) -> None:
        op = event.operation_id
        if op not in self._last:
            self._last[op] = event
            self._published[op] = 0
            if self.token is not None:
                self._lane._register_token(op, self.token)
        lane = self._lane
        flow = lane._flow
        if event.kind is _PROGRESS:
            count = self._published.get(op)
            if count is None:  # its terminal went through here
                lane._count_dropped(1)
                return
            count = self._published[op] = count + 1
            lane._slots[op] = (event, count, self.origin)
        else:
            self._last[op] = event
            item: LaneEvent = _new_item(
                LaneEvent, (event, 1, False, time.monotonic(), self.origin)
            )
            lane._queue.append(item)
            if event.terminal:
                self._ended.add(op)
                self._published.pop(op, None)
                if not flow.terminal_pending:
                    flow.terminal_pending = True
                    lane._terminal_queued.emit()
        if not flow.wake_pending:
            flow.wake_pending = True
            lane._wake_requested.emit()
        now = time.monotonic()
        if now - flow.gui_alive > GIVE_WAY_AFTER_S:
            self._give_way(now)

    def _give_way(self, now: float) -> None:
        """The GUI thread has not run for a while: release the GIL until it has.

        Waits on the heartbeat's gate (no polling: a sleeping producer that woke every few
        hundred µs to look would take the GIL from the GUI it waits for). Bounded: the pause
        ends at the next heartbeat or after GIVE_WAY_MAX_S; a heartbeat that did not come
        during a whole pause (the GUI thread blocked or gone) is never waited on again, so
        producers cannot stall on a lane nobody drains.
        """
        lane = self._lane
        flow = self._flow
        gate = lane._gate  # read before saying we wait: see EventLane._release_waiters
        seen = flow.gui_alive
        if seen == self._unanswered or now - seen <= GIVE_WAY_AFTER_S:
            return
        flow.waiting = True
        if gate.acquire(timeout=GIVE_WAY_MAX_S):
            gate.release()  # open for the next producer waiting on it
        else:
            self._unanswered = seen
        lane._count_pause(time.monotonic() - now)

    def close(self, error: BaseException | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        reason = f"{type(error).__name__}: {error}" if error is not None else "no error reported"
        made: list[PackerEvent] = []
        slots = self._lane._slots
        for op, last in self._last.items():
            if op not in self._ended:
                self._ended.add(op)
                self._published.pop(op, None)
                # Its latest event: the latest lifecycle one or its newer pending progress.
                slot = slots.get(op)
                newer = slot is not None and slot[0].sequence > last.sequence
                made.append(missing_terminal(slot[0] if slot and newer else last, reason,
                                             replayed=self.origin is not None))
        if error is not None and not self._last:
            # The worker failed before any operation began: still visible, under its label.
            made.append(failed_before_start(self.label, reason))
        if made:
            self._lane._accept_lane_made(made, self.origin)

    def cancel(self) -> None:
        if self.token is not None:
            self.token.cancel()


class EventLane(QObject):
    """Lives on the GUI thread. Hands out sinks; delivers ordered batches to the GUI thread.

    Signals (GUI thread):
      events_delivered(list[LaneEvent]) -- ordered items of one chunk: lifecycle events and
          coalesced progress, per-operation sequence strictly increasing;
      progress_changed(dict[str, LaneEvent]) -- latest progress per operation delivered in one
          drain (for progress bars).
    With a `bus`, each chunk is also published as PackerEventsDelivered, and each drain's progress
    as OperationProgressChanged.
    """

    events_delivered = Signal(object)
    progress_changed = Signal(object)
    _wake_requested = Signal()
    _terminal_queued = Signal()

    # Throttle: while events flow, a drain at most every DRAIN_INTERVAL_MS (20 a second, the
    # progress sweep's rate: rows and bars repaint at 10 Hz, so nothing shows later); a queued
    # terminal (or a backlog left by the budget) is drained after TERMINAL_DRAIN_INTERVAL_MS.
    # Fewer, larger drains cost the GUI thread less per item, and the terminal, the one event
    # a user waits for, still lands within ≈ 16 ms of the previous drain (docs/benchmarks.md,
    # "Event lane"). An idle lane drains its first event at once.
    DRAIN_INTERVAL_MS = 50
    TERMINAL_DRAIN_INTERVAL_MS = 16
    DRAIN_BUDGET_S = 0.008  # GUI time per drain, so paints and input keep their share
    CHUNK = 256  # items per events_delivered emission (the model inserts per chunk)
    PROGRESS_INTERVAL_S = 0.05  # progress slots swept at most ~20 times a second
    HEARTBEAT_IDLE_MS = 100  # the heartbeat stops after this long without events
    ENDED_MEMORY = 8192  # operations remembered as ended, to drop their stragglers

    def __init__(self, bus: StudioBus | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bus = bus
        # -- shared with producers: atomic deque appends and dict stores (no lock) --
        self._queue: deque[LaneEvent] = deque()
        # operation id -> (latest progress event, updates published so far, origin), one writer
        self._slots: dict[str, tuple[PackerEvent, int, str | None]] = {}
        self._flow = _Flow()  # wake_pending, gui_alive
        self._gate = _shut_gate()  # opened (and replaced) by a heartbeat with waiters
        # -- shared on rare paths, under _lock --
        self._lock = threading.Lock()
        self._tokens: dict[str, CancellationToken] = {}
        self._dropped_after_terminal = 0
        self._pauses = 0
        self._paused_s = 0.0
        # -- GUI thread only --
        self._backlog: deque[LaneEvent] = deque()
        self._pending_progress: dict[str, list[Any]] = {}  # op -> [event, updates, origin]
        self._taken: dict[str, int] = {}  # op -> progress updates already taken from its slot
        self._progress_received = 0
        self._last_sequence: dict[str, int] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._delivered = 0
        self._progress_delivered = 0
        self._late_terminals = 0
        self._lane_made = 0
        # Never drained or swept yet: -inf, not 0.0. time.monotonic() may count from boot, and
        # 0.0 would make a lane made in the first minutes of uptime hold back its first events.
        self._last_drain = -math.inf
        self._last_sweep = -math.inf
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        # Precise: a coarse timer may fire up to 5% early, and a drain that comes before the
        # sweep interval is up skips the sweep (the interval of both is 50 ms).
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._drain)
        self._heartbeat = QTimer(self)
        self._heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
        self._heartbeat.setInterval(HEARTBEAT_MS)
        self._heartbeat.timeout.connect(self._on_heartbeat)
        self._quiet_beats = 0
        self._wake_requested.connect(self._on_wake, Qt.ConnectionType.QueuedConnection)
        self._terminal_queued.connect(self._on_terminal, Qt.ConnectionType.QueuedConnection)

    # ---- worker side (any thread) ------------------------------------------------------------

    def open_sink(
        self, label: str, token: CancellationToken | None = None, origin: str | None = None
    ) -> WorkerSink:
        """A sink for one packer call. Thread-safe. `token` is what cancel_operation uses;
        `origin` marks every item from this sink (see LaneEvent)."""
        return WorkerSink(self, label, token, origin)

    def _accept_lane_made(self, events: list[PackerEvent], origin: str | None = None) -> None:
        now = time.monotonic()
        self._queue.extend(LaneEvent(e, 1, True, now, origin) for e in events)
        if not self._flow.terminal_pending:  # they are all terminals
            self._flow.terminal_pending = True
            self._terminal_queued.emit()

    def _count_dropped(self, count: int) -> None:
        with self._lock:
            self._dropped_after_terminal += count

    def _count_pause(self, seconds: float) -> None:
        with self._lock:
            self._pauses += 1
            self._paused_s += seconds

    def _register_token(self, operation_id: str, token: CancellationToken) -> None:
        with self._lock:
            self._tokens[operation_id] = token

    # ---- cancellation (any thread) -----------------------------------------------------------

    def cancel_operation(self, operation_id: str) -> bool:
        """Cancel via the token given to open_sink; False if the operation is unknown or ended."""
        with self._lock:
            token = self._tokens.get(operation_id)
        if token is None:
            return False
        token.cancel()
        return True

    def cancel_all(self) -> int:
        with self._lock:
            tokens = list(self._tokens.values())
        for token in tokens:
            token.cancel()
        return len(tokens)

    # ---- GUI side ----------------------------------------------------------------------------

    def stats(self) -> LaneStats:
        with self._lock:
            dropped = self._dropped_after_terminal
            pauses, paused_s = self._pauses, self._paused_s
        return LaneStats(
            delivered=self._delivered,
            progress_received=self._progress_received,
            progress_delivered=self._progress_delivered,
            dropped_after_terminal=dropped,
            late_terminals_dropped=self._late_terminals,
            lane_made_failures=self._lane_made,
            backlog=len(self._backlog),
            producer_pauses=pauses,
            producer_paused_s=paused_s,
        )

    def is_idle(self) -> bool:
        """Nothing waiting on either side (for tests and shutdown)."""
        slots_taken = all(
            self._taken.get(op, 0) >= count for op, (_e, count, _o) in list(self._slots.items())
        )
        return (
            slots_taken and not self._queue and not self._backlog and not self._pending_progress
        )

    @Slot()
    def _on_wake(self) -> None:
        self._schedule_drain(self.DRAIN_INTERVAL_MS)

    @Slot()
    def _on_terminal(self) -> None:
        self._schedule_drain(self.TERMINAL_DRAIN_INTERVAL_MS)

    def _schedule_drain(self, interval_ms: int) -> None:
        self._quiet_beats = 0
        if not self._heartbeat.isActive():
            self._stamp_alive()
            self._heartbeat.start()
        since_ms = (time.monotonic() - self._last_drain) * 1000.0  # inf before the first drain
        delay = 0 if since_ms >= interval_ms else math.ceil(interval_ms - since_ms)
        # A pending drain may be a later one (for a skipped progress sweep): never later than
        # the throttle allows for what just arrived.
        if self._timer.isActive() and self._timer.remainingTime() <= delay:
            return
        self._timer.start(delay)

    @Slot()
    def _on_heartbeat(self) -> None:
        # Stamped while events flow; stopped (and producers never pause) after
        # HEARTBEAT_IDLE_MS of silence, so an idle Studio runs no heartbeat.
        flow = self._flow
        if flow.wake_pending or flow.terminal_pending or self._backlog or self._pending_progress:
            self._quiet_beats = 0
        else:
            self._quiet_beats += 1
            if self._quiet_beats * HEARTBEAT_MS >= self.HEARTBEAT_IDLE_MS:
                self._heartbeat.stop()
                self._flow.gui_alive = _NO_HEARTBEAT
                self._release_waiters()
                return
        self._stamp_alive()

    def _stamp_alive(self) -> None:
        flow = self._flow
        flow.gui_alive = time.monotonic()
        if flow.waiting:
            self._release_waiters()

    def _release_waiters(self) -> None:
        # The flag is cleared before the gate is swapped: a producer reads the gate before it
        # sets the flag, so one that sets it after this clear waits on the new gate and is
        # released by the next beat, and one that read the old gate finds it open.
        self._flow.waiting = False
        gate, self._gate = self._gate, _shut_gate()
        gate.release()

    def shutdown(self) -> None:
        """Stop the heartbeat so that producers still running never pause for this lane."""
        self._heartbeat.stop()
        self._flow.gui_alive = _NO_HEARTBEAT
        self._release_waiters()

    @Slot()
    def drain_now(self) -> None:
        """Drain immediately, progress slots included (normally the wake-up and the timer do it)."""
        self._last_sweep = -math.inf
        self._drain()

    @Slot()
    def _drain(self) -> None:
        start = time.monotonic()
        self._last_drain = start
        # Progress slots are swept at most every PROGRESS_INTERVAL_S (latest-value: the bars
        # repaint at 10 Hz); lifecycle events go every drain. An operation's own slot is still
        # read before each of its lifecycle events (the barrier, in _next_chunk).
        since_sweep = start - self._last_sweep  # inf before the first sweep: then it sweeps
        sweep = since_sweep >= self.PROGRESS_INTERVAL_S
        if sweep:
            self._last_sweep = start
        self._take_shared(sweep)
        deadline = start + self.DRAIN_BUDGET_S
        progress_out: dict[str, LaneEvent] = {}
        while True:
            chunk = self._next_chunk(progress_out)
            if chunk:
                self._delivered += len(chunk)
                self.events_delivered.emit(chunk)
                if self._bus is not None:
                    self._bus.publish(PackerEventsDelivered(tuple(chunk)))
            if not self._backlog or time.monotonic() >= deadline:
                break
        if progress_out:
            self.progress_changed.emit(progress_out)
            if self._bus is not None:
                self._bus.publish(OperationProgressChanged(progress_out))
        if self._backlog or self._pending_progress:
            self._timer.start(self.TERMINAL_DRAIN_INTERVAL_MS)
        elif not sweep and self._slots:
            # The wake-up that brought us here is spent: come back for the skipped sweep.
            # Finite: no sweep means since_sweep < PROGRESS_INTERVAL_S.
            wait_s = self.PROGRESS_INTERVAL_S - since_sweep
            self._timer.start(max(self.DRAIN_INTERVAL_MS, int(wait_s * 1000.0) + 1))
        if self._flow.gui_alive != _NO_HEARTBEAT:
            self._stamp_alive()

    def _take_shared(self, sweep: bool) -> None:
        # Order matters: clear the wake flags, then read the progress slots, then the queue. A
        # lifecycle event published before a progress update we read is then already queued,
        # and anything published after the flags were cleared sends a new wake-up.
        self._flow.wake_pending = False
        self._flow.terminal_pending = False
        if sweep:
            taken = self._taken
            for op, slot in list(self._slots.items()):
                if slot[1] > taken.get(op, 0):
                    self._merge_slot(op)
        queue = self._queue
        self._backlog.extend([queue.popleft() for _ in range(len(queue))])

    def _merge_slot(self, op: str) -> None:
        slot = self._slots.get(op)
        if slot is None:
            return
        event, published, origin = slot
        fresh = published - self._taken.get(op, 0)
        if fresh <= 0:
            return
        self._taken[op] = published
        self._progress_received += fresh
        if op in self._ended:
            self._count_dropped(fresh)
            return
        held = self._pending_progress.get(op)
        if held is None:
            self._pending_progress[op] = [event, fresh, origin]
        else:
            held[0] = event
            held[1] += fresh

    def _next_chunk(self, progress_out: dict[str, LaneEvent]) -> list[LaneEvent]:
        out: list[LaneEvent] = []
        backlog = self._backlog
        pending = self._pending_progress
        slots = self._slots
        taken = self._taken
        ended = self._ended
        last_sequence = self._last_sequence
        for _ in range(min(len(backlog), self.CHUNK)):
            item = backlog.popleft()
            event = item.event
            op = event.operation_id
            if event.terminal and op in ended:
                self._late_terminals += 1
                log.warning("dropped a second terminal for operation %s", op)
                continue
            slot = slots.get(op)
            if slot is not None and slot[1] > taken.get(op, 0):
                self._merge_slot(op)  # progress published just before this event
            held = pending.get(op)
            sequence = event.sequence
            if held is not None and held[0].sequence < sequence:
                # Barrier: older progress goes first, so delivery stays in sequence order.
                del pending[op]
                out.append(self._progress_item(held, progress_out))
            out.append(item)
            last_sequence[op] = sequence
            if event.terminal:
                self._end(op)
                if item.made_by_lane:
                    self._lane_made += 1
        if not pending:
            return out
        # Progress whose operation has no earlier lifecycle event still waiting (a drain cut
        # short by its budget leaves some: their progress waits for them).
        waiting = {item.event.operation_id for item in backlog} if backlog else ()
        for op in [op for op in pending if op not in waiting]:
            held = pending.pop(op)
            if held[0].sequence <= last_sequence.get(op, 0):
                self._count_dropped(held[1])  # stale: a later event was already delivered
                continue
            out.append(self._progress_item(held, progress_out))
        return out

    def _progress_item(self, held: list[Any], progress_out: dict[str, LaneEvent]) -> LaneEvent:
        event: PackerEvent = held[0]
        # tuple.__new__: a NamedTuple's own constructor is a Python function, twice the cost.
        item: LaneEvent = _new_item(LaneEvent, (event, held[1], False, 0.0, held[2]))
        self._progress_delivered += 1
        self._last_sequence[event.operation_id] = event.sequence
        progress_out[event.operation_id] = item
        return item

    def _end(self, op: str) -> None:
        self._ended[op] = None
        if len(self._ended) > self.ENDED_MEMORY:
            self._ended.popitem(last=False)
        self._last_sequence.pop(op, None)
        dropped = self._pending_progress.pop(op, None)
        if dropped is not None:
            self._count_dropped(dropped[1])
        # Its worker publishes no more progress (the sink drops it): forget the slot.
        self._slots.pop(op, None)
        self._taken.pop(op, None)
        with self._lock:
            self._tokens.pop(op, None)
