"""Test doubles for the Studio: a prompter whose answers are scripted and recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from studio.app import StudioApp
from studio.panels.prompts import LiveText, Prompter
from studio.services.bus import StudioBus, StudioEvent
from studio.shell.main_window import MainWindow

E = TypeVar("E", bound=StudioEvent)


class ScriptedPrompter(Prompter):
    """Answers from attributes; records every question so tests can assert what was asked."""

    def __init__(self) -> None:
        self.confirm_answer = True
        self.folder: Path | None = None
        self.text: str | None = None
        self.asked: list[tuple[str, str, str]] = []  # (kind, title, text)
        self.while_asking: Callable[[], None] | None = None
        self.live_texts: list[str] = []

    def confirm(self, parent: QWidget | None, title: str, text: str, *,
                action: str = "OK", destructive: bool = False,
                live: LiveText | None = None) -> bool:
        self.asked.append(("confirm", title, text))
        if self.while_asking is not None:  # what happens while the question is open
            self.while_asking()
        if live is not None:
            self.live_texts.append(live[1]())  # what an open dialog would say now
        return self.confirm_answer

    def inform(self, parent: QWidget | None, title: str, text: str) -> None:
        self.asked.append(("inform", title, text))

    def refuse(self, parent: QWidget | None, title: str, text: str) -> None:
        self.asked.append(("refuse", title, text))

    def choose_folder(self, parent: QWidget | None, title: str) -> Path | None:
        self.asked.append(("folder", title, ""))
        return self.folder

    def ask_text(self, parent: QWidget | None, title: str, label: str,
                 default: str = "") -> str | None:
        self.asked.append(("text", title, label))
        return self.text if self.text is not None else default

    def kinds(self) -> list[str]:
        return [kind for kind, _title, _text in self.asked]


@contextmanager
def running_studio(prompter: ScriptedPrompter) -> Iterator[StudioApp]:
    """A StudioApp that is closed, drained and deleted at the end, whatever the test did."""
    app = StudioApp(prompter)
    try:
        yield app
    finally:
        prompter.confirm_answer = True  # closing must not be refused by a scripted "no"
        for window in (app.window, app.launcher):
            if window is not None:
                window.close()
        app.shutdown()
        for window in (app.window, app.launcher):
            if window is not None:
                window.deleteLater()
        app.deleteLater()


def open_and_list(qtbot: QtBot, app: StudioApp, root: Path) -> MainWindow:
    with qtbot.waitSignal(app.project_opened, timeout=10_000):
        app.start(root) if app.window is None else app.open_path(root)
    window = app.window
    assert window is not None
    # Idle: the background work after opening (baseline, validation) has ended, and its
    # events have left the lane (a job's result can come back before its last events do).
    qtbot.waitUntil(lambda: app.session is not None and app.session.listing is not None
                    and len(window.assets.navigator.rows()) == len(app.session.listing.assets)
                    and not app.pool.busy and app.lane.is_idle(), timeout=15_000)
    return window


def heard(bus: StudioBus, event_type: type[E]) -> list[E]:
    """Every `event_type` published on `bus` from now on, in order."""
    events: list[E] = []
    bus.subscribe(event_type, events.append)
    return events


def drop_on_navigator(window: MainWindow, *paths: Path) -> None:
    """What Qt delivers when files are dragged from a file manager onto the asset tree."""
    viewport = window.assets.navigator.tree.viewport()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = viewport.rect().center()
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()
