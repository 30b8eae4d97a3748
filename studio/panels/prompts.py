"""Questions the Studio asks the user, behind one small class so tests can script the answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, SignalInstance, Slot
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

# A question whose text follows the facts while it is open: the signals that may change them,
# and the function that says them now (e.g. "Build is still running…" until it ends).
LiveText = tuple[Sequence[SignalInstance], Callable[[], str]]


class _Refresher(QObject):
    """Rewrites an open box's text when one of the signals fires (GUI thread)."""

    def __init__(self, box: QMessageBox, text_now: Callable[[], str]) -> None:
        super().__init__(box)
        self.box = box
        self.text_now = text_now

    @Slot()
    def refresh(self) -> None:
        self.box.setText(self.text_now())


class Prompter:
    """Modal dialogs. Tests replace it with a scripted subclass (no dialog ever blocks a test)."""

    def confirm(self, parent: QWidget | None, title: str, text: str, *,
                action: str = "OK", destructive: bool = False,
                live: LiveText | None = None) -> bool:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        if live is not None:
            signals, text_now = live
            refresher = _Refresher(box, text_now)
            for signal in signals:
                signal.connect(refresher.refresh)
        accept = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)  # the safe choice is the default
        box.exec()
        accepted = box.clickedButton() is accept
        box.deleteLater()  # with its refresher: the signals stop reaching it
        return accepted

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
