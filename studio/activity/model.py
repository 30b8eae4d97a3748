"""The Activity timeline as a Qt tree model: newest operation first, one row per operation.

Rows expand to the operation's events (repetitive ones grouped). The model is fed batches of
lane items (`apply`), inserts new rows once per batch, and refreshes progress and elapsed time on
its own ~100 ms timer rather than per event. Failures stay pinned (never evicted) until
acknowledged; `unacknowledged_failures_changed` carries their count for the tab title.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)

from packer.events import EventKind
from studio.activity.journal import ActivityJournal, JournalEntry
from studio.activity.presentation import (
    COL_ELAPSED,
    COL_PROGRESS,
    COLUMNS,
    NODE_ROLE,
    cell_data,
)
from studio.activity.records import (
    EventNode,
    GroupNode,
    OperationRecord,
    OperationStatus,
)
from studio.event_lane import LaneEvent

Index = QModelIndex | QPersistentModelIndex
Node = OperationRecord | GroupNode | EventNode
_ROOT = QModelIndex()  # the invisible root, as a default argument

MAX_OPERATIONS = 500  # operations kept in memory; pinned failures are never evicted


class ActivityModel(QAbstractItemModel):
    unacknowledged_failures_changed = Signal(int)
    operations_changed = Signal()  # running set or progress changed (for progress widgets)

    REFRESH_MS = 100
    JOURNAL_FLUSH_MS = 250

    def __init__(
        self, journal: ActivityJournal | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._ops: list[OperationRecord] = []  # row order: newest first
        self._by_id: dict[str, OperationRecord] = {}
        self._journal = journal
        self._dirty: set[OperationRecord] = set()
        self._unacknowledged = 0
        self._refresh = QTimer(self)
        self._refresh.setInterval(self.REFRESH_MS)
        self._refresh.timeout.connect(self._on_refresh)
        # History goes to disk in batches: one write + fsync per quarter second at most.
        self._journal_timer = QTimer(self)
        self._journal_timer.setSingleShot(True)
        self._journal_timer.setInterval(self.JOURNAL_FLUSH_MS)
        self._journal_timer.timeout.connect(self.flush_journal)

    # ---- feeding -------------------------------------------------------------------------

    @Slot(object)
    def apply(self, items: Sequence[LaneEvent]) -> None:
        """Apply one ordered batch from the event lane (GUI thread)."""
        self._apply(items, journal=True)

    def restore(self, entries: Iterable[JournalEntry]) -> None:
        """Rebuild the timeline from history; operations with no terminal are `interrupted`."""
        entries = list(entries)
        self._apply([LaneEvent(e.event, 1, e.made_by_lane) for e in entries], journal=False)
        acknowledged = {e.event.operation_id for e in entries if e.acknowledged}
        for rec in self._ops:
            if rec.running:
                rec.status = OperationStatus.INTERRUPTED
            if rec.operation_id in acknowledged:
                rec.acknowledged = True
        self._emit_rows_changed(self._ops)
        self._update_failure_count()

    def _apply(self, items: Sequence[LaneEvent], *, journal: bool) -> None:
        now = time.monotonic()
        batches: dict[OperationRecord, list[LaneEvent]] = {}
        new_ops: list[OperationRecord] = []
        for item in items:
            rec = self._by_id.get(item.event.operation_id)
            if rec is None:
                rec = OperationRecord(item.event, now)
                self._by_id[rec.operation_id] = rec
                new_ops.append(rec)
            batches.setdefault(rec, []).append(item)
        fresh = set(new_ops)
        for rec in new_ops:  # rows are built before they are announced: one insert per batch
            self._apply_to(rec, batches[rec], announce=False)
        if new_ops:
            self.beginInsertRows(QModelIndex(), 0, len(new_ops) - 1)
            self._ops[0:0] = reversed(new_ops)
            self._renumber()
            self.endInsertRows()
        changed = [rec for rec in batches if rec not in fresh]
        for rec in changed:
            self._apply_to(rec, batches[rec], announce=True)
        self._emit_rows_changed(changed)
        if journal and self._journal is not None:
            self._journal.append(
                JournalEntry(i.event, False, i.made_by_lane)
                for i in items if i.event.kind is not EventKind.PROGRESS_UPDATED
            )
            if self._journal.pending and not self._journal_timer.isActive():
                self._journal_timer.start()
        self._evict()
        self._update_failure_count()
        if any(rec.running for rec in batches) and not self._refresh.isActive():
            self._refresh.start()
        self.operations_changed.emit()

    def _apply_to(self, rec: OperationRecord, batch: list[LaneEvent], *, announce: bool) -> None:
        trailing = rec.children[-1] if rec.children else None
        new_rows: list[EventNode | GroupNode] = []
        for item in batch:
            if item.event.kind is EventKind.PROGRESS_UPDATED:
                if rec.apply_progress(item):
                    self._dirty.add(rec)
                continue
            # Rows made in this batch must not be extended through rec.children yet.
            if new_rows:
                node = self._apply_after_new_rows(rec, item, new_rows)
            else:
                node = rec.apply_lifecycle(item)
            if node is not None:
                node.row = len(rec.children) + len(new_rows)
                new_rows.append(node)
        rec.children.extend(new_rows)
        if not announce:
            return
        if isinstance(trailing, GroupNode) and rec.fetched:
            group_index = self.createIndex(trailing.row, 1, trailing)
            self.dataChanged.emit(group_index, group_index)  # "43 cache hits"
            if trailing.fetched:
                self._expose(trailing)
        if new_rows and rec.fetched:
            self._expose(rec)

    def _expose(self, node: OperationRecord | GroupNode) -> None:
        """Announce children Qt has not seen yet. Children of a row nobody expanded are never
        announced one batch at a time (that cost ~0.1 ms per parent per batch under load);
        `fetchMore` announces them all when a view expands the row."""
        if node.exposed < len(node.children):
            parent = self.createIndex(node.row, 0, node)
            self.beginInsertRows(parent, node.exposed, len(node.children) - 1)
            node.exposed = len(node.children)
            self.endInsertRows()

    @staticmethod
    def _apply_after_new_rows(
        rec: OperationRecord, item: LaneEvent, new_rows: list[EventNode | GroupNode]
    ) -> EventNode | GroupNode | None:
        # Temporarily expose the pending rows so grouping continues across them.
        rec.children.extend(new_rows)
        try:
            return rec.apply_lifecycle(item)
        finally:
            del rec.children[len(rec.children) - len(new_rows):]

    def _renumber(self) -> None:
        for row, rec in enumerate(self._ops):
            rec.row = row

    def _emit_rows_changed(self, records: Iterable[OperationRecord]) -> None:
        rows = [rec.row for rec in records]
        if rows:
            self.dataChanged.emit(
                self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1)
            )

    def _evict(self) -> None:
        while len(self._ops) > MAX_OPERATIONS:
            victim = next(
                (r for r in reversed(self._ops) if not r.pinned and not r.running), None
            )
            if victim is None:
                return
            self.beginRemoveRows(QModelIndex(), victim.row, victim.row)
            del self._ops[victim.row]
            del self._by_id[victim.operation_id]
            self._dirty.discard(victim)
            self._renumber()
            self.endRemoveRows()

    @Slot()
    def _on_refresh(self) -> None:
        running = [rec for rec in self._ops if rec.running]
        touched = running + [rec for rec in self._dirty if not rec.running]
        self._dirty.clear()
        if touched:
            rows = [rec.row for rec in touched]
            self.dataChanged.emit(
                self.index(min(rows), COL_PROGRESS), self.index(max(rows), COL_ELAPSED)
            )
            self.operations_changed.emit()
        if not running:
            self._refresh.stop()

    # ---- queries and acknowledgement ----------------------------------------------------

    def operations(self) -> list[OperationRecord]:
        return list(self._ops)

    def operation(self, operation_id: str) -> OperationRecord | None:
        return self._by_id.get(operation_id)

    def running_operations(self) -> list[OperationRecord]:
        return [rec for rec in self._ops if rec.running]

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
            self._journal.mark_acknowledged({rec.operation_id for rec in done})
        self._emit_rows_changed(done)
        self._update_failure_count()
        self._evict()

    def acknowledge_all(self) -> None:
        self.acknowledge([rec.operation_id for rec in self._ops if rec.pinned])

    def _update_failure_count(self) -> None:
        count = sum(1 for rec in self._ops if rec.pinned)
        if count != self._unacknowledged:
            self._unacknowledged = count
            self.unacknowledged_failures_changed.emit(count)

    @Slot()
    def flush_journal(self) -> None:
        if self._journal is not None:
            self._journal.flush()

    # ---- QAbstractItemModel --------------------------------------------------------------

    def node(self, index: Index) -> Node | None:
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        return node

    def index_of(self, rec: OperationRecord, column: int = 0) -> QModelIndex:
        return self.createIndex(rec.row, column, rec)

    def index(self, row: int, column: int, parent: Index = _ROOT) -> QModelIndex:
        if column < 0 or column >= len(COLUMNS) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row < len(self._ops):
                return self.createIndex(row, column, self._ops[row])
            return QModelIndex()
        owner = self.node(parent)
        children: Sequence[Node] = owner.children if owner is not None else ()
        if row < len(children):
            return self.createIndex(row, column, children[row])
        return QModelIndex()

    def parent(self, index: Index = _ROOT) -> QModelIndex:  # type: ignore[override]
        node = self.node(index)
        if node is None or isinstance(node, OperationRecord):
            return QModelIndex()
        owner = node.parent
        return self.createIndex(owner.row, 0, owner)

    def rowCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 (Qt override)
        if not parent.isValid():
            return len(self._ops)
        if parent.column() != 0:
            return 0
        node = self.node(parent)
        return node.exposed if isinstance(node, OperationRecord | GroupNode) else 0

    def hasChildren(self, parent: Index = _ROOT) -> bool:  # noqa: N802 (Qt override)
        if not parent.isValid():
            return bool(self._ops)
        node = self.node(parent)
        return parent.column() == 0 and node is not None and bool(node.children)

    def canFetchMore(self, parent: Index) -> bool:  # noqa: N802 (Qt override)
        node = self.node(parent)
        return isinstance(node, OperationRecord | GroupNode) and (
            not node.fetched or node.exposed < len(node.children)
        )

    def fetchMore(self, parent: Index) -> None:  # noqa: N802 (Qt override)
        node = self.node(parent)
        if isinstance(node, OperationRecord | GroupNode):
            node.fetched = True
            self._expose(node)

    def columnCount(self, parent: Index = _ROOT) -> int:  # noqa: N802 (Qt override)
        return len(COLUMNS)

    def headerData(  # noqa: N802 (Qt override)
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        if role == NODE_ROLE:
            return node
        return cell_data(node, index.column(), role, time.monotonic())
