"""The window's first-start layout and the comfort around it: it fills the screen with sensible
proportions (a saved layout wins), columns fit their contents, menus carry shortcuts."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QHeaderView
from pytestqt.qtbot import QtBot

from studio.app import StudioApp
from studio.shell.main_window import NAVIGATOR_SHARE, SELECTOR_WIDTH, UTILITY_SHARE, MainWindow
from studio.shell.state import state_path
from tests.studio.helpers import ScriptedPrompter
from tests.studio.synthetic import make_raw_project


def opened(qtbot: QtBot, app: StudioApp, root: Path) -> MainWindow:
    with qtbot.waitSignal(app.project_opened, timeout=10_000):
        app.start(root)
    window = app.window
    assert window is not None
    qtbot.waitUntil(lambda: not app.pool.busy and window.assets.navigator.rows() != [],
                    timeout=15_000)
    return window


def test_first_start_fills_the_screen_with_sensible_proportions(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0, name="game")
    window = opened(qtbot, studio, project.root)
    screen = window.screen().availableGeometry()
    # The window (inside its frame) covers the screen's available area.
    qtbot.waitUntil(lambda: window.frameGeometry().width() >= screen.width()
                    and window.frameGeometry().height() >= screen.height())
    assert window.windowState() & Qt.WindowState.WindowMaximized


def test_the_default_proportions_on_a_1440_by_900_screen(qtbot: QtBot) -> None:
    window = MainWindow(ScriptedPrompter())
    qtbot.addWidget(window)
    window.resize(1440, 870)
    window.show()
    window.apply_default_layout()
    qtbot.waitUntil(lambda: window.body_splitter.width() > 1400)
    width = window.width()
    body = window.body_splitter.sizes()
    navigator, details = window.assets.splitter.sizes()
    assert body[0] <= SELECTOR_WIDTH  # the workspace selector is a narrow strip
    assert abs(body[2] / width - UTILITY_SHARE) < 0.03
    assert abs(navigator / width - NAVIGATOR_SHARE) < 0.03
    assert details > body[2] and details / width > 0.38  # the details get the most room
    logs = window.main_splitter.sizes()[1]
    assert 60 < logs < window.height() * 0.2
    window.resize(1200, 800)  # proportions hold when the window changes size
    qtbot.waitUntil(lambda: window.body_splitter.width() < 1250)
    assert abs(window.body_splitter.sizes()[2] / window.width() - UTILITY_SHARE) < 0.04


def test_a_saved_geometry_wins_over_filling_the_screen(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=1, unregistered=0, name="game")
    saved = MainWindow(ScriptedPrompter())
    saved.resize(760, 540)
    geometry = bytes(saved.saveGeometry().toBase64().data()).decode("ascii")
    saved.deleteLater()
    state_path(project.root).parent.mkdir(parents=True)
    state_path(project.root).write_text(json.dumps({"geometry": geometry,
                                                   "splitters": {}}))
    window = opened(qtbot, studio, project.root)
    assert not window.windowState() & Qt.WindowState.WindowMaximized
    assert (window.width(), window.height()) == (760, 540)


def test_navigator_columns_fit_state_and_badge_and_the_name_stretches(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=1, name="game")
    window = opened(qtbot, studio, project.root)
    header = window.assets.navigator.tree.header()
    assert header.sectionResizeMode(0) is QHeaderView.ResizeMode.Stretch
    assert header.sectionResizeMode(1) is QHeaderView.ResizeMode.ResizeToContents
    assert header.sectionResizeMode(2) is QHeaderView.ResizeMode.ResizeToContents
    assert header.sectionSize(0) > header.sectionSize(1)


def test_menus_carry_shortcuts_and_every_item_does_something(
    qtbot: QtBot, studio: StudioApp, prompter: ScriptedPrompter, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=1, unregistered=0, name="game")
    window = opened(qtbot, studio, project.root)
    shortcuts = {
        action.text(): action.shortcut().toString()
        for menu in window.menuBar().findChildren(type(window.recent_menu))
        for action in menu.actions() if not action.isSeparator()
    }
    for text, keys in (("&Open Project…", "Ctrl+O"), ("&Create Project…", "Ctrl+Shift+N"),
                       ("&Find Asset…", "Ctrl+F"), ("&Rescan", "F5"), ("&Build", "Ctrl+B"),
                       ("&Cancel Running Work", "Ctrl+."), ("&Quit", "Ctrl+Q")):
        assert shortcuts[text] == keys
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.assets.navigator.search)
    window.about_action.trigger()
    assert prompter.asked[-1][:2] == ("inform", "About Prometeu Studio")
    assert "Ctrl+B" in prompter.asked[-1][2]


def test_a_long_build_status_never_widens_the_run_surface(qtbot: QtBot) -> None:
    window = MainWindow(ScriptedPrompter())
    qtbot.addWidget(window)
    surface = window.run_surface
    before = surface.sizeHint().width()
    long_text = "Build failed: " + "a very long reason " * 20
    surface.show_finished(long_text, ok=False)
    assert surface.sizeHint().width() == before  # the buttons stay where they are
    assert surface.status_text == long_text  # the whole text is the tooltip
    assert "…" in surface.status.text()
