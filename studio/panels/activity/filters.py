"""Filters of the Activity timeline: by event kind, by status, and by free text."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel

from packer.lane.events import EventKind
from studio.panels.activity.presentation import NODE_ROLE
from studio.panels.activity.records import (
    BurstNode,
    EventNode,
    GroupNode,
    OperationRecord,
    OperationStatus,
)


class StatusFilter(StrEnum):
    ALL = "all"
    RUNNING = "running"
    FAILED = "failed"  # failed or blocked, acknowledged or not


class ActivityFilter(QSortFilterProxyModel):
    """Operations pass when they match every active filter; their events pass the kind filter."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._kind: EventKind | None = None
        self._status = StatusFilter.ALL
        self._text = ""
        self.setDynamicSortFilter(True)

    @property
    def active(self) -> bool:
        return self._kind is not None or self._status is not StatusFilter.ALL or bool(self._text)

    def set_kind(self, kind: EventKind | None) -> None:
        self.beginFilterChange()
        self._kind = kind
        self.endFilterChange()

    def set_status(self, status: StatusFilter) -> None:
        self.beginFilterChange()
        self._status = status
        self.endFilterChange()

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().casefold()
        self.endFilterChange()

    def filterAcceptsRow(  # noqa: N802 (Qt override)
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        node = model.index(source_row, 0, source_parent).data(NODE_ROLE)
        if isinstance(node, OperationRecord):
            return self._accepts_operation(node)
        if isinstance(node, BurstNode):  # shown when any of its reads is
            return any(self._accepts_operation(op) for op in node.ops)
        if isinstance(node, GroupNode):
            return self._kind is None or node.kind is self._kind
        if isinstance(node, EventNode):
            return self._kind is None or node.item.event.kind is self._kind
        return True

    def _accepts_operation(self, rec: OperationRecord) -> bool:
        if self._kind is not None and self._kind not in rec.kinds and not (
            self._kind is EventKind.PROGRESS_UPDATED and rec.progress_updates
        ):
            return False
        if self._status is StatusFilter.RUNNING and not rec.running:
            return False
        if self._status is StatusFilter.FAILED and rec.status not in (
            OperationStatus.FAILED, OperationStatus.BLOCKED
        ):
            return False
        if self._text:
            haystack = " ".join((rec.operation, rec.summary, rec.operation_id, rec.status.value,
                                 rec.origin or "", *rec.assets))
            if self._text not in haystack.casefold() and not self._text_in_events(rec):
                return False
        return True

    def _text_in_events(self, rec: OperationRecord) -> bool:
        for child in rec.children:
            events = child.children if isinstance(child, GroupNode) else [child]
            for node in events:
                if self._text in node.item.event.summary.casefold():
                    return True
        return False
