"""Questions the Studio asks the user, behind one small class so tests can script the answers."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget


class Prompter:
    """Modal dialogs. Tests replace it with a scripted subclass (no dialog ever blocks a test)."""

    def confirm(self, parent: QWidget | None, title: str, text: str, *,
                action: str = "OK", destructive: bool = False) -> bool:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        accept = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)  # the safe choice is the default
        box.exec()
        return box.clickedButton() is accept

    def inform(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def refuse(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.warning(parent, title, text)

    def choose_folder(self, parent: QWidget | None, title: str) -> Path | None:
        chosen = QFileDialog.getExistingDirectory(parent, title)
        return Path(chosen) if chosen else None

    def ask_text(self, parent: QWidget | None, title: str, label: str,
                 default: str = "") -> str | None:
        text, ok = QInputDialog.getText(parent, title, label, text=default)
        return text if ok and text.strip() else None
