"""The run surface at the top right: the Build button, the last build's status, and Cancel.

It hears builds on the Studio bus: a build starting or its job ending (BuildRunning), its
progress (OperationProgressChanged) and its terminal event (PackerEventsDelivered). Replayed
events (a CI log) are history, not this project's build: they never change it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from packer.lane.events import Outcome
from studio.services.bus import (
    OperationProgressChanged,
    PackerEventsDelivered,
    StudioBus,
    Subscription,
)
from studio.services.lane_items import LaneEvent
from studio.services.session import BuildRunning

# The menu bar lays its corner widget out once, so the status has a fixed width (which also
# keeps the buttons still); longer texts are elided, the full text is the tooltip.
STATUS_WIDTH = 300
RUNNING_TEXT = "Building…"
NO_BUILD = "No build yet"


class RunSurface(QWidget):
    build_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel()
        self.status.setFixedWidth(STATUS_WIDTH)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.status.setAccessibleName("Build status")
        self.build_button = QPushButton("▶ Build")
        self.build_button.setToolTip("Build build/assets.pa (Ctrl+B)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel the running work (Ctrl+.)")
        self.cancel_button.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.build_button)
        layout.addWidget(self.cancel_button)
        self.build_button.clicked.connect(self.build_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self._set_status(NO_BUILD)
        self._running = False
        self.project_id: str | None = None  # the open project's: other projects' builds are not it

    def follow(self, bus: StudioBus) -> list[Subscription]:
        return [
            bus.subscribe(BuildRunning, self._on_build_running),
            bus.subscribe(OperationProgressChanged, self._on_progress),
            bus.subscribe(PackerEventsDelivered, self._on_packer_events),
        ]

    def own(self, item: LaneEvent) -> bool:
        """This project's own build: not a replay, not a late event of the previous project."""
        return item.origin is None and self.project_id in (None, item.event.project_id)

    def _on_build_running(self, event: BuildRunning) -> None:
        if event.running:
            self.show_running(RUNNING_TEXT)
        else:  # the job ended; its terminal event (which says how) may come just after
            self.build_button.setEnabled(True)
            self.cancel_button.setEnabled(False)

    def _on_progress(self, event: OperationProgressChanged) -> None:
        if not self._running:
            return
        for item in event.latest.values():
            progress = item.event.progress
            if self.own(item) and item.event.operation == "build" and progress is not None:
                total = f" of {progress.total:,}" if progress.total is not None else ""
                self._set_status(f"{RUNNING_TEXT} {progress.done:,}{total}")

    def _on_packer_events(self, event: PackerEventsDelivered) -> None:
        for item in event.items:
            packer_event = item.event
            if packer_event.terminal and packer_event.operation == "build" and self.own(item):
                outcome = packer_event.outcome
                self.show_finished(packer_event.summary,
                                   ok=outcome not in (Outcome.FAILED, Outcome.BLOCKED),
                                   blocked=outcome is Outcome.BLOCKED)

    def _set_status(self, text: str) -> None:
        metrics = self.status.fontMetrics()
        self.status.setText(metrics.elidedText(text, Qt.TextElideMode.ElideMiddle,
                                               STATUS_WIDTH - 8))
        self.status.setToolTip(text)

    @property
    def status_text(self) -> str:
        return self.status.toolTip()

    def show_running(self, text: str) -> None:
        self._running = True
        self.status.setStyleSheet("")
        self._set_status(text)
        self.build_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def show_no_build(self) -> None:
        """A project with no build in its history."""
        self.show_finished(NO_BUILD, ok=True)

    def show_finished(self, text: str, *, ok: bool, blocked: bool = False) -> None:
        """By severity: a failure red, a blocked build amber, anything else plain."""
        self._running = False
        self._set_status(text)
        self.status.setStyleSheet(
            "" if ok else "color: #b26a00;" if blocked else "color: #c62828;")
        self.build_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
