"""The asset navigator: a tree by path, identity first, with state, a diagnostics badge,
search and filters. Selection follows an asset's identity across rescans."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, Signal, Slot
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
from studio.panels.assets.rows import UNCHECKED_TIP, AssetRow, RowFilter, RowState
from studio.services.asset_key import AssetKey

KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # holds key_text(row.key): Qt matches strings reliably
ASSET_TYPES = ("glyph_bank", "sound_bank", "raw")
STATE_COLOURS = {
    RowState.REGISTERED: QColor("#2e7d32"),
    RowState.UNREGISTERED: QColor("#1565c0"),
    RowState.MISSING: QColor("#c62828"),
    RowState.QUARANTINED: QColor("#8e24aa"),
    RowState.EXCLUDED: QColor("#757575"),
}


SEVERITY_MARKS = {Severity.ERROR: "✖", Severity.WARNING: "⚠", Severity.INFO: "ℹ"}


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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[AssetRow] = []
        self._by_text: dict[str, AssetRow] = {}
        self._selected: AssetKey | None = None

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
        self.workspace_problems = QLabel()
        self.workspace_problems.setObjectName("workspace_problems")
        self.workspace_problems.setWordWrap(True)
        self.workspace_problems.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.workspace_problems.setStyleSheet(
            "QLabel#workspace_problems { color: #c62828; border: 1px solid #c62828;"
            " border-radius: 3px; padding: 4px; }"
        )
        self.workspace_problems.hide()

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

    def update_rows(self, rows: Sequence[AssetRow]) -> None:
        """Change these rows in place (same keys; after an operation's events): only their
        items change, the rest of the tree, its expansion and the selection stay."""
        changed = [r for r in rows if key_text(r.key) in self._by_text]
        if not changed:
            return
        by_text = {key_text(r.key): r for r in changed}
        self._rows = [by_text.get(key_text(r.key), r) for r in self._rows]
        self._by_text.update(by_text)
        if self.current_filter() != RowFilter():
            self._rebuild()  # a changed row may enter or leave what the filter shows
            return
        # One walk of the tree finds every changed row (a search per row is O(n) each: a
        # validation that touched all 10k rows took 43 s that way).
        places = self._places(set(by_text))
        for row in changed:
            place = places.get(key_text(row.key))
            if place is None:
                continue
            parent, position = place
            for column, fresh in enumerate(self._items_for(row)):
                parent.setChild(position, column, fresh)

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
        if select is not None:
            self._selected = select
        self._rebuild()

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

    def _rebuild(self) -> None:
        keep = self._selected
        row_filter = self.current_filter()
        shown = [r for r in self._rows if row_filter.accepts(r)]
        self.tree.selectionModel().blockSignals(True)
        try:
            self.model.removeRows(0, self.model.rowCount())
            folders: dict[str, QStandardItem] = {}
            root_item = self.model.invisibleRootItem()
            for row in sorted(shown, key=lambda r: r.root):
                parent = self._folder_for(row.root.rpartition("/")[0], folders, root_item)
                parent.appendRow(self._items_for(row))
            self.tree.expandAll()
        finally:
            self.tree.selectionModel().blockSignals(False)
        self.count_label.setText(f"{len(shown)} of {len(self._rows)} assets")
        # A filtered-out asset stays selected (its details stay); a vanished one is let go.
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
        item.setForeground(QBrush(QColor("#616161")))
        parent.appendRow([item, _plain(""), _plain("")])
        folders[folder] = item
        return item

    def _items_for(self, row: AssetRow) -> list[QStandardItem]:
        title = QStandardItem(row.title)
        title.setData(key_text(row.key), KEY_ROLE)
        title.setToolTip(f"{row.root}\n{row.asset_type or 'unknown type'}")
        state = QStandardItem(row.state.value)
        state.setForeground(QBrush(STATE_COLOURS[row.state]))
        badge = QStandardItem(row.badge)
        if row.errors:
            badge.setForeground(QBrush(QColor("#c62828")))
        elif row.unchecked:
            badge.setForeground(QBrush(QColor("#757575")))  # neutral grey: neither ok nor bad
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

    def _places(self, wanted: set[str]) -> dict[str, tuple[QStandardItem, int]]:
        """Where the rows with these key texts are: (parent item, row), in one walk."""
        found: dict[str, tuple[QStandardItem, int]] = {}
        pending = [self.model.invisibleRootItem()]
        while pending and len(found) < len(wanted):
            parent = pending.pop()
            for i in range(parent.rowCount()):
                child = parent.child(i, 0)
                text = child.data(KEY_ROLE)
                if text in wanted:
                    found[text] = (parent, i)
                if child.hasChildren():  # a folder
                    pending.append(child)
        return found

    def _index_of(self, key: AssetKey) -> QModelIndex:
        matches = self.model.match(
            self.model.index(0, 0), KEY_ROLE, key_text(key), 1,
            Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive,
        )
        return matches[0] if matches else QModelIndex()

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


def _plain(text: str) -> QStandardItem:
    item = QStandardItem(text)
    item.setSelectable(False)
    return item
