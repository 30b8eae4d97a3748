"""What the Activity timeline keeps in memory: one record per operation, with its event rows.

Plain Python (no Qt): the model in studio.panels.activity.model turns these into rows. Everything
here is derived from packer events as delivered by the event lane; nothing is made up. Repetitive
low-value events (discoveries, cache hits and misses, changes) are grouped inside their operation
("42 cache hits"); each event stays reachable under its group. Likewise routine reads (the
listings and details the Studio asks for on every selection and refresh) are folded into one
BurstNode per uninterrupted run ("14 routine reads"), each operation reachable under it; the
counts are those of the operations actually there.
"""

from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum
from typing import Any

from packer.lane.events import (
    BuildFinishedDetail,
    DiagnosticsUpdatedDetail,
    EventKind,
    Outcome,
    PackerEvent,
    Progress,
)
from studio.panels.activity.journal import OperationTotals, blocked_is_an_answer
from studio.services.lane_items import LaneEvent

MAX_EVENTS_PER_OPERATION = 400  # retained event rows per operation; counts stay exact beyond
STALL_AFTER_S = 5.0  # a running operation with no new event this long says so
RATE_SMOOTHING = 0.3  # weight of the newest rate sample (exponential moving average)
MIN_RATE_WINDOW_S = 0.2  # rate samples are taken over at least this long (not per drain)
BAR_DELAY_S = 0.3  # no bar for operations shorter than this (no flicker); the timeline still shows

_CACHE_HIT = EventKind.CACHE_HIT
_CACHE_MISS = EventKind.CACHE_MISS

SUMMARISED_KINDS = {
    EventKind.ASSET_DISCOVERED: ("asset discovered", "assets discovered"),
    EventKind.ASSET_CHANGED: ("asset changed", "assets changed"),
    EventKind.CACHE_HIT: ("cache hit", "cache hits"),
    EventKind.CACHE_MISS: ("cache miss", "cache misses"),
}


class OperationStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    INCOMPLETE = "incomplete"  # no terminal on record (history, or a replayed log ends early)

    @classmethod
    def from_outcome(cls, outcome: Outcome | None) -> OperationStatus:
        return cls(outcome.value) if outcome is not None else cls.SUCCEEDED


PINNED_STATUSES = frozenset({OperationStatus.FAILED, OperationStatus.BLOCKED})
# Read per delivered item: a module constant costs ≈ 8 ns, an enum member looked up on its
# class ≈ 75 ns (EnumType's attribute lookup).
_RUNNING = OperationStatus.RUNNING

# Reads the Studio runs on its own (every selection, every refresh) or that a log repeats: while
# they end well they are background noise. A failure, a block, or a change in what they found
# takes them out of the fold (studio.panels.activity.model).
ROUTINE_OPERATIONS = frozenset({"list", "details", "scan"})
ROUTINE_OUTCOMES = frozenset({
    OperationStatus.RUNNING, OperationStatus.SUCCEEDED, OperationStatus.CANCELLED,
    OperationStatus.INCOMPLETE,
})


class EventNode:
    """One retained event, under its operation or under a group."""

    __slots__ = ("item", "items", "parent", "row")

    def __init__(self, item: LaneEvent, parent: OperationRecord | GroupNode, row: int) -> None:
        self.item = item
        self.parent = parent
        self.row = row
        self.items: list[Any] | None = None  # its Qt row, once its parent was expanded

    @property
    def children(self) -> list[EventNode]:
        return []


class GroupNode:
    """Consecutive repetitive events of one kind, shown as one row ("42 cache hits")."""

    __slots__ = ("children", "count", "exposed", "fetched", "items", "kind", "parent", "row")

    def __init__(self, kind: EventKind, parent: OperationRecord, row: int) -> None:
        self.kind = kind
        self.parent = parent
        self.row = row
        self.count = 0  # events of this run, including those not retained
        self.children: list[EventNode] = []
        self.exposed = 0  # children given Qt rows (rows appear when expanded, see the model)
        self.fetched = False
        self.items: list[Any] | None = None

    @property
    def label(self) -> str:
        one, many = SUMMARISED_KINDS[self.kind]
        return f"{self.count} {one if self.count == 1 else many}"


