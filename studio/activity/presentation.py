"""How Activity nodes look in each column (text, icons, bar values); no state of its own."""

from __future__ import annotations

from functools import cache
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from studio.activity.records import EventNode, GroupNode, OperationRecord, OperationStatus

COLUMNS = ("Status", "Operation", "Progress", "Elapsed", "Counts")
COL_STATUS, COL_OPERATION, COL_PROGRESS, COL_ELAPSED, COL_COUNTS = range(5)
NODE_ROLE = Qt.ItemDataRole.UserRole + 1  # the record / group / event node behind an index
BAR_ROLE = Qt.ItemDataRole.UserRole + 2  # float fraction, -1.0 when indeterminate, None: no bar
INDETERMINATE = -1.0

_ICONS = {
    OperationStatus.RUNNING: QStyle.StandardPixmap.SP_BrowserReload,
    OperationStatus.SUCCEEDED: QStyle.StandardPixmap.SP_DialogApplyButton,
    OperationStatus.FAILED: QStyle.StandardPixmap.SP_MessageBoxCritical,
    OperationStatus.BLOCKED: QStyle.StandardPixmap.SP_MessageBoxWarning,
    OperationStatus.CANCELLED: QStyle.StandardPixmap.SP_DialogCancelButton,
    OperationStatus.INTERRUPTED: QStyle.StandardPixmap.SP_MessageBoxQuestion,
}


@cache
def status_icon(status: OperationStatus) -> QIcon:
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    return style.standardIcon(_ICONS[status]) if style is not None else QIcon()


@cache
def _bold() -> QFont:
    font = QFont()
    font.setBold(True)
    return font


def format_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def cell_data(
    node: OperationRecord | GroupNode | EventNode, column: int, role: int, now: float
) -> Any:
    if isinstance(node, OperationRecord):
        return _operation_cell(node, column, role, now)
    if isinstance(node, GroupNode):
        if role == Qt.ItemDataRole.DisplayRole:
            if column == COL_STATUS:
                return node.kind.value
            if column == COL_OPERATION:
                return node.label
        return None
    return _event_cell(node, column, role)


def _operation_cell(rec: OperationRecord, column: int, role: int, now: float) -> Any:
    if role == Qt.ItemDataRole.DisplayRole:
        if column == COL_STATUS:
            return rec.status.value + (" (unacknowledged)" if rec.pinned else "")
        if column == COL_OPERATION:
            return f"{rec.operation}: {rec.summary}"
        if column == COL_PROGRESS:
            return "" if rec.bar_visible(now) else rec.progress_text()
        if column == COL_ELAPSED:
            return format_seconds(rec.elapsed_s(now))
        if column == COL_COUNTS:
            return rec.counts_text()
    elif role == Qt.ItemDataRole.DecorationRole and column == COL_STATUS:
        return status_icon(rec.status)
    elif role == Qt.ItemDataRole.ToolTipRole and column == COL_OPERATION:
        return rec.summary
    elif role == Qt.ItemDataRole.FontRole and rec.pinned:
        return _bold()
    elif role == BAR_ROLE and column == COL_PROGRESS and rec.bar_visible(now):
        fraction = rec.progress.fraction if rec.progress is not None else None
        return INDETERMINATE if fraction is None else fraction
    return None


def _event_cell(node: EventNode, column: int, role: int) -> Any:
    event = node.item.event
    if role == Qt.ItemDataRole.DisplayRole:
        if column == COL_STATUS:
            return event.kind.value + (" (made by the Studio)" if node.item.made_by_lane else "")
        if column == COL_OPERATION:
            return f"#{event.sequence} {event.summary}"
        if column == COL_PROGRESS and event.progress is not None:
            p = event.progress
            return f"{p.done}/{p.total}" if p.total is not None else str(p.done)
        if column == COL_ELAPSED:
            record = node.parent if isinstance(node.parent, OperationRecord) else node.parent.parent
            offset = (event.timestamp - record.first_timestamp).total_seconds()
            return "+" + format_seconds(max(0.0, offset))
        if column == COL_COUNTS and event.affected_assets:
            return ", ".join(a.name or a.root for a in event.affected_assets[:3]) + (
                "…" if len(event.affected_assets) > 3 else ""
            )
    elif role == Qt.ItemDataRole.ToolTipRole and column == COL_OPERATION:
        return event.summary
    return None
