"""When the garbage collector may stop the world: not while packer work runs.

A full (generation-2) collection holds the GIL for as long as it takes to traverse every tracked
object, on whichever thread triggers it, so it stalls the GUI thread too: 117–302 ms at 10k–30k
assets, and 9 of the 10 worst GUI stalls of a 10k build (docs/benchmarks.md, "Studio at scale").
A build's working set (snapshot, plans, events) is what those collections traverse, and almost
none of it is cyclic garbage: reference counting frees it when the build ends.

So, while the worker pool is busy, full collections wait (young collections still run: they
traverse at most a few thousand objects). Once the pool has been idle for IDLE_DELAY_MS (not
at the very moment a build ends, when the user looks at its results; work that starts sooner
postpones it again), one full collection runs over what is not frozen (what was allocated
since the last such moment), then what survived is frozen (`gc.freeze()`): later collections
skip the project's standing heap (its listing, the panels' models). Acyclic frozen objects are
still freed by reference counting; cyclic garbage made while work ran is collected then, before
the freeze. That collection costs what the work left alive (docs/benchmarks.md, "Studio at
scale": 64 ms for a 10k build alone, more with the Activity's retained events).

The packer's own `quiet_gc()` (a build) freezes too; the policy holds the process's freeze
(packer.lane.gcquiet.hold_freeze), so a build's end no longer unfreezes the Studio's heap. What
the build froze stays frozen (reference counting still frees its acyclic objects); its cyclic
garbage is collected by a full sweep (unfreeze, collect, freeze) that an idle moment runs only
once the frozen heap has grown by SWEEP_GROWTH since the last sweep.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer, Slot

from packer.lane.gcquiet import hold_freeze, release_freeze

DEFERRED_THRESHOLD = 1 << 30  # generation-2 collections "after a billion gen-1 collections"
IDLE_DELAY_MS = 1000
SWEEP_GROWTH = 1.5  # a full sweep once the frozen heap is 1.5× what the last sweep left


class CollectorPolicy(QObject):
    """Applies the policy above to the process's collector; `release()` undoes it."""

    def __init__(self, parent: QObject | None = None, idle_delay_ms: int = IDLE_DELAY_MS) -> None:
        super().__init__(parent)
        self._normal = gc.get_threshold()
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_delay_ms)
        self._idle.timeout.connect(self.settle)
        self.settled = 0  # idle collections run so far
        self.deferred = False
        self.last_idle_collection_s = 0.0
        self.sweeps = 0  # idle collections that unfroze everything first
        self._swept_frozen: int | None = None  # the frozen heap after the first idle collection
        # or the last sweep
        self.active = True
        hold_freeze()

    @property
    def pending(self) -> bool:
        """An idle collection is waiting for its delay."""
        return bool(self._idle.isActive())

    @Slot(bool)
    def on_busy_changed(self, busy: bool) -> None:
        if not self.active:
            return
        if busy:
            self._idle.stop()
            self.defer()
        else:
            self._idle.start()

    def defer(self) -> None:
        """Work started: no full collection until it ends."""
        young, middle, _full = self._normal
        gc.set_threshold(young, middle, DEFERRED_THRESHOLD)
        self.deferred = True

    @Slot()
    def settle(self) -> None:
        """Work ended: collect what is not frozen, freeze the survivors, collect normally."""
        if not self.active:
            return
        started = time.perf_counter()
        base = self._swept_frozen
        sweep = base is not None and gc.get_freeze_count() > base * SWEEP_GROWTH
        if sweep:
            gc.unfreeze()  # the frozen heap grew (builds froze theirs): a sweep of everything
        gc.collect()
        gc.freeze()
        if sweep:
            self.sweeps += 1
        if sweep or base is None:
            self._swept_frozen = gc.get_freeze_count()
        self.last_idle_collection_s = time.perf_counter() - started
        gc.set_threshold(*self._normal)
        self.deferred = False
        self.settled += 1

    def release(self) -> None:
        """The Studio is closing: the collector as it found it (everything collectable again)."""
        if self.active:
            release_freeze()
        self.active = False
        self._idle.stop()
        gc.set_threshold(*self._normal)
        gc.unfreeze()
        self.deferred = False
