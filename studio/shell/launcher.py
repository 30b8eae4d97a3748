"""The launcher: recent projects, Open Project…, Create Project…; drop a project folder on it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


class LauncherWindow(QWidget):
    open_requested = Signal()
    create_requested = Signal()
    sample_requested = Signal()
    recent_requested = Signal(object)  # Path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studio_launcher")
        self.setWindowTitle("Prometeu Studio")
        self.setAcceptDrops(True)
        self.resize(560, 420)
        heading = QLabel("<h2>Prometeu Studio</h2>Open a game project, or drop its folder here.")
        self.recent = QListWidget()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.open_button = QPushButton("&Open Project…")
        self.create_button = QPushButton("&Create Project…")
        self.sample_button = QPushButton("Open the &Sample")
        buttons = QHBoxLayout()
        for button in (self.open_button, self.create_button, self.sample_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(QLabel("Recent projects (double-click or Enter to open):"))
        layout.addWidget(self.recent, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.open_button.clicked.connect(self.open_requested)
        self.create_button.clicked.connect(self.create_requested)
        self.sample_button.clicked.connect(self.sample_requested)
        self.recent.itemActivated.connect(self._on_recent_activated)

    def set_recent(self, projects: list[Path]) -> None:
        self.recent.clear()
        for path in projects:
            item = QListWidgetItem(f"{path.name}    {path}")
            item.setToolTip(str(path))
            item.setData(PATH_ROLE, str(path))
            self.recent.addItem(item)
        if not projects:
            placeholder = QListWidgetItem("(no recent projects)")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(placeholder)
            self.open_button.setFocus()
            return
        # The newest project is one key away: Enter (or a double click) opens it.
        self.recent.setCurrentRow(0)
        self.recent.setFocus()

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c62828;" if error else "")

    @Slot(QListWidgetItem)
    def _on_recent_activated(self, item: QListWidgetItem) -> None:
        path = item.data(PATH_ROLE)
        if path:
            self.recent_requested.emit(Path(path))
