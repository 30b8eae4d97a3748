"""The Activity timeline as a Qt model: newest operation first, one row per operation.

Rows expand to the operation's events (repetitive ones grouped). The model is fed ordered batches
of lane items (`apply`) and keeps the state in OperationRecords; what rows show is written into
QStandardItems, so a view paints without calling back into Python (under a flood each such call
waits for the GIL). Row texts are refreshed on a ~100 ms timer, not per event; event rows are
created only when their operation is expanded (`materialize`), with a placeholder until then.
Failures stay pinned (never evicted) until acknowledged; `unacknowledged_failures_changed`
carries their count for the tab title.

Routine reads (records.ROUTINE_OPERATIONS: the listings and details the Studio asks for on every
refresh and selection) start inside a fold, one BurstNode row per uninterrupted run ("14 routine
reads"), so builds and mutations are not buried. A read leaves the fold for a row of its own,
just above it, when it fails or is blocked, or when its findings (errors, warnings) differ from
the previous same read's. Nothing is dropped: each folded operation keeps its row and events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from types import MethodType
from weakref import WeakMethod

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QStandardItem, QStandardItemModel

from packer.lane.events import EventKind
from studio.panels.activity.journal import JournalEntry
from studio.panels.activity.journal_writer import JournalWriter
from studio.panels.activity.presentation import (
    BAR_ROLE,
    COL_COUNTS,
    COL_OPERATION,
    COLUMN_TITLES,
    COLUMNS,
    INDETERMINATE,
    NODE_ROLE,
    bar_brush,
    bar_value,
    burst_row,
    burst_status,
    burst_status_text,
    burst_tooltip,
    busy_brush,
    compact_counts,
    event_row,
    format_seconds,
    group_row,
    live_note,
    operation_text,
    operation_tooltip,
    progress_cell,
    row_font,
    status_icon,
    status_text,
)
from studio.panels.activity.records import (
    ROUTINE_OPERATIONS,
    ROUTINE_OUTCOMES,
    BurstNode,
    EventNode,
    GroupNode,
    OperationRecord,
    OperationStatus,
)
from studio.services.asset_history import AssetHistory
from studio.services.lane_items import LaneEvent

Index = QModelIndex | QPersistentModelIndex
Node = OperationRecord | GroupNode | EventNode | BurstNode
FindingsKey = tuple[str | None, str, frozenset[str]]  # origin, operation, affected roots
RowWindow = Callable[[], tuple[int, int] | None]  # first, last top-level row on screen; None: all

_PROGRESS = EventKind.PROGRESS_UPDATED
MAX_OPERATIONS = 500  # operations kept in memory, besides pinned failures (never evicted)
BATCHED_REFRESH = 8  # rows refreshed at once from which cells are announced per parent
PLACEHOLDER = "…"  # the one child row of an operation nobody has expanded yet


def _row_items(texts: Sequence[str], node: Node) -> list[QStandardItem]:
    items = [QStandardItem(text) for text in texts]
    for item in items:
        item.setEditable(False)
    items[0].setData(node, NODE_ROLE)
    return items


def _placeholder() -> QStandardItem:
    item = QStandardItem(PLACEHOLDER)
    item.setEditable(False)
    return item


class ActivityModel(QStandardItemModel):
    unacknowledged_failures_changed = Signal(int)
    operations_changed = Signal()  # running set or progress changed (for progress widgets)

    REFRESH_MS = 100

    def __init__(
        self, journal: JournalWriter | None = None, parent: QObject | None = None, *,
        project_id: str | None = None,
    ) -> None:
        super().__init__(0, len(COLUMNS), parent)
        # The open project's id: events of another project (a replayed log) are foreign, and
        # their asset links are not offered (None: no project, nothing is foreign).
        self.project_id = project_id
        self.setHorizontalHeaderLabels(list(COLUMNS))
        for column, title in enumerate(COLUMN_TITLES):
            self.setHeaderData(column, Qt.Orientation.Horizontal, title,
                               Qt.ItemDataRole.ToolTipRole)
            self.setHeaderData(column, Qt.Orientation.Horizontal, title,
                               Qt.ItemDataRole.AccessibleTextRole)
        self.asset_history = AssetHistory()  # per asset, for its details (this project's only)
        self._ops: list[OperationRecord] = []  # row order: newest first
        self._by_id: dict[str, OperationRecord] = {}
        self._journal = journal
        self._dirty: set[OperationRecord] = set()
        self._findings: dict[FindingsKey, tuple[int, int]] = {}  # the last same read's
        self._unacknowledged = 0
        self._row_window: WeakMethod[RowWindow] | None = None
        self._refresh = QTimer(self)
        self._refresh.setInterval(self.REFRESH_MS)
        self._refresh.timeout.connect(self._on_refresh)

    # ---- feeding -------------------------------------------------------------------------

    @Slot(object)
    def apply(self, items: Sequence[LaneEvent]) -> None:
        """Apply one ordered batch from the event lane (GUI thread)."""
        self._apply(items, journal=True)

    def restore(self, entries: Iterable[JournalEntry]) -> None:
        """Rebuild the timeline from history; operations with no terminal are `incomplete`.
        History keeps a sample of each operation's events; its terminal's totals are the
        run's exact counts, so a restored row says what the live one said."""
        entries = list(entries)
        self._apply([LaneEvent(e.event, 1, e.made_by_lane) for e in entries], journal=False)
        acknowledged = {e.event.operation_id for e in entries if e.acknowledged}
        for entry in entries:
            if entry.totals is None and not entry.assets_not_kept:
                continue
            rec = self._by_id.get(entry.event.operation_id)
            if rec is None:
                continue
            if entry.totals is not None:
                rec.apply_totals(entry.totals)
            if entry.assets_not_kept:
                rec.assets_not_kept[entry.event.sequence] = entry.assets_not_kept
        for rec in self._ops:
            if rec.running:
                rec.status = OperationStatus.INCOMPLETE
            if rec.operation_id in acknowledged:
                rec.acknowledged = True
        self.refresh_rows(self._ops)
        self._update_failure_count()
        self._evict()

    def _apply(self, items: Sequence[LaneEvent], *, journal: bool) -> None:
        # The hot path under a flood: per item one lookup and a few counters on its record
        # (records.OperationRecord keeps lifecycle events in a plain list; their rows are made
        # only when expanded). Qt work is per batch and per touched operation, never per event.
        now = time.monotonic()
        by_id = self._by_id
        dirty = self._dirty
        new_ops: list[OperationRecord] = []
        touched: dict[OperationRecord, None] = {}  # records with lifecycle events, in order
        entries: list[JournalEntry] | None = (
            [] if journal and self._journal is not None else None
        )
        progressed = False
        for item in items:
            event = item.event
            rec = by_id.get(event.operation_id)
            if rec is None:
                rec = OperationRecord(event, now, item.origin)
                by_id[rec.operation_id] = rec
                new_ops.append(rec)
            if event.kind is _PROGRESS:
                progressed = True
                if rec.apply_progress(item, now):
                    dirty.add(rec)  # the row shows it on the refresh tick
                continue
            rec.apply_lifecycle(item, now)
            touched[rec] = None
            if event.affected_assets and item.origin is None and not self.is_foreign(
                    event.project_id):
                self.asset_history.add(event)
            if entries is not None and item.origin is None:
                # Replayed events are another run's history, never this project's.
                entries.append(JournalEntry(event, False, item.made_by_lane,
                                            rec.totals() if event.terminal else None))
        dirty.update(touched)
        fresh = set(new_ops)
        self._insert_rows(new_ops)
        ended: list[OperationRecord] = []
        for rec in touched:
            if rec not in fresh:
                self._show_new_events(rec)
            if not rec.running:
                ended.append(rec)
                if rec.burst is not None and not self._stays_routine(rec):
                    self._unfold(rec)
        # Rows of new and ended operations now; the rest on the refresh tick.
        self.refresh_rows(new_ops + [rec for rec in ended if rec not in fresh])
        if entries:
            assert self._journal is not None
            self._journal.append(entries)  # written by the writer thread, off the GUI thread
        if ended:
            self._update_failure_count()
        self._evict()
        running = progressed or any(rec.running for rec in touched)
        if running and not self._refresh.isActive():
            self._refresh.start()
        self.operations_changed.emit()

    def _insert_rows(self, new_ops: list[OperationRecord]) -> None:
        for rec in new_ops:  # in order of appearance, each on top: newest first
            rec.items = _row_items(("",) * len(COLUMNS), rec)
            if rec.operation in ROUTINE_OPERATIONS:
                burst = self._top_burst(rec.origin)
                burst.items[0].insertRow(0, rec.items)
                burst.ops.insert(0, rec)
                rec.burst = burst
            else:
                self.insertRow(0, rec.items)
            if rec.retained:
                rec.items[0].appendRow(_placeholder())
                rec.placeholder = True
            self._ops.insert(0, rec)

    def _show_new_events(self, rec: OperationRecord) -> None:
        """Rows for the events an operation got since the last batch, if it is expanded."""
        if not rec.fetched:
            # A flag, not rowCount(): this runs per touched operation per batch, and every
            # call into Qt costs more than the Python around it.
            if not rec.placeholder and rec.retained:
                rec.items[0].appendRow(_placeholder())
                rec.placeholder = True
            return
        seen = rec.derived_children()
        trailing = seen[-1] if seen else None
        rec.derive()  # the rows of the new events
        if isinstance(trailing, GroupNode) and trailing.items is not None:
            trailing.items[1].setText(group_row(trailing)[1])  # "43 cache hits"
            if trailing.fetched:
                self._expose(trailing)
        self._expose(rec)

    # ---- folding routine reads ---------------------------------------------------------------

    def _top_burst(self, origin: str | None) -> BurstNode:
        """The fold on top of the timeline, or a new one there (a run of reads was broken)."""
        top = self.item(0, 0)
        node = top.data(NODE_ROLE) if top is not None else None
        if isinstance(node, BurstNode) and node.origin == origin:
            return node
        burst = BurstNode(origin)
        burst.items = _row_items(("",) * len(COLUMNS), burst)
        self.insertRow(0, burst.items)
        return burst

    def _stays_routine(self, rec: OperationRecord) -> bool:
        """An ended read stays folded while it ended well and found what the last one did."""
        if rec.status not in ROUTINE_OUTCOMES:
            return False
        if rec.status is not OperationStatus.SUCCEEDED or rec.diagnostics is None:
            return True
        key = (rec.origin, rec.operation, frozenset(rec.assets))
        before = self._findings.get(key)
        self._findings[key] = rec.diagnostics
        return before is None or before == rec.diagnostics

    def _unfold(self, rec: OperationRecord) -> None:
        """Give a read that matters its own row, just above the fold it was in."""
        burst = rec.burst
        assert burst is not None
        items = burst.items[0].takeRow(rec.items[0].row())
        burst.ops.remove(rec)
        rec.burst = None
        self.insertRow(burst.items[0].row(), items)
        if not burst.ops:
            self.removeRow(burst.items[0].row())
        else:
            self._show_burst(burst)

    def _show_burst(self, burst: BurstNode) -> bool:
        texts = burst_row(burst)
        status = burst_status(burst)
        shown = (texts, status, burst_status_text(burst))
        if shown == burst.shown:
            return False
        for column, text in enumerate(texts):
            burst.items[column].setText(text)
        tooltip = burst_tooltip(burst)
        for item in burst.items:
            item.setToolTip(tooltip)
        burst.items[0].setIcon(status_icon(status))
        burst.items[0].setData(f"{burst.label}: {burst_status_text(burst)}",
                               Qt.ItemDataRole.AccessibleTextRole)
        burst.shown = shown
        return True

    def _expose(self, node: OperationRecord | GroupNode) -> None:
        """Give Qt rows to the children it has not seen yet (only for expanded rows)."""
        assert node.items is not None
        parent = node.items[0]
        for child in node.children[node.exposed:]:
            if isinstance(child, GroupNode):
                child.items = _row_items(group_row(child), child)
                child.items[0].appendRow(_placeholder())
                child.items[0].setToolTip(child.kind.value)
            else:
                child.items = _row_items(event_row(child), child)
                child.items[0].setToolTip(child.item.event.kind.value)
            parent.appendRow(child.items)
        node.exposed = len(node.children)

    def materialize(self, index: Index) -> bool:
        """Make the event rows of an operation or group (the view expanded it)."""
        node = self.node(index)
        if not isinstance(node, OperationRecord | GroupNode) or node.fetched:
            return False
        node.fetched = True
        assert node.items is not None
        node.items[0].removeRows(0, node.items[0].rowCount())  # the placeholder
        self._expose(node)
        return True

    def _evict(self) -> None:
        # The newest MAX_OPERATIONS, plus older failures nobody acknowledged (as the history).
        while len(self._ops) - self._unacknowledged > MAX_OPERATIONS:
            victim = next(
                (r for r in reversed(self._ops) if not r.pinned and not r.running), None
            )
            if victim is None:
                return
            burst = victim.burst
            holder = burst.items[0] if burst is not None else self.invisibleRootItem()
            holder.removeRow(victim.items[0].row())
            if burst is not None:
                burst.ops.remove(victim)
                if not burst.ops:
                    self.removeRow(burst.items[0].row())
                else:
                    self._show_burst(burst)
            self._ops.remove(victim)
            del self._by_id[victim.operation_id]
            self._dirty.discard(victim)

    def refresh_rows(self, records: Iterable[OperationRecord] | None = None) -> None:
        """Write what changed into the rows (all dirty and running ones by default)."""
        now = time.monotonic()
        if records is None:
            records = [rec for rec in self._ops if rec.running or rec in self._dirty]
        elif not isinstance(records, list):
            records = list(records)
        if not records:
            return
        # Many rows (the refresh tick of running operations): cells are written with the
        # model's signals blocked and each parent gets one dataChanged for its changed rows,
        # instead of one per cell (each makes the view map an index and queue an update). A
        # few rows (operations that just began or ended) announce their own cells.
        batched = len(records) >= BATCHED_REFRESH
        changed: list[QStandardItem] = []
        blocked = self.blockSignals(True) if batched else False
        try:
            bursts: dict[int, BurstNode] = {}
            for rec in records:
                self._dirty.discard(rec)
                if self._show(rec, now):
                    changed.append(rec.items[0])
                if rec.burst is not None:
                    bursts[id(rec.burst)] = rec.burst
            for burst in bursts.values():
                if self._show_burst(burst):
                    changed.append(burst.items[0])
        finally:
            if batched:
                self.blockSignals(blocked)
        if batched and changed:
            self._announce(changed)

    def _announce(self, first_cells: list[QStandardItem]) -> None:
        """One dataChanged per parent, spanning its changed rows and every column."""
        rows: dict[int, tuple[QStandardItem | None, int, int]] = {}
        for cell in first_cells:
            parent: QStandardItem | None = cell.parent()
            row = cell.row()
            key = id(parent)
            span = rows.get(key)
            rows[key] = (parent, row, row) if span is None else (
                parent, min(span[1], row), max(span[2], row)
            )
        last = len(COLUMNS) - 1
        for parent, top, bottom in rows.values():
            where = self.indexFromItem(parent) if parent is not None else QModelIndex()
            self.dataChanged.emit(self.index(top, 0, where), self.index(bottom, last, where))

    def _show(self, rec: OperationRecord, now: float) -> bool:
        """Bring the row up to date; True when something in it changed."""
        bar = bar_value(rec, now)
        if rec.texts_at != rec.version:  # operation text and counts change only with events
            rec.texts_at = rec.version
            rec.texts = (operation_text(rec), compact_counts(rec))
        operation, counts = rec.texts
        if rec.running:
            note = live_note(rec, now)
            if note:
                operation = f"{operation} — {note}"
        shown = (operation, progress_cell(rec, bar), format_seconds(rec.elapsed_s(now)), counts,
                 bar, rec.status, rec.pinned)
        before = rec.shown
        if shown == before:
            return False
        if not before:
            before = ("", "", "", "", None, None, None)
        items = rec.items
        for column in range(COL_OPERATION, COL_COUNTS + 1):
            text = shown[column - 1]
            if text != before[column - 1]:
                items[column].setText(text)
        if before[5] is not rec.status or before[6] != rec.pinned:
            items[0].setIcon(status_icon(rec.status))
            words = status_text(rec)
            items[0].setToolTip(words)
            items[0].setData(words, Qt.ItemDataRole.AccessibleTextRole)
            items[1].setToolTip(operation_tooltip(rec))
        if before[6] != rec.pinned:
            items[1].setFont(row_font(rec.pinned, rec.origin is not None))
        if not rec.shown or before[4] != bar:
            items[2].setData(bar, BAR_ROLE)
            if bar is None:
                items[2].setBackground(QBrush())
            else:
                items[2].setBackground(
                    busy_brush() if bar == INDETERMINATE else bar_brush(int(bar * 100))
                )
        rec.shown = shown
        return True

    def set_row_window(self, window: RowWindow | None) -> None:
        """Tell the model which top-level rows are on screen (the panel does; held weakly).

        The refresh tick then rewrites only the running rows in that window (their elapsed
        time and progress change every tick); a running row off screen is brought up to date
        when it comes into view (`refresh_on_screen`, or the next tick). Rows of operations
        that begin or end are always written at once, and the records, which the inspection
        and the progress widgets read, are always current.
        """
        self._row_window = WeakMethod(window) if isinstance(window, MethodType) else None

    @Slot()
    def refresh_on_screen(self) -> None:
        """Bring the running rows now on screen up to date (after a scroll, on show)."""
        self.refresh_rows(self._tick_records())

    def _tick_records(self) -> list[OperationRecord]:
        source = self._row_window() if self._row_window is not None else None
        window = source() if source is not None else None
        if window is None:
            return [rec for rec in self._ops if rec.running or rec in self._dirty]
        first, last = window
        records = []
        for rec in self._ops:
            if rec.running:
                holder = rec.items[0] if rec.burst is None else rec.burst.items[0]
                if not first <= holder.row() <= last:
                    continue
            elif rec not in self._dirty:
                continue
            records.append(rec)
        return records

    @Slot()
    def _on_refresh(self) -> None:
        self.refresh_rows(self._tick_records())
        self.operations_changed.emit()
        if not any(rec.running for rec in self._ops):
            self._refresh.stop()

    # ---- queries and acknowledgement ----------------------------------------------------

    def operations(self) -> list[OperationRecord]:
        return list(self._ops)

    def operation(self, operation_id: str) -> OperationRecord | None:
        return self._by_id.get(operation_id)

    def running_operations(self) -> list[OperationRecord]:
        return [rec for rec in self._ops if rec.running]

    def is_foreign(self, project_id: str) -> bool:
        return self.project_id is not None and project_id != self.project_id

    def last_build(self) -> OperationRecord | None:
        """The open project's newest ended build (its own history, never a replayed one)."""
        for rec in self._ops:
            if (rec.operation == "build" and rec.origin is None and rec.terminal is not None
                    and not self.is_foreign(rec.project_id)):
                return rec
        return None

    @property
    def unacknowledged_failures(self) -> int:
        return self._unacknowledged

    def acknowledge(self, operation_ids: Iterable[str]) -> None:
        done = []
        for op_id in operation_ids:
            rec = self._by_id.get(op_id)
            if rec is not None and rec.pinned:
                rec.acknowledged = True
                done.append(rec)
        if not done:
            return
        if self._journal is not None:
            self._journal.mark_acknowledged(
                {rec.operation_id for rec in done if rec.origin is None}
            )
        self.refresh_rows(done)
        self._update_failure_count()
        self._evict()

    def acknowledge_all(self) -> None:
        self.acknowledge([rec.operation_id for rec in self._ops if rec.pinned])

    def _update_failure_count(self) -> None:
        count = sum(1 for rec in self._ops if rec.pinned)
        if count != self._unacknowledged:
            self._unacknowledged = count
            self.unacknowledged_failures_changed.emit(count)

    @property
    def journal(self) -> JournalWriter | None:
        return self._journal

    def flush_journal(self, timeout: float | None = None) -> bool:
        """Wait until the history written so far is on disk (project switch, closing)."""
        return self._journal.flush(timeout) if self._journal is not None else True

    # ---- Qt indexes ------------------------------------------------------------------------

    def node(self, index: Index) -> Node | None:
        if not index.isValid():
            return None
        item = self.itemFromIndex(self.index(index.row(), 0, index.parent()))
        node: Node | None = item.data(NODE_ROLE) if item is not None else None
        return node

    def index_of(self, rec: OperationRecord, column: int = 0) -> QModelIndex:
        return self.indexFromItem(rec.items[column])