class OperationRecord:
    """One operation: its status, latest progress, counts, and retained event rows."""

    parent = None  # top of the event tree (a burst holds it, but is not an event's parent)

    def __init__(
        self, first: PackerEvent, arrived_at: float, origin: str | None = None
    ) -> None:
        self.operation_id = first.operation_id
        self.origin = origin  # "replayed from ci.jsonl": lane metadata, not a packer summary
        self.burst: BurstNode | None = None  # the fold holding this routine read, if any
        self.operation = first.operation
        self.project_id = first.project_id
        self.row = 0
        # Lifecycle events as delivered (capped, the terminal always kept). Their event rows
        # (`children`: EventNodes and GroupNodes) are derived from it only when someone looks
        # (an expanded row, the inspection, a filter): under a flood the GUI thread's work per
        # event is this append and a few counters (docs/benchmarks.md, "Event lane").
        self.retained: list[LaneEvent] = []
        self._nodes: list[EventNode | GroupNode] = []
        self._derived = 0  # retained events already turned into nodes
        self.exposed = 0  # children given Qt rows (rows appear when expanded, see the model)
        self.fetched = False
        self.placeholder = False  # its row has the "…" child that stands for unfetched rows
        self.items: list[Any] = []  # its Qt row (owned by the model)
        self.shown: tuple[object, ...] = ()  # what the row shows, to skip unchanged updates
        self.version = 0  # bumped whenever what the row's texts say may have changed
        self.texts: tuple[str, str] = ("", "")  # operation text and counts, as last made
        self.texts_at = -1  # the version `texts` were made at (see the model)
        self.first_arrival = arrived_at
        self.first_timestamp: datetime = first.timestamp
        self.last_event: PackerEvent = first
        self.summary = first.summary
        self.status = _RUNNING
        self.terminal: LaneEvent | None = None
        self.acknowledged = False
        self.progress: Progress | None = None
        self.progress_event: LaneEvent | None = None
        self.progress_updates = 0
        self.last_activity = arrived_at  # monotonic time of its latest event (stalls)
        self.rate: float | None = None  # smoothed progress units per second (determinate)
        # Smoothed input bytes per second, when the progress carries bytes (a build's does).
        self.byte_rate: float | None = None
        self._rate_mark: tuple[float, int, int | None] | None = None  # (time, done, bytes_done)
        self.events_total = 0
        self.events_retained = 0
        self.assets: set[str] = set()
        self.cache_hits = 0
        self.cache_misses = 0
        self.diagnostics: tuple[int, int] | None = None  # (errors, warnings) of the latest report
        self.kind_counts: dict[EventKind, int] = {}  # lifecycle events per kind, exact
        self.asset_total: int | None = None  # restored from history: the whole run's count
        self._restored_totals = False
        self.assets_not_kept: dict[int, int] = {}  # sequence → affected assets history left out

    @property
    def kinds(self) -> set[EventKind]:
        return set(self.kind_counts)

    @property
    def asset_count(self) -> int:
        """Distinct assets the operation's events named (the whole run's, also once restored
        from a history that kept only a sample of its events)."""
        return self.asset_total if self.asset_total is not None else len(self.assets)

    @property
    def events_not_kept(self) -> int:
        """Lifecycle events counted but not held (past the cap, or left out of history)."""
        return max(0, self.events_total - self.events_retained)

    def totals(self) -> OperationTotals:
        """The exact counts, for the history (written with the terminal)."""
        return OperationTotals(
            events=self.events_total,
            kinds={kind.value: n for kind, n in self.kind_counts.items()},
            assets=self.asset_count, cache_hits=self.cache_hits, cache_misses=self.cache_misses,
            progress_updates=self.progress_updates, progress=self.progress,
        )

    def apply_totals(self, totals: OperationTotals) -> None:
        """Restore from history: the run's own counts replace those of the sampled events."""
        self.events_total = totals.events
        self.kind_counts = {EventKind(k): n for k, n in totals.kinds.items()
                            if k in EventKind._value2member_map_}
        self.asset_total = totals.assets
        self.cache_hits, self.cache_misses = totals.cache_hits, totals.cache_misses
        self.progress_updates = totals.progress_updates
        self.progress = totals.progress
        self.version += 1
        self._restored_totals = True

    # -- status --

    @property
    def running(self) -> bool:
        return self.status is _RUNNING

    @property
    def pinned(self) -> bool:
        """A failure nobody has acknowledged yet: never evicted, counted on the tab."""
        if self.status not in PINNED_STATUSES or self.acknowledged:
            return False
        return self.status is OperationStatus.FAILED or not blocked_is_an_answer(self.operation)

    def elapsed_s(self, now: float | None = None) -> float:
        if self.terminal is not None or not self.running:
            return max(0.0, (self.last_event.timestamp - self.first_timestamp).total_seconds())
        return max(0.0, (now if now is not None else time.monotonic()) - self.first_arrival)

    def bar_visible(self, now: float) -> bool:
        return self.running and now - self.first_arrival >= BAR_DELAY_S

    # -- applying events --

    def apply_progress(self, item: LaneEvent, now: float | None = None) -> bool:
        """Latest progress; never backwards. True when the visible value changed."""
        self.progress_updates += item.coalesced
        if now is not None:
            self.last_activity = now
            self._sample_rate(item.event.progress, now)
        event = item.event
        new = event.progress
        self.progress_event = item
        self.last_event = event
        if self.status is _RUNNING and self.summary != event.summary:
            self.summary = event.summary
            self.version += 1
        if new is None:
            return False
        old = self.progress
        if old is None:
            self.progress = new
            return True
        if new.done < old.done and new.total == old.total:
            return False
        self.progress = new
        # Field by field: pydantic's __eq__ costs ~4 µs, and this runs per delivered update.
        return new.done != old.done or new.total != old.total or new.unit != old.unit

    def _sample_rate(self, progress: Progress | None, now: float) -> None:
        if progress is None or progress.total is None:
            return
        mark = self._rate_mark
        if mark is None or progress.done < mark[1]:
            self._rate_mark = (now, progress.done, progress.bytes_done)
            return
        elapsed = now - mark[0]
        if elapsed < MIN_RATE_WINDOW_S:
            return
        self.rate = _smoothed(self.rate, (progress.done - mark[1]) / elapsed)
        if progress.bytes_done is not None and mark[2] is not None \
                and progress.bytes_done >= mark[2]:
            self.byte_rate = _smoothed(self.byte_rate, (progress.bytes_done - mark[2]) / elapsed)
        self._rate_mark = (now, progress.done, progress.bytes_done)

    def stalled_for(self, now: float) -> float | None:
        """Seconds without any event, when that is STALL_AFTER_S or more (running only)."""
        if not self.running:
            return None
        quiet = now - self.last_activity
        return quiet if quiet >= STALL_AFTER_S else None

    def time_left(self) -> float | None:
        """Seconds left at the smoothed rate (determinate progress only)."""
        p = self.progress
        if not self.running or p is None or p.total is None or not self.rate:
            return None
        return max(0.0, (p.total - p.done) / self.rate)

    def apply_lifecycle(self, item: LaneEvent, now: float | None = None) -> None:
        """Counts and status, and the event kept for its row (the rows are made lazily)."""
        event = item.event
        kind = event.kind
        self.events_total += 1
        self.version += 1
        if now is not None:
            self.last_activity = now
        if item.made_by_lane and self.origin is not None and event.terminal:
            # A replayed log that stops before this operation's terminal: incomplete, as when
            # history has no terminal. Its time and summary stay those of the log's last event.
            self.terminal = item
            self.status = OperationStatus.INCOMPLETE
            self.retained.append(item)
            self.events_retained += 1
            return
        self.last_event = event
        self.summary = event.summary
        counts = self.kind_counts
        counts[kind] = counts.get(kind, 0) + 1
        if event.affected_assets:
            for asset in event.affected_assets:
                self.assets.add(asset.root)
        if kind is _CACHE_HIT:
            self.cache_hits += 1
        elif kind is _CACHE_MISS:
            self.cache_misses += 1
        elif event.detail is not None:
            self._count_detail(event.detail)
        if event.terminal:
            self.terminal = item
            self.status = OperationStatus.from_outcome(event.outcome)
        elif self.events_retained >= MAX_EVENTS_PER_OPERATION:
            # Past the cap: counted above and in its trailing group, if it extends one; the
            # full stream is in .studio/activity.jsonl.
            if kind in SUMMARISED_KINDS:
                group = self._trailing_group(kind)
                if group is not None:
                    group.count += 1
            return
        self.events_retained += 1
        self.retained.append(item)

    def _count_detail(self, detail: object) -> None:
        if isinstance(detail, DiagnosticsUpdatedDetail):
            self.diagnostics = (detail.errors, detail.warnings)
        elif isinstance(detail, BuildFinishedDetail):
            # The build's own totals, when it reports them, are the stream's word on its cache.
            self.cache_hits = max(self.cache_hits, detail.cache_hits)
            self.cache_misses = max(self.cache_misses, detail.cache_misses)
            if detail.blocking:
                self.diagnostics = (len(detail.blocking), 0)

    # -- event rows, derived on demand --

    @property
    def children(self) -> list[EventNode | GroupNode]:
        """The operation's event rows: retained events, consecutive repetitive ones grouped."""
        if self._derived < len(self.retained):
            self.derive()
        return self._nodes

    def derived_children(self) -> list[EventNode | GroupNode]:
        """The rows derived so far, without deriving more (what the model has seen)."""
        return self._nodes

    def derive(self) -> None:
        """Turn the events retained since the last call into rows (grouped, in order)."""
        nodes = self._nodes
        for item in self.retained[self._derived:]:
            kind = item.event.kind
            last = nodes[-1] if nodes else None
            if isinstance(last, GroupNode) and last.kind is kind:
                last.count += 1
                last.children.append(EventNode(item, last, len(last.children)))
            elif kind in SUMMARISED_KINDS:
                group = GroupNode(kind, self, len(nodes))
                group.count = 1
                group.children.append(EventNode(item, group, 0))
                nodes.append(group)
            else:
                nodes.append(EventNode(item, self, len(nodes)))
        self._derived = len(self.retained)
        if self._restored_totals:
            self._count_groups_from_totals()

    def _count_groups_from_totals(self) -> None:
        """History kept a sample of the events; a kind shown as one group gets the run's
        count (its row then says how many were not kept). Interleaved groups keep their own."""
        groups: dict[EventKind, list[GroupNode]] = {}
        for node in self._nodes:
            if isinstance(node, GroupNode):
                groups.setdefault(node.kind, []).append(node)
        for kind, found in groups.items():
            if len(found) == 1:
                found[0].count = max(found[0].count, self.kind_counts.get(kind, 0))

    def _trailing_group(self, kind: EventKind) -> GroupNode | None:
        nodes = self.children
        last = nodes[-1] if nodes else None
        return last if isinstance(last, GroupNode) and last.kind is kind else None

    # -- text --

    def counts_text(self) -> str:
        """Short, for a fixed-width column: zero counts are left out ("no findings" says the
        diagnostics were checked and none found)."""
        parts: list[str] = []
        if self.asset_count:
            parts.append(_plural(self.asset_count, "asset"))
        if self.cache_hits:
            parts.append(_plural(self.cache_hits, "hit"))
        if self.cache_misses:
            parts.append(_plural(self.cache_misses, "miss", "misses"))
        if self.diagnostics is not None:
            errors, warnings = self.diagnostics
            found = [_plural(n, word) for n, word in ((errors, "error"), (warnings, "warning"))
                     if n]
            parts.append(", ".join(found) if found else "no findings")
        return " · ".join(parts)

    def progress_text(self) -> str:
        if self.progress is None:
            return ""
        p = self.progress
        if p.total is None:
            return f"{p.done} {p.unit}"
        if p.done >= p.total:
            return f"{p.done}/{p.total} {p.unit}"
        fraction = p.fraction or 0.0
        return f"{p.done}/{p.total} {p.unit} ({fraction:.0%})"


