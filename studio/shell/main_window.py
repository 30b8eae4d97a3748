"""The main shell: menus, workspace selector, the workspace, the utility panel, logs, run surface
and status bar. It shows things and reports intents; the composition root (studio.app) acts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QSize, Qt, Signal, SignalInstance, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from packer.mutations import MutationResult
from studio.panels.assets.rows import AssetCounts
from studio.panels.assets.workspace import AssetsWorkspace
from studio.panels.prompts import Prompter
from studio.services.bus import PackerEventsDelivered, StudioBus, Subscription
from studio.shell.logs_panel import LogsPanel
from studio.shell.run_surface import RunSurface
from studio.shell.state import SelectedAsset, StudioState

SPLITTERS = ("main_splitter", "body_splitter", "assets_splitter")
# First-start layout, as fractions of the window's width: the navigator, the utility panel
# (Activity); the details take the rest. The workspace selector and the logs strip are fixed.
NAVIGATOR_SHARE = 0.19
UTILITY_SHARE = 0.36  # wide enough for every Activity column at 1440 px (ActivityPanel)
SELECTOR_WIDTH = 72
LOGS_HEIGHT = 130
FALLBACK_SIZE = QSize(1280, 800)  # when no screen is known (never smaller than this)
ABOUT_TEXT = (
    "Prometeu Studio: assets for the PROMETEU fantasy console.\n\n"
    "Ctrl+O open a project · Ctrl+F find an asset · Ctrl+N new asset from files (or drop them "
    "on the asset list) · F5 rescan · Ctrl+B build · "
    "Ctrl+. cancel running work · Ctrl+Shift+F filter the Activity timeline (Esc clears it) · "
    "Ctrl+Shift+M the Problems view.\n\n"
    "Everything the Activity panel shows comes from the packer's events; the same events are "
    "available from the command line with `prometeu-packer … --events jsonl`."
)


class MainWindow(QMainWindow):
    open_requested = Signal()
    create_requested = Signal()
    recent_requested = Signal(object)  # Path (also: a project folder dropped on the navigator)
    rescan_requested = Signal()
    rescan_on_focus_toggled = Signal(bool)  # the user turned the focus rescan on or off
    activated = Signal()  # the window became the active one again (back from another program)
    deactivated = Signal()  # another program (or window) became the active one
    build_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, prompter: Prompter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studio_main_window")
        self.setWindowTitle("Prometeu Studio")
        self.setAcceptDrops(True)
        self.resize(FALLBACK_SIZE)
        self.prompter = prompter
        # Asked before closing; returns False to keep the window open (work is running).
        self.close_guard: Callable[[], bool] | None = None

        self.assets = AssetsWorkspace(prompter)
        self.workspaces = QStackedWidget()
        self.workspaces.addWidget(self.assets)
        self.selector = QListWidget()
        self.selector.addItem("Assets")  # the only real workspace; no placeholders
        self.selector.setCurrentRow(0)
        self.selector.setAccessibleName("Workspaces")
        self.selector.setMaximumWidth(160)
        self.utility = QTabWidget()
        self.utility.setObjectName("utility_panel")
        self.logs = LogsPanel()
        self.run_surface = RunSurface()

        self.body_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.body_splitter.setObjectName("body_splitter")
        for widget in (self.selector, self.workspaces, self.utility):
            self.body_splitter.addWidget(widget)
        # Stretch in proportion to the default shares, so growing or shrinking the window (and
        # maximising after the sizes were set) keeps the proportions.
        self.body_splitter.setStretchFactor(0, 0)
        self.body_splitter.setStretchFactor(1, round((1 - UTILITY_SHARE) * 100))
        self.body_splitter.setStretchFactor(2, round(UTILITY_SHARE * 100))
        self.assets.splitter.setStretchFactor(0, round(NAVIGATOR_SHARE * 100))
        self.assets.splitter.setStretchFactor(
            1, round((1 - UTILITY_SHARE - NAVIGATOR_SHARE) * 100)
        )
        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.setObjectName("main_splitter")
        self.main_splitter.addWidget(self.body_splitter)
        self.main_splitter.addWidget(self.logs)
        self.main_splitter.setStretchFactor(0, 1)
        self.main_splitter.setStretchFactor(1, 0)  # the logs strip keeps its height
        self.setCentralWidget(self.main_splitter)
        self.apply_default_layout()
        self.menuBar().setCornerWidget(self.run_surface, Qt.Corner.TopRightCorner)
        self.statusBar().showMessage("Ready")
        self.asset_counts = QLabel()
        self.asset_counts.setAccessibleName("Asset counts")
        self.statusBar().addPermanentWidget(self.asset_counts)
        self._subscriptions: list[Subscription] = []

        self._build_menus()
        self.selector.currentRowChanged.connect(self.workspaces.setCurrentIndex)
        self.run_surface.build_requested.connect(self.build_requested)
        self.run_surface.cancel_requested.connect(self.cancel_requested)
        self.assets.action_panel.applied.connect(self._on_mutation_applied)
        self.assets.new_asset.applied.connect(self._on_mutation_applied)
        self.assets.project_dropped.connect(self.recent_requested)
        # The navigator's rows are what the counts count: a listing, a rescan's rows, badges.
        self.assets.navigator.rows_changed.connect(self._on_asset_counts)

    # -- the bus --

    def follow(self, bus: StudioBus, assets_bus: StudioBus) -> None:
        """Subscribe the panels: each hears what it shows on the bus, none knows the others.
        `assets_bus` is the Assets workspace's own bus (it republishes on `bus`)."""
        for subscription in self._subscriptions:
            subscription.unsubscribe()
        self.assets.follow(assets_bus, bus)
        self._subscriptions = [
            self.logs.follow(bus),
            *self.run_surface.follow(bus),
            bus.subscribe(PackerEventsDelivered, self._on_packer_events),
        ]

    @Slot(object)
    def _on_asset_counts(self, counts: AssetCounts) -> None:
        self.asset_counts.setText(counts.text())

    def _on_packer_events(self, event: PackerEventsDelivered) -> None:
        for item in event.items:
            packer_event = item.event
            if (packer_event.terminal and packer_event.operation == "build"
                    and self.run_surface.own(item)):
                self.show_status(packer_event.summary)

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
        self.create_action = self._action(file_menu, "&Create Project…", self.create_requested,
                                          "Ctrl+Shift+N")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, "&Quit", None, "Ctrl+Q")
        self.quit_action.triggered.connect(self.close)

        assets_menu = bar.addMenu("&Assets")
        self.find_action = self._action(assets_menu, "&Find Asset…", None, "Ctrl+F")
        self.find_action.triggered.connect(self.focus_asset_search)
        self.new_asset_action = self._action(assets_menu, "&New Asset…", None, "Ctrl+N")
        self.new_asset_action.setToolTip("Make an asset of a folder of PNGs, WAVs or a data "
                                         "file (previewed before anything is written)")
        self.new_asset_action.triggered.connect(self.assets.ask_new_asset)
        assets_menu.addSeparator()
        self.rescan_action = self._action(assets_menu, "&Rescan", self.rescan_requested, "F5")
        self.rescan_on_focus_action = assets_menu.addAction("Rescan When the Studio Is &Focused")
        self.rescan_on_focus_action.setCheckable(True)
        self.rescan_on_focus_action.setChecked(True)
        self.rescan_on_focus_action.setToolTip(
            "Rescan the project when you come back to the Studio from another program, so "
            "files changed there show up without F5 (at most once every few seconds)")
        self.rescan_on_focus_action.toggled.connect(self.rescan_on_focus_toggled)
        self.build_action = self._action(assets_menu, "&Build", self.build_requested, "Ctrl+B")
        self.cancel_action = self._action(assets_menu, "&Cancel Running Work",
                                          self.cancel_requested, "Ctrl+.")

        view_menu = bar.addMenu("&View")
        self.logs_toggle = view_menu.addAction("&Logs")
        self.logs_toggle.setCheckable(True)
        self.logs_toggle.setChecked(True)
        self.logs_toggle.toggled.connect(self.logs.setVisible)
        self.utility_toggle = view_menu.addAction("&Utility Panel")
        self.utility_toggle.setCheckable(True)
        self.utility_toggle.setChecked(True)
        self.utility_toggle.toggled.connect(self.utility.setVisible)
        self.problems_action = self._action(view_menu, "&Problems", None, "Ctrl+Shift+M")
        self.problems_action.triggered.connect(self.show_problems)

        help_menu = bar.addMenu("&Help")
        self.about_action = help_menu.addAction("&About Prometeu Studio")
        self.about_action.triggered.connect(self._show_about)

    @Slot()
    def show_problems(self) -> None:
        """The utility panel's Problems tab (its title carries a count: "Problems (3)")."""
        for index in range(self.utility.count()):
            if self.utility.tabText(index).startswith("Problems"):
                self.utility_toggle.setChecked(True)
                self.utility.setCurrentIndex(index)
                return

    @Slot()
    def focus_asset_search(self) -> None:
        self.selector.setCurrentRow(0)
        search = self.assets.navigator.search
        search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        search.selectAll()

    @Slot()
    def _show_about(self) -> None:
        self.prompter.inform(self, "About Prometeu Studio", ABOUT_TEXT)

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

    @Slot(object)
    def _on_mutation_applied(self, result: MutationResult) -> None:
        self.show_status(result.message)

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

    def fill_screen(self) -> None:
        """First start: take the screen's available area (a saved geometry wins over this).
        The explicit geometry serves window managers that ignore maximising, and X servers
        without one; the maximised state serves the rest."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            self.setGeometry(screen.availableGeometry())
        self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)
        self.apply_default_layout(screen.availableGeometry().size() if screen else None)

    def apply_default_layout(self, size: QSize | None = None) -> None:
        """Splitter sizes for a window of `size` (default: the current size): navigator ~19%,
        utility ~33%, details the rest; a short logs strip."""
        size = size or self.size()
        width, height = max(size.width(), 800), max(size.height(), 500)
        utility = round(width * UTILITY_SHARE)
        navigator = round(width * NAVIGATOR_SHARE)
        workspace = width - SELECTOR_WIDTH - utility
        self.body_splitter.setSizes([SELECTOR_WIDTH, workspace, utility])
        self.assets.splitter.setSizes([navigator, max(200, workspace - navigator)])
        self.main_splitter.setSizes([height - LOGS_HEIGHT, LOGS_HEIGHT])

    def restore_state(self, state: StudioState) -> None:
        """Apply what can be applied; anything unusable is ignored (defaults stay). With no
        saved geometry (a first start) the window fills the screen."""
        if not state.geometry or not self.restoreGeometry(
            QByteArray.fromBase64(state.geometry.encode("ascii"))
        ):
            self.fill_screen()
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

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.ActivationChange:
            (self.activated if self.isActiveWindow() else self.deactivated).emit()
        super().changeEvent(event)

    # -- closing --

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self.close_guard is not None and not self.close_guard():
            event.ignore()
            return
        event.accept()
