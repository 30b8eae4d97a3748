"""The run surface at the top right: the Build button, the last build's status, and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

# The menu bar lays its corner widget out once, so the status has a fixed width (which also
# keeps the buttons still); longer texts are elided, the full text is the tooltip.
STATUS_WIDTH = 300
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

    def _set_status(self, text: str) -> None:
        metrics = self.status.fontMetrics()
        self.status.setText(metrics.elidedText(text, Qt.TextElideMode.ElideMiddle,
                                               STATUS_WIDTH - 8))
        self.status.setToolTip(text)

    @property
    def status_text(self) -> str:
        return self.status.toolTip()

    def show_running(self, text: str) -> None:
        self._set_status(text)
        self.build_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def show_no_build(self) -> None:
        """A project with no build in its history."""
        self.show_finished(NO_BUILD, ok=True)

    def show_finished(self, text: str, *, ok: bool, blocked: bool = False) -> None:
        """By severity: a failure red, a blocked build amber, anything else plain."""
        self._set_status(text)
        self.status.setStyleSheet(
            "" if ok else "color: #b26a00;" if blocked else "color: #c62828;")
        self.build_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
