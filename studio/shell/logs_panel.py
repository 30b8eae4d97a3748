"""The bottom Logs panel: detailed text (packer messages, failures with tracebacks), copyable.

Lines arrive in batches (one per event-lane delivery) and go in with one append: one append per
packer event was a third of the GUI thread's time during a 10k build (docs/benchmarks.md,
"Studio at scale"). The panel keeps the newest MAX_LINES lines; the Activity history keeps the rest.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from packer.lane.events import EventKind
from studio.services.bus import PackerEventsDelivered, StudioBus, Subscription
from studio.services.workers import JobFailed

MAX_LINES = 5000


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
        self.clear_button.clicked.connect(self.text.clear)

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
            trace = getattr(event.detail, "traceback", None)
            if trace:
                lines.append(str(trace).rstrip())
        self.log_lines(lines)

    def log(self, message: str) -> None:
        self.log_lines([message])

    def log_lines(self, messages: list[str]) -> None:
        """Append a batch of messages (one timestamp, one append: one layout pass)."""
        if not messages:
            return
        stamp = datetime.now().strftime("%H:%M:%S")
        # A message may span lines; only the newest MAX_LINES lines could be kept anyway.
        lines = "\n".join(f"{stamp}  {message}" for message in messages[-MAX_LINES:])
        self.text.appendPlainText(lines)

    def line_count(self) -> int:
        return int(self.text.blockCount())

    def log_failure(self, failure: JobFailed) -> None:
        self.log(failure.title)
        if failure.traceback and not failure.expected:
            self.text.appendPlainText(failure.traceback.rstrip())

    def contents(self) -> str:
        return self.text.toPlainText()

    @Slot()
    def _on_copy(self) -> None:
        selected = self.text.textCursor().selectedText().replace("\u2029", "\n")
        QGuiApplication.clipboard().setText(selected or self.contents())
