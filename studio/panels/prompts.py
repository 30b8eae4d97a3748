"""Questions the Studio asks the user, behind one small class so tests can script the answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, SignalInstance, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

# A question whose text follows the facts while it is open: the signals that may change them,
# and the function that says them now (e.g. "Build is still running…" until it ends).
LiveText = tuple[Sequence[SignalInstance], Callable[[], str]]


# A window manager draws a dialog's title beside its icon and buttons, often in a bold, larger
# font, and elides it when the dialog is narrow: QInputDialog's own ~200 px turned "Move asset
# folder" into "Move a… folder". These widths keep the title and the answer (a path) whole.
TITLE_BAR_ROOM = 200  # the icon, minimise/maximise/close and padding of common title bars
TITLE_SCALE = 1.4  # a title bar's bold font against the dialog's own
TEXT_QUESTION_MIN_WIDTH = 420
LINE_EDIT_PADDING = 60  # the dialog's margins and the line edit's frame around the text


def text_question(parent: QWidget | None, title: str, label: str,
                  default: str = "") -> QInputDialog:
    """The dialog ask_text shows, wide enough that neither its title nor its text is elided."""
    dialog = QInputDialog(parent)
    dialog.setInputMode(QInputDialog.InputMode.TextInput)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(default)
    metrics = QFontMetrics(dialog.font())
    width = max(
        TEXT_QUESTION_MIN_WIDTH,
        round(metrics.horizontalAdvance(title) * TITLE_SCALE) + TITLE_BAR_ROOM,
        metrics.horizontalAdvance(label) + LINE_EDIT_PADDING,
        metrics.horizontalAdvance(default) + LINE_EDIT_PADDING,
    )
    # QInputDialog's layout fixes its size to the contents': widen the contents, not the window.
    field = dialog.findChild(QLineEdit)
    if field is not None:
        field.setMinimumWidth(width - LINE_EDIT_PADDING // 2)
    dialog.setMinimumWidth(width)
    return dialog


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
        dialog = text_question(parent, title, label, default)
        accepted = dialog.exec() == QInputDialog.DialogCode.Accepted
        text = dialog.textValue()
        dialog.deleteLater()
        return text if accepted and text.strip() else None
