"""The bottom Logs panel: detailed text (packer messages, failures with tracebacks), copyable.

Lines arrive in batches (one per event-lane delivery), wait at most FLUSH_MS and go in with one
append: one append per packer event was a third of the GUI thread's time during a 10k build, and
one per delivery still a sixth of what the GUI thread spent on a build's events
(docs/benchmarks.md, "Studio at scale"). A hidden panel appends nothing until it is shown. The
panel keeps the newest MAX_LINES lines; the Activity history keeps the rest.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from packer.lane.events import ActionFailedDetail, EventKind
from studio.services.bus import PackerEventsDelivered, StudioBus, Subscription
from studio.services.workers import JobFailed

MAX_LINES = 5000
FLUSH_MS = 250  # lines wait at most this long: a reader sees them at once, the layout runs 4×/s


class LogsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)  # old lines fall off; the journal keeps history
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.copy_button = QPushButton("Copy")
        self.clear_button = QPushButton("Clear")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self.copy_button.clicked.connect(self._on_copy)
        self.clear_button.clicked.connect(self._on_clear)
        self._pending: deque[str] = deque(maxlen=MAX_LINES)  # stamped, not yet in the view
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)

    def follow(self, bus: StudioBus) -> Subscription:
        """The packer's events, one line each (progress updates are the bars' business)."""
        return bus.subscribe(PackerEventsDelivered, self._on_packer_events)

    def _on_packer_events(self, delivered: PackerEventsDelivered) -> None:
        lines: list[str] = []
        for item in delivered.items:
            event = item.event
            if event.kind is EventKind.PROGRESS_UPDATED:
                continue
            lines.append(f"[{event.operation}] {event.summary}")
            detail = event.detail
            # isinstance, not getattr: a pydantic model's missing attribute costs ≈ 10 µs.
            if isinstance(detail, ActionFailedDetail) and detail.traceback:
                lines.append(detail.traceback.rstrip())
        self.log_lines(lines)

    def log(self, message: str) -> None:
        self.log_lines([message])

    def log_lines(self, messages: list[str]) -> None:
        """Queue a batch of messages, stamped now; they reach the view within FLUSH_MS."""
        if not messages:
            return
        stamp = datetime.now().strftime("%H:%M:%S")
        # A message may span lines; only the newest MAX_LINES lines could be kept anyway.
        self._pending.extend(f"{stamp}  {message}" for message in messages[-MAX_LINES:])
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def line_count(self) -> int:
        self._flush(force=True)
        return int(self.text.blockCount())

    def log_failure(self, failure: JobFailed) -> None:
        self.log(failure.title)
        if failure.traceback and not failure.expected:
            self._pending.append(failure.traceback.rstrip())  # unstamped: part of the title's line

    def contents(self) -> str:
        self._flush(force=True)
        return self.text.toPlainText()

    @Slot()
    def _flush(self, force: bool = False) -> None:
        """Everything queued in one append (one layout pass); a hidden panel waits to be shown."""
        if not self._pending or not (force or self.isVisible()):
            return
        self.text.appendPlainText("\n".join(self._pending))
        self._pending.clear()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        self._flush()
        super().showEvent(event)

    @Slot()
    def _on_clear(self) -> None:
        self._pending.clear()
        self.text.clear()

    @Slot()
    def _on_copy(self) -> None:
        selected = self.text.textCursor().selectedText().replace("\u2029", "\n")
        QGuiApplication.clipboard().setText(selected or self.contents())
