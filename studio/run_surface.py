"""The run surface at the top right: the Build button, the last build's status, and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class RunSurface(QWidget):
    build_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel("No build yet")
        self.build_button = QPushButton("▶ Build")
        self.build_button.setToolTip("Build build/assets.pa (Ctrl+B)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.build_button)
        layout.addWidget(self.cancel_button)
        self.build_button.clicked.connect(self.build_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)

    def show_running(self, text: str) -> None:
        self.status.setText(text)
        self.build_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def show_finished(self, text: str, *, ok: bool) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("" if ok else "color: #c62828;")
        self.build_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
