"""Progress widgets fed by the Activity model: the status-bar aggregate and per-operation bars.

Both read the model on their own ~100 ms timer (a bar repaint is synchronous and costs ~0.5 ms,
so never per event), show only operations that have run longer than ~300 ms (no flicker), never
move backwards within an operation, and are indeterminate when no total is known. Nothing here
invents progress: with no event, nothing moves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from studio.panels.activity.model import ActivityModel
from studio.panels.activity.presentation import live_note, operation_text
from studio.panels.activity.records import OperationRecord
from studio.services.event_lane import EventLane

REFRESH_MS = 100
BAR_RANGE = 1000


@dataclass(frozen=True, slots=True)
class ProgressSummary:
    """What a bar shows: how many operations, and a fraction (None: indeterminate)."""

    operations: tuple[OperationRecord, ...]
    fraction: float | None
    now: float = 0.0  # when it was made (stalls and time left depend on it)

    @property
    def count(self) -> int:
        return len(self.operations)

    def text(self) -> str:
        if not self.operations:
            return ""
        if self.count == 1:
            rec = self.operations[0]
            label = operation_text(rec)  # "list: 5/9 assets", never "list: list: 5/9 …"
            note = live_note(rec, self.now)
        else:
            label = f"{self.count} operations"
            stalled = [s for s in (r.stalled_for(self.now) for r in self.operations)
                       if s is not None]
            note = (f"{len(stalled)} with no progress for {int(max(stalled))} s"
                    if stalled else "")
        text = label if self.fraction is None else f"{label}, {self.fraction:.0%}"
        return f"{text} — {note}" if note else text


def summarise(records: Sequence[OperationRecord], now: float) -> ProgressSummary:
    """Running operations old enough for a bar; done/total summed over the determinate ones."""
    shown = tuple(rec for rec in records if rec.bar_visible(now))
    done = total = 0
    for rec in shown:
        p = rec.progress
        if p is not None and p.total is not None:
            done += min(p.done, p.total)
            total += p.total
    fraction = (done / total if total else 1.0) if any(
        r.progress is not None and r.progress.total is not None for r in shown
    ) else None
    return ProgressSummary(shown, fraction, now)


class _RefreshingBar(QWidget):
    """Shared mechanics: refresh on a timer while the model has running operations."""

    def __init__(self, model: ActivityModel, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.model = model
        self.bar = QProgressBar(self)
        self.bar.setRange(0, BAR_RANGE)
        self.bar.setTextVisible(False)
        self._shown_value = -1
        self._shown_records: tuple[OperationRecord, ...] = ()  # running when last refreshed
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        model.operations_changed.connect(self._on_operations_changed)
        self.setVisible(False)

    @Slot()
    def _on_operations_changed(self) -> None:
        # At once when operations start or end (the bar appears, goes, or its count changes);
        # progress alone waits for the timer: a bar repainted per delivery cost the GUI
        # thread a paint per drain during a build.
        if not self._timer.isActive():
            self._timer.start()
        if tuple(self._records()) != self._shown_records:
            self.refresh()

    def _records(self) -> Sequence[OperationRecord]:
        return self.model.running_operations()

    @Slot()
    def refresh(self) -> None:
        records = self._records()
        self._shown_records = tuple(records)
        summary = summarise(records, time.monotonic())
        if not records:
            self._timer.stop()
        self._show(summary)

    def _show(self, summary: ProgressSummary) -> None:
        self.setVisible(summary.count > 0)
        if summary.count == 0:
            self._shown_value = -1
            return
        if summary.fraction is None:
            self.bar.setRange(0, 0)  # Qt's busy indicator
            self._shown_value = -1
        else:
            value = int(summary.fraction * BAR_RANGE)
            if self.bar.maximum() == 0:
                self.bar.setRange(0, BAR_RANGE)
            if value != self._shown_value:
                # setValue repaints at once; with updates off it only schedules a paint,
                # which Qt folds into the window's next frame.
                self.bar.setUpdatesEnabled(False)
                self.bar.setValue(value)
                self.bar.setUpdatesEnabled(True)
                self._shown_value = value
        self._show_text(summary)

    def _show_text(self, summary: ProgressSummary) -> None:
        self.bar.setFormat(summary.text())


class GlobalProgressWidget(_RefreshingBar):
    """For the status bar: "2 operations, 63%" and a cancel control for them."""

    def __init__(
        self, model: ActivityModel, lane: EventLane, parent: QWidget | None = None
    ) -> None:
        super().__init__(model, parent)
        self.lane = lane
        self.label = QLabel(self)
        self.bar.setFixedWidth(140)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel the running operations")
        self.cancel_button.clicked.connect(self.cancel_running)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self._summary = ProgressSummary((), None)

    @property
    def summary(self) -> ProgressSummary:
        return self._summary

    def _show_text(self, summary: ProgressSummary) -> None:
        self._summary = summary
        self.label.setText(summary.text())

    def _show(self, summary: ProgressSummary) -> None:
        self._summary = summary
        super()._show(summary)

    @Slot()
    def cancel_running(self) -> int:
        """Cancel every shown operation through its token; returns how many were asked."""
        asked = 0
        for rec in self.model.running_operations():
            asked += self.lane.cancel_operation(rec.operation_id)
        return asked


class OperationProgressBar(_RefreshingBar):
    """A bar for one kind of work where it shows, e.g. `operation="scan"` above the navigator
    or `operation="build"` in the run surface: the newest running operation that matches."""

    def __init__(
        self, model: ActivityModel, operation: str | Callable[[OperationRecord], bool],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(model, parent)
        self.matches = (
            operation if callable(operation) else (lambda rec: rec.operation == operation)
        )
        self.bar.setTextVisible(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)

    def _records(self) -> Sequence[OperationRecord]:
        newest = next((r for r in self.model.running_operations() if self.matches(r)), None)
        return (newest,) if newest is not None else ()