def _smoothed(previous: float | None, sample: float) -> float:
    """Exponential moving average: a burst moves the rate only partly."""
    return sample if previous is None else (
        RATE_SMOOTHING * sample + (1 - RATE_SMOOTHING) * previous)


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


class BurstNode:
    """Consecutive routine reads folded into one timeline row; newest first, like the timeline.

    Everything it says is counted from the operations it holds; nothing is summarised that is
    not there, and each operation keeps its own row (and events) under it.
    """

    parent = None

    def __init__(self, origin: str | None) -> None:
        self.origin = origin
        self.ops: list[OperationRecord] = []
        self.items: list[Any] = []  # its Qt row (owned by the model)
        self.shown: tuple[object, ...] = ()

    @property
    def running(self) -> bool:
        return any(op.running for op in self.ops)

    @property
    def label(self) -> str:
        count = len(self.ops)
        return f"{count} routine read{'' if count == 1 else 's'}"

    def breakdown(self) -> str:
        """'details ×11 · list ×3', most frequent first, then by name."""
        counts: dict[str, int] = {}
        for op in self.ops:
            counts[op.operation] = counts.get(op.operation, 0) + 1
        ordered = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        return " · ".join(f"{name} ×{count}" for name, count in ordered)

    def statuses(self) -> dict[OperationStatus, int]:
        counts: dict[OperationStatus, int] = {}
        for op in self.ops:
            counts[op.status] = counts.get(op.status, 0) + 1
        return counts
