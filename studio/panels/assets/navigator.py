"""The asset navigator: a tree by path, identity first, with state, a diagnostics badge,
search and filters. Selection follows an asset's identity across rescans."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from packer.diagnostics import Diagnostic, Severity
from studio.panels.assets.rows import (
    UNCHECKED_TIP,
    AssetCounts,
    AssetRow,
    RowFilter,
    RowState,
)
from studio.services.asset_key import AssetKey

KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # holds key_text(row.key): Qt matches strings reliably
FOLDER_ROLE = Qt.ItemDataRole.UserRole + 2  # a folder item's path, relative to assets/
ASSET_TYPES = ("glyph_bank", "sound_bank", "raw")
STATE_COLOURS = {
    RowState.REGISTERED: QColor("#2e7d32"),
    RowState.UNREGISTERED: QColor("#1565c0"),
    RowState.MISSING: QColor("#c62828"),
    RowState.QUARANTINED: QColor("#8e24aa"),
    RowState.EXCLUDED: QColor("#757575"),
}


SEVERITY_MARKS = {Severity.ERROR: "✖", Severity.WARNING: "⚠", Severity.INFO: "ℹ"}
# Made once: a QBrush per item was half the cost of filling 10k rows.
STATE_BRUSHES = {state: QBrush(colour) for state, colour in STATE_COLOURS.items()}
FOLDER_BRUSH = QBrush(QColor("#616161"))
ERROR_BRUSH = QBrush(QColor("#c62828"))
UNCHECKED_BRUSH = QBrush(QColor("#757575"))
FILL_AT_ONCE = 2_000  # rows put in the tree in one go; more are filled in slices
FILL_SLICE_S = 0.015  # GUI time per slice: well under a frame at 30 Hz


def key_text(key: AssetKey) -> str:
    return f"{key[0]}:{key[1]}"


# Combos as narrow as a short item: the panel must fit beside the others on small screens.
COMPACT = QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon


class FileDropTarget(QObject):
    """Installed on the tree's viewport: takes drags carrying URLs (files or folders) and
    reports what was dropped; the workspace decides what it means."""

    dropped = Signal(list, list)  # local paths, remote urls

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if isinstance(event, (QDragEnterEvent, QDragMoveEvent)):
            if event.mimeData().hasUrls():
                event.acceptProposedAction()
                return True
            return False
        if isinstance(event, QDropEvent) and event.mimeData().hasUrls():
            urls = event.mimeData().urls()
            event.acceptProposedAction()
            self.dropped.emit([u.toLocalFile() for u in urls if u.isLocalFile()],
                              [u.toString() for u in urls if not u.isLocalFile()])
            return True
        return super().eventFilter(watched, event)


class AssetNavigator(QWidget):
    """Shows rows; tells which asset the user selected. Owns no packer logic."""

    asset_selected = Signal(object)  # AssetRow, or None when nothing is selected
    files_dropped = Signal(list, list)  # local paths, remote urls: a new asset, or a project
    new_asset_requested = Signal()
    # Whenever the rows held change (a listing, a rescan's or an operation's rows): the counts.
    rows_changed = Signal(object)  # AssetCounts

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[AssetRow] = []
        self._by_text: dict[str, AssetRow] = {}
        # The title item of each shown row, by key text: a click finds its row without
        # searching the model (a recursive match was O(rows) per click, ~10k items at 10k).
        self._items: dict[str, QStandardItem] = {}
        self._selected: AssetKey | None = None
        self._pending: deque[str] = deque()  # key texts still to put in the tree, in order
        self._folders: dict[str, QStandardItem] = {}
        self._shown = 0
        self._fill_timer = self._slice_timer()

        self.search = QLineEdit(placeholderText="Search name, path or #id (Ctrl+F)")
        self.search.setAccessibleName("Asset search")
        self.search.setClearButtonEnabled(True)
        self.state_filter = _filter_combo("Show only assets in this state", "State filter", [
            ("All states", None), *((state.value.capitalize(), state.value) for state in RowState)
        ])
        self.type_filter = _filter_combo("Show only assets of this type", "Type filter", [
            ("All types", None), *((asset_type, asset_type) for asset_type in ASSET_TYPES)
        ])
        self.errors_only = QCheckBox("Has errors")
        self.errors_only.setToolTip("Show only assets with error diagnostics")
        self.count_label = QLabel()
        # Problems of the workspace itself (a corrupt registry makes every asset look
        # unregistered): said above the tree, or the list would mislead.
        self.workspace_problems = _problems_label()

        self.model = QStandardItemModel(0, 3, self)
        self.model.setHorizontalHeaderLabels(["Asset", "State", "Diag."])
        self.model.setHeaderData(2, Qt.Orientation.Horizontal,
                                 "Diagnostics: ✖ errors, ⚠ warnings, ℹ hints, ? format unchecked",
                                 Qt.ItemDataRole.ToolTipRole)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)  # keeps big workspaces cheap to lay out
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # The name takes what is left; state and badge are as wide as their longest value.
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setIndentation(14)
        self.tree.setAccessibleName("Assets")
        self._accept_new_files()

        filters = QHBoxLayout()
        filters.addWidget(self.state_filter)
        filters.addWidget(self.type_filter)
        filters.addWidget(self.errors_only)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.workspace_problems)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.count_label)

        self.search.textChanged.connect(self._on_filter_changed)
        self.state_filter.currentIndexChanged.connect(self._on_filter_changed)
        self.type_filter.currentIndexChanged.connect(self._on_filter_changed)
        self.errors_only.toggled.connect(self._on_filter_changed)
        self.tree.selectionModel().currentChanged.connect(self._on_current_changed)

    def _slice_timer(self) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(0)  # a slice per pass of the event loop
        timer.timeout.connect(self._fill_slice)
        return timer

    def _accept_new_files(self) -> None:
        """Files or folders dropped on the tree, or its context menu's "New Asset from Files…",
        ask for a new asset (previewed first)."""
        self.drop_target = FileDropTarget(self)
        self.tree.setAcceptDrops(True)
        self.tree.viewport().setAcceptDrops(True)
        self.tree.viewport().installEventFilter(self.drop_target)
        self.drop_target.dropped.connect(self.files_dropped)
        self.new_asset_action = QAction("New Asset from Files…", self)
        self.new_asset_action.setToolTip("Choose a folder of PNGs, WAVs or a data file; the "
                                         "proposed asset is previewed before anything is written")
        self.new_asset_action.triggered.connect(self.new_asset_requested)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.tree.addAction(self.new_asset_action)

    # -- what the workspace calls --

    def set_rows(self, rows: Sequence[AssetRow], select: AssetKey | None = None) -> None:
        """Replace the contents (after a scan); the selected asset stays selected by identity,
        or `select` is selected instead (an asset that changed identity, in one step: no
        moment with nothing selected)."""
        if select is not None:
            self._selected = select
        self._rows = list(rows)
        self._by_text = {key_text(r.key): r for r in self._rows}
        self._rebuild()
        self.rows_changed.emit(AssetCounts.of(self._rows))

    def update_rows(self, rows: Sequence[AssetRow]) -> None:
        """Change these rows in place (same keys; after an operation's events): only their
        items change, the rest of the tree, its expansion and the selection stay."""
        changed = [r for r in rows if key_text(r.key) in self._by_text]
        if not changed:
            return
        by_text = {key_text(r.key): r for r in changed}
        self._rows = [by_text.get(key_text(r.key), r) for r in self._rows]
        self._by_text.update(by_text)
        self.rows_changed.emit(AssetCounts.of(self._rows))
        if self.current_filter() != RowFilter():
            self._rebuild()  # a changed row may enter or leave what the filter shows
            return
        for row in changed:
            index = self._index_of(row.key)
            if not index.isValid():
                continue
            parent = self.model.itemFromIndex(index.parent()) if index.parent().isValid() \
                else self.model.invisibleRootItem()
            items = self._items_for(row)
            for column, fresh in enumerate(items):
                parent.setChild(index.row(), column, fresh)
            self._items[key_text(row.key)] = items[0]

    def replace_rows(self, removed: Sequence[AssetKey], rows: Sequence[AssetRow],
                     select: AssetKey | None = None) -> None:
        """Drop the `removed` keys and put in `rows` (an asset a mutation changed, maybe under
        a new key or root). Changed in place when keys and roots stay; else the tree is rebuilt
        from the rows in memory (no packer read either way)."""
        same_place = all(
            (old := self.row_for(r.key)) is not None and old.root == r.root for r in rows
        ) and {key_text(k) for k in removed} <= {key_text(r.key) for r in rows}
        if same_place and select in (None, self._selected):
            self.update_rows(rows)
            return
        gone = {key_text(k) for k in removed} | {key_text(r.key) for r in rows}
        self._rows = [r for r in self._rows if key_text(r.key) not in gone] + list(rows)
        self._by_text = {key_text(r.key): r for r in self._rows}
        self.rows_changed.emit(AssetCounts.of(self._rows))
        if select is not None:
            self._selected = select
        if self._pending or self.current_filter() != RowFilter():
            self._rebuild()  # filling, or a filter to apply again: from the rows in memory
            return
        self._move_in_place(gone, rows)

    def _move_in_place(self, gone: set[str], rows: Sequence[AssetRow]) -> None:
        """Take the `gone` rows out of the tree and put `rows` in where a rebuild would put
        them (a rebuild of 10k rows, for one renamed asset, held the GUI about a second)."""
        root_item = self.model.invisibleRootItem()
        self.tree.selectionModel().blockSignals(True)
        try:
            for text in gone:
                item = self._items.pop(text, None)
                if item is not None:
                    self._take_out(item, root_item)
            for row in rows:
                parent = self._folder_for(row.root.rpartition("/")[0], self._folders, root_item)
                items = self._items_for(row)
                parent.insertRow(self._position(parent, row.root), items)
                self._items[key_text(row.key)] = items[0]
                while parent is not root_item:  # a new folder shows its rows, as after a rebuild
                    self.tree.setExpanded(parent.index(), True)
                    parent = parent.parent() or root_item
        finally:
            self.tree.selectionModel().blockSignals(False)
        self._shown = len(self._items)
        self._filled()

    def _take_out(self, item: QStandardItem, root_item: QStandardItem) -> None:
        """Remove a row, and the folders it leaves empty."""
        parent = item.parent() or root_item
        parent.removeRow(item.row())
        while parent is not root_item and parent.rowCount() == 0:
            self._folders.pop(parent.data(FOLDER_ROLE), None)
            above = parent.parent() or root_item
            above.removeRow(parent.row())
            parent = above

    def _position(self, parent: QStandardItem, sort_key: str) -> int:
        """Where a child sorting as `sort_key` goes among `parent`'s children: rows sort by
        root, a folder by its path + "/" (before every root under it, after every other root
        that sorts before them): the order a rebuild in root order gives."""
        low, high = 0, parent.rowCount()
        while low < high:
            middle = (low + high) // 2
            child = parent.child(middle, 0)
            folder = child.data(FOLDER_ROLE)
            row = self._by_text.get(child.data(KEY_ROLE) or "")
            key = f"{folder}/" if folder is not None else (row.root if row else "")
            if key <= sort_key:
                low = middle + 1
            else:
                high = middle
        return low

    def set_workspace_problems(self, problems: Sequence[Diagnostic]) -> None:
        """The listing's workspace-level findings, one line each with its fix."""
        lines = [f"{SEVERITY_MARKS.get(d.severity, '•')} {d.message}"
                 + (f" — {d.fix}" if d.fix else "") for d in problems]
        self.workspace_problems.setText("\n".join(lines))
        self.workspace_problems.setVisible(bool(lines))

    def rows(self) -> list[AssetRow]:
        return list(self._rows)

    def visible_rows(self) -> list[AssetRow]:
        found: list[AssetRow] = []
        self._collect(self.model.invisibleRootItem(), found)
        return found

    def selected_key(self) -> AssetKey | None:
        return self._selected

    def select(self, key: AssetKey | None) -> bool:
        """Select an asset by identity; False when it is not shown (absent or filtered out)."""
        self._selected = key
        index = self._index_of(key) if key is not None else QModelIndex()
        if not index.isValid():
            self.tree.selectionModel().clearSelection()
            return False
        self.tree.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.tree.scrollTo(index)
        return True

    def row_for(self, key: AssetKey | None) -> AssetRow | None:
        return self._by_text.get(key_text(key)) if key is not None else None

    def current_filter(self) -> RowFilter:
        return RowFilter(
            text=self.search.text(),
            state=RowState(state) if (state := self.state_filter.currentData()) else None,
            asset_type=self.type_filter.currentData(),
            errors_only=self.errors_only.isChecked(),
        )

    # -- building the tree --

    @property
    def filling(self) -> bool:
        """Rows are still being put into the tree (a big list is filled in slices)."""
        return bool(self._pending)

    def _rebuild(self) -> None:
        """Show the rows the filter accepts, by root. Up to FILL_AT_ONCE rows at once; more in
        slices of FILL_SLICE_S on a zero timer, so the window stays responsive while 10k rows
        go in (one go held the GUI thread 0.4-0.6 s at 10k)."""
        self._fill_timer.stop()
        row_filter = self.current_filter()
        shown = sorted((r for r in self._rows if row_filter.accepts(r)), key=lambda r: r.root)
        self._shown = len(shown)
        self.tree.selectionModel().blockSignals(True)
        try:
            self._items = {}
            self._folders = {}
            self.model.removeRows(0, self.model.rowCount())
        finally:
            self.tree.selectionModel().blockSignals(False)
        self._pending = deque(key_text(r.key) for r in shown)
        if len(shown) <= FILL_AT_ONCE:
            self._fill(None)
        else:
            self.count_label.setText(f"Loading {len(shown)} of {len(self._rows)} assets…")
            self._fill(FILL_SLICE_S)
            self._fill_timer.start()

    @Slot()
    def _fill_slice(self) -> None:
        self._fill(FILL_SLICE_S)

    def _fill(self, budget_s: float | None) -> None:
        """Append pending rows (all of them, or for about `budget_s`), in root order; each
        row as it is now (an update during the fill is not lost)."""
        deadline = None if budget_s is None else time.perf_counter() + budget_s
        root_item = self.model.invisibleRootItem()
        self.tree.selectionModel().blockSignals(True)
        try:
            while self._pending:
                row = self._by_text.get(self._pending.popleft())
                if row is not None:
                    parent = self._folder_for(row.root.rpartition("/")[0], self._folders,
                                              root_item)
                    items = self._items_for(row)
                    parent.appendRow(items)
                    self._items[key_text(row.key)] = items[0]
                if deadline is not None and time.perf_counter() >= deadline:
                    break
        finally:
            self.tree.selectionModel().blockSignals(False)
        if self._pending:
            return
        # Expanded once, at the end: rows inserted under expanded folders make the view lay
        # out every shown row again on each pass (tens of ms per slice at 10k).
        self.tree.expandAll()
        self._fill_timer.stop()
        self._filled()

    def _filled(self) -> None:
        self.count_label.setText(f"{self._shown} of {len(self._rows)} assets")
        # A filtered-out asset stays selected (its details stay); a vanished one is let go.
        keep = self._selected
        if keep is not None and not self.select(keep) and self.row_for(keep) is None:
            self._selected = None
        self.asset_selected.emit(self.row_for(self._selected))

    def _folder_for(
        self, folder: str, folders: dict[str, QStandardItem], root_item: QStandardItem
    ) -> QStandardItem:
        if not folder:
            return root_item
        if folder in folders:
            return folders[folder]
        parent_path, _, name = folder.rpartition("/")
        parent = self._folder_for(parent_path, folders, root_item)
        item = QStandardItem(f"{name}/")
        item.setSelectable(False)
        item.setForeground(FOLDER_BRUSH)
        item.setData(folder, FOLDER_ROLE)
        parent.insertRow(self._position(parent, f"{folder}/"), [item, _plain(""), _plain("")])
        folders[folder] = item
        return item

    def _items_for(self, row: AssetRow) -> list[QStandardItem]:
        title = QStandardItem(row.title)
        title.setData(key_text(row.key), KEY_ROLE)
        title.setToolTip(f"{row.root}\n{row.asset_type or 'unknown type'}")
        state = QStandardItem(row.state.value)
        state.setForeground(STATE_BRUSHES[row.state])
        badge = QStandardItem(row.badge)
        if row.errors:
            badge.setForeground(ERROR_BRUSH)
        elif row.unchecked:
            badge.setForeground(UNCHECKED_BRUSH)  # neutral grey: neither ok nor bad
        if row.unchecked:
            badge.setToolTip(UNCHECKED_TIP)
        for item in (state, badge):
            item.setData(key_text(row.key), KEY_ROLE)
        return [title, state, badge]

    def _collect(self, parent: QStandardItem, found: list[AssetRow]) -> None:
        for i in range(parent.rowCount()):
            child = parent.child(i, 0)
            row = self._by_text.get(child.data(KEY_ROLE) or "")
            if row is not None:
                found.append(row)
            self._collect(child, found)

    def _index_of(self, key: AssetKey) -> QModelIndex:
        item = self._items.get(key_text(key))
        return item.index() if item is not None else QModelIndex()

    # -- user input --

    @Slot()
    def _on_filter_changed(self) -> None:
        self._rebuild()

    @Slot(QModelIndex, QModelIndex)
    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        row = self._by_text.get(current.data(KEY_ROLE) or "") if current.isValid() else None
        self._selected = row.key if row is not None else None
        self.asset_selected.emit(row)


def _filter_combo(tooltip: str, name: str, items: list[tuple[str, str | None]]) -> QComboBox:
    combo = QComboBox()
    combo.setSizeAdjustPolicy(COMPACT)
    combo.setMinimumContentsLength(4)
    combo.setToolTip(tooltip)
    combo.setAccessibleName(name)
    for text, data in items:
        combo.addItem(text, data)
    return combo


def _problems_label() -> QLabel:
    label = QLabel()
    label.setObjectName("workspace_problems")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("QLabel#workspace_problems { color: #c62828; border: 1px solid #c62828;"
                        " border-radius: 3px; padding: 4px; }")
    label.hide()
    return label


def _plain(text: str) -> QStandardItem:
    item = QStandardItem(text)
    item.setSelectable(False)
    return item
