"""Paints the inline progress bar of an Activity row (no per-row widgets)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from studio.activity.presentation import BAR_ROLE, INDETERMINATE


class ProgressBarDelegate(QStyledItemDelegate):
    """Draws a determinate bar (0-1000) or an indeterminate one; plain text otherwise."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        value = index.data(BAR_ROLE)
        if value is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.state = option.state
        bar.minimum = 0
        if value == INDETERMINATE:
            bar.maximum = 0  # Qt's convention for "busy"
            bar.progress = 0
        else:
            bar.maximum = 1000
            bar.progress = int(value * 1000)
            bar.text = f"{value:.0%}"
            bar.textVisible = True
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)
