"""The main shell: menus, workspace selector, the workspace, the utility panel, logs, run surface
and status bar. It shows things and reports intents; the composition root (studio.app) acts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QListWidget,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from studio.assets.workspace import AssetsWorkspace
from studio.logs_panel import LogsPanel
from studio.prompts import Prompter
from studio.run_surface import RunSurface
from studio.state import SelectedAsset, StudioState

SPLITTERS = ("main_splitter", "body_splitter", "assets_splitter")


class MainWindow(QMainWindow):
    open_requested = Signal()
    create_requested = Signal()
    recent_requested = Signal(object)  # Path
    rescan_requested = Signal()
    build_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, prompter: Prompter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studio_main_window")
        self.setWindowTitle("Prometeu Studio")
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        # Asked before closing; returns False to keep the window open (work is running).
        self.close_guard: Callable[[], bool] | None = None

        self.assets = AssetsWorkspace(prompter)
        self.workspaces = QStackedWidget()
        self.workspaces.addWidget(self.assets)
        self.selector = QListWidget()
        self.selector.addItem("Assets")  # the only real workspace; no placeholders
        self.selector.setCurrentRow(0)
        self.selector.setMaximumWidth(140)
        self.utility = QTabWidget()
        self.utility.setObjectName("utility_panel")
        self.logs = LogsPanel()
        self.run_surface = RunSurface()

        self.body_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.body_splitter.setObjectName("body_splitter")
        for widget in (self.selector, self.workspaces, self.utility):
            self.body_splitter.addWidget(widget)
        self.body_splitter.setStretchFactor(1, 3)
        self.body_splitter.setStretchFactor(2, 1)
        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.setObjectName("main_splitter")
        self.main_splitter.addWidget(self.body_splitter)
        self.main_splitter.addWidget(self.logs)
        self.main_splitter.setStretchFactor(0, 4)
        self.main_splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.main_splitter)
        # Defaults for a first start (a saved state overrides them): a narrow selector, the
        # workspace wide, the utility panel beside it, a short logs strip.
        self.body_splitter.setSizes([120, 780, 380])
        self.main_splitter.setSizes([640, 140])
        self.assets.splitter.setSizes([300, 480])
        self.menuBar().setCornerWidget(self.run_surface, Qt.Corner.TopRightCorner)
        self.statusBar().showMessage("Ready")

        self._build_menus()
        self.selector.currentRowChanged.connect(self.workspaces.setCurrentIndex)
        self.run_surface.build_requested.connect(self.build_requested)
        self.run_surface.cancel_requested.connect(self.cancel_requested)

    # -- menus --

    def _action(self, menu: QMenu, text: str, signal: SignalInstance | None,
                shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None) -> QAction:
        action = menu.addAction(text)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            # Whichever panel of this window has focus, the shortcut works.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if signal is not None:
            action.triggered.connect(signal)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(file_menu, "&Open Project…", self.open_requested,
                                        "Ctrl+O")
        self.create_action = self._action(file_menu, "&Create Project…", self.create_requested)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, "&Quit", None, "Ctrl+Q")
        self.quit_action.triggered.connect(self.close)

        assets_menu = bar.addMenu("&Assets")
        self.rescan_action = self._action(assets_menu, "&Rescan", self.rescan_requested, "F5")
        self.build_action = self._action(assets_menu, "&Build", self.build_requested, "Ctrl+B")
        self.cancel_action = self._action(assets_menu, "&Cancel Running Work",
                                          self.cancel_requested)

        view_menu = bar.addMenu("&View")
        self.logs_toggle = view_menu.addAction("&Logs")
        self.logs_toggle.setCheckable(True)
        self.logs_toggle.setChecked(True)
        self.logs_toggle.toggled.connect(self.logs.setVisible)
        self.utility_toggle = view_menu.addAction("&Utility Panel")
        self.utility_toggle.setCheckable(True)
        self.utility_toggle.setChecked(True)
        self.utility_toggle.toggled.connect(self.utility.setVisible)

        help_menu = bar.addMenu("&Help")
        self.about_action = help_menu.addAction("&About Prometeu Studio")

    def set_recent(self, projects: list[Path]) -> None:
        self.recent_menu.clear()
        for path in projects:
            action = self.recent_menu.addAction(str(path))
            action.setData(str(path))
            action.triggered.connect(self._on_recent_triggered)
        self.recent_menu.setEnabled(bool(projects))

    @Slot()
    def _on_recent_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.recent_requested.emit(Path(str(action.data())))

    # -- panels --

    def add_utility_tab(self, widget: QWidget, title: str) -> int:
        return self.utility.addTab(widget, title)

    def set_utility_tab_title(self, widget: QWidget, title: str) -> None:
        index = self.utility.indexOf(widget)
        if index >= 0:
            self.utility.setTabText(index, title)

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    # -- state --

    def capture_state(self) -> StudioState:
        splitters = {}
        for name in SPLITTERS:
            splitter = self.findChild(QSplitter, name)
            if splitter is not None:
                splitters[name] = [int(s) for s in splitter.sizes()]
        key = self.assets.navigator.selected_key()
        selected = None
        if key is not None:
            selected = (SelectedAsset(asset_id=int(key[1])) if key[0] == "id"
                        else SelectedAsset(root=str(key[1])))
        return StudioState(
            geometry=bytes(self.saveGeometry().toBase64().data()).decode("ascii"),
            window_state=bytes(self.saveState().toBase64().data()).decode("ascii"),
            splitters=splitters,
            utility_tab=self.utility.currentIndex(),
            selected_asset=selected,
        )

    def restore_state(self, state: StudioState) -> None:
        """Apply what can be applied; anything unusable is ignored (defaults stay)."""
        if state.geometry:
            self.restoreGeometry(QByteArray.fromBase64(state.geometry.encode("ascii")))
        if state.window_state:
            self.restoreState(QByteArray.fromBase64(state.window_state.encode("ascii")))
        for name, sizes in state.splitters.items():
            splitter = self.findChild(QSplitter, name)
            if splitter is not None and len(sizes) == splitter.count() and all(
                s >= 0 for s in sizes
            ):
                splitter.setSizes(sizes)
        if 0 <= state.utility_tab < self.utility.count():
            self.utility.setCurrentIndex(state.utility_tab)

    # -- closing --

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self.close_guard is not None and not self.close_guard():
            event.ignore()
            return
        event.accept()
