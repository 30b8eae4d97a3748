"""The Activity panel: filters, the timeline (one row per operation), and the inspection pane.

The panel reads an ActivityModel and writes user intent back (acknowledge). It relays two facts
for the shell: `asset_link_activated(AffectedAsset)` (select that asset in the Assets workspace)
and `unacknowledged_failures_changed(int)` (for the tab title, see `tab_title`).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from packer.lane.events import EventKind
from studio.panels.activity.filters import ActivityFilter, StatusFilter
from studio.panels.activity.inspection import InspectionPane
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.presentation import (
    COL_COUNTS,
    COL_ELAPSED,
    COL_OPERATION,
    COL_PROGRESS,
    COL_STATUS,
    NODE_ROLE,
)
from studio.panels.activity.records import BurstNode, EventNode, GroupNode, OperationRecord

Selected = OperationRecord | GroupNode | EventNode | BurstNode

# Fixed widths of the columns beside the stretching Operation column, each wide enough for the
# widest text it shows (measured in the view's font): rows that start and end never make the
# layout jump, and "3000/3000", "59m 59s", a build's "3000 assets, 2999 cached" or a fold's
# "details ×1 · list ×1" are never cut. Operation gets what is left.
WIDEST_TEXTS = ((COL_PROGRESS, "9999/9999"), (COL_ELAPSED, "59m 59s"),
                (COL_COUNTS, "9999 assets, 9999 cached"))
STATUS_WIDTH = 24
CELL_PADDING = 10  # the cell's margins, beside the text itself
# Below this much room for Operation the Counts column steps aside (counts stay in the row's
# tooltip and the inspection pane): the summary is what tells operations apart. At the default
# layout (main_window.UTILITY_SHARE) on a 1440-pixel-wide screen both fit.
MIN_OPERATION_WIDTH = 140


def tab_title(unacknowledged: int) -> str:
    return f"Activity ({unacknowledged})" if unacknowledged else "Activity"


# Combos as narrow as a short item: the panel must fit beside the others on small screens.
COMPACT = QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon


class ActivityPanel(QWidget):
    asset_link_activated = Signal(object)  # AffectedAsset
    unacknowledged_failures_changed = Signal(int)

    def __init__(self, model: ActivityModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        # The filter proxy calls Python for every row it maps, so it is plugged in only while a
        # filter is active; otherwise the view reads the model directly.
        self.proxy = ActivityFilter(self)
        self._viewport: QWidget | None = None  # the view's, once made (see eventFilter)

        self._build_filters(model)
        self._build_view(model)
        self.inspection = InspectionPane(self, project_id=model.project_id)
        self.inspection.asset_link_activated.connect(self.asset_link_activated)
        self._lay_out()
        model.unacknowledged_failures_changed.connect(self._on_failures_changed)
        self._update_buttons()

    def _build_filters(self, model: ActivityModel) -> None:
        self.kind_filter = QComboBox(self)
        self.kind_filter.setSizeAdjustPolicy(COMPACT)
        self.kind_filter.setMinimumContentsLength(4)
        self.kind_filter.setToolTip("Show only operations with an event of this kind")
        self.kind_filter.setAccessibleName("Event kind filter")
        self.kind_filter.addItem("All kinds", None)
        for kind in EventKind:
            self.kind_filter.addItem(kind.value.replace("_", " "), kind)
        self.kind_filter.currentIndexChanged.connect(self._on_kind_changed)
        self.status_filter = QComboBox(self)
        self.status_filter.setSizeAdjustPolicy(COMPACT)
        self.status_filter.setMinimumContentsLength(4)
        self.status_filter.setToolTip("Show all operations, only running ones, or only failures")
        self.status_filter.setAccessibleName("Status filter")
        for status, label in (
            (StatusFilter.ALL, "All statuses"), (StatusFilter.RUNNING, "Running"),
            (StatusFilter.FAILED, "Failed only"),
        ):
            self.status_filter.addItem(label, status)
        self.status_filter.currentIndexChanged.connect(self._on_status_changed)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter by operation, summary, asset or status…")
        self.search.setToolTip("Filter the timeline by text (Ctrl+Shift+F)")
        self.search.setAccessibleName("Activity text filter")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_text_changed)
        self.search.installEventFilter(self)
        find = QShortcut(QKeySequence("Ctrl+Shift+F"), self,
                         context=Qt.ShortcutContext.WindowShortcut)
        find.activated.connect(self._focus_search)
        clear = QShortcut(QKeySequence(Qt.Key.Key_Escape), self,
                          context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        clear.activated.connect(self.clear_filters)
        self.acknowledge_button = QPushButton("Acknowledge", self)
        self.acknowledge_button.setToolTip("Acknowledge the selected failure")
        self.acknowledge_button.clicked.connect(self.acknowledge_selected)
        self.acknowledge_all_button = QPushButton("Acknowledge All", self)
        self.acknowledge_all_button.setToolTip("Acknowledge every failure (they stop being "
                                               "pinned and counted on the tab)")
        self.acknowledge_all_button.clicked.connect(self.acknowledge_all)
        self.failure_note = QLabel(self)
        self.failure_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def _build_view(self, model: ActivityModel) -> None:
        self.view = QTreeView(self)
        self.view.setModel(model)
        self.view.setUniformRowHeights(True)  # keeps inserts O(batch), see engineering notes
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setTreePosition(COL_OPERATION)  # the status column stays a narrow icon strip
        self.view.setAllColumnsShowFocus(True)
        metrics = self.view.fontMetrics()
        self.fixed_columns = ((COL_STATUS, STATUS_WIDTH), *(
            (column, metrics.horizontalAdvance(text) + CELL_PADDING)
            for column, text in WIDEST_TEXTS))
        self._configure_header()
        self._viewport = self.view.viewport()
        self._viewport.installEventFilter(self)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.setAnimated(False)
        self.view.expanded.connect(self._on_expanded)
        # The refresh tick rewrites only the running rows on screen (ActivityModel).
        model.set_row_window(self._rows_on_screen)
        self.view.verticalScrollBar().valueChanged.connect(model.refresh_on_screen)
        self.view.collapsed.connect(model.refresh_on_screen)

    def _configure_header(self) -> None:
        """Resize modes and widths; again after each setModel (a new model resets them)."""
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(STATUS_WIDTH)
        header.setSectionResizeMode(COL_OPERATION, QHeaderView.ResizeMode.Stretch)
        for column, width in self.fixed_columns:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, width)

    def _lay_out(self) -> None:
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.status_filter)
        filters.addWidget(self.kind_filter)
        failures = QHBoxLayout()
        failures.addWidget(self.failure_note, 1)
        failures.addWidget(self.acknowledge_button)
        failures.addWidget(self.acknowledge_all_button)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.view)
        splitter.addWidget(self.inspection)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(failures)
        layout.addWidget(splitter, 1)
        self.setTabOrder(self.search, self.status_filter)
        self.setTabOrder(self.status_filter, self.kind_filter)
        self.setTabOrder(self.kind_filter, self.view)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_columns()
        self.model.refresh_on_screen()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        # The viewport gets its real width only once laid out (e.g. first shown after a resize
        # while hidden): fit the columns to that, not to the panel's stale guess.
        if watched is self._viewport and self._viewport is not None \
                and event.type() is QEvent.Type.Resize:
            self._fit_columns()
        elif (watched is self.search and event.type() is QEvent.Type.KeyPress
              and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape):
            self.clear_filters()  # the line edit would swallow Esc before any shortcut
            return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.model.refresh_on_screen()  # running rows were not rewritten while hidden

    def _rows_on_screen(self) -> tuple[int, int] | None:
        """First and last top-level model row in the view's viewport ((0, -1): none; None:
        no view any more, every row)."""
        if not shiboken6.isValid(self.view):
            return None
        if not self.view.isVisible():
            return (0, -1)
        height = self.view.viewport().height()
        first = self._top_level_row(self.view.indexAt(QPoint(0, 0)))
        last = self._top_level_row(self.view.indexAt(QPoint(0, height - 1)))
        return (max(first, 0), last if last >= 0 else self.model.rowCount() - 1)

    def _top_level_row(self, index: QModelIndex) -> int:
        if not index.isValid():
            return -1
        if self.view.model() is self.proxy:
            index = self.proxy.mapToSource(index)
        while index.parent().isValid():
            index = index.parent()
        return index.row()

    def _fit_columns(self) -> None:
        """Depends on the panel's width only, never on the rows: nothing jumps as work runs."""
        widths = dict(self.fixed_columns)
        fixed = sum(width for column, width in widths.items() if column != COL_COUNTS)
        room = self.view.viewport().width() - fixed - self.view.indentation()
        self.view.setColumnHidden(COL_COUNTS, room - widths[COL_COUNTS] < MIN_OPERATION_WIDTH)

    # ---- queries -------------------------------------------------------------------------

    @property
    def unacknowledged_failures(self) -> int:
        return self.model.unacknowledged_failures

    def title(self) -> str:
        return tab_title(self.model.unacknowledged_failures)

    def selected_node(self) -> Selected | None:
        indexes = self.view.selectionModel().selectedRows(0)
        if not indexes:
            return None
        node: Selected | None = indexes[0].data(NODE_ROLE)
        return node

    def selected_operation(self) -> OperationRecord | None:
        node = self.selected_node()
        while node is not None and not isinstance(node, OperationRecord):
            node = node.parent  # a fold (BurstNode) has none: no one operation is selected
        return node

    # ---- intent --------------------------------------------------------------------------

    def select_operation(self, operation_id: str) -> bool:
        rec = self.model.operation(operation_id)
        if rec is None:
            return False
        index = self.view_index(self.model.index_of(rec))
        if not index.isValid():
            return False
        self.view.scrollTo(index)  # opens the fold of a routine read
        self.view.setCurrentIndex(index)
        return True

    def select_index(self, index: QModelIndex) -> None:
        """Select a row of the (filtered) view, e.g. an event under an expanded operation."""
        self.view.setCurrentIndex(index)

    @Slot()
    def acknowledge_selected(self) -> None:
        rec = self.selected_operation()
        if rec is not None:
            self.model.acknowledge([rec.operation_id])
            self._update_buttons()
            self.inspection.show_node(self.selected_node())  # "not acknowledged" goes at once

    @Slot()
    def _focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    @Slot()
    def clear_filters(self) -> None:
        """Esc: every filter back to "all", the text emptied."""
        self.search.clear()
        self.status_filter.setCurrentIndex(0)
        self.kind_filter.setCurrentIndex(0)

    @Slot()
    def acknowledge_all(self) -> None:
        self.model.acknowledge_all()
        self._update_buttons()
        self.inspection.show_node(self.selected_node())

    # ---- reactions -----------------------------------------------------------------------

    def view_index(self, source: QModelIndex) -> QModelIndex:
        """The view's index for a model index (through the filter when one is active)."""
        return self.proxy.mapFromSource(source) if self.view.model() is self.proxy else source

    @Slot(QModelIndex)
    def _on_expanded(self, index: QModelIndex) -> None:
        # An operation's event rows are made when it is first expanded (ActivityModel).
        shown = self.view.model()
        source = self.proxy.mapToSource(index) if shown is self.proxy else index
        self.model.materialize(source)

    @Slot(int)
    def _on_kind_changed(self, position: int) -> None:
        data = self.kind_filter.itemData(position)  # Qt hands enums back as plain str
        self.proxy.set_kind(EventKind(data) if data else None)
        self._use_filter_if_needed()

    @Slot(int)
    def _on_status_changed(self, position: int) -> None:
        self.proxy.set_status(StatusFilter(self.status_filter.itemData(position)))
        self._use_filter_if_needed()

    @Slot(str)
    def _on_text_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._use_filter_if_needed()

    def _use_filter_if_needed(self) -> None:
        wanted = self.proxy if self.proxy.active else self.model
        if self.view.model() is wanted:
            return
        # Qt accepts None here: a detached proxy does no work for inserts it cannot show.
        self.proxy.setSourceModel(self.model if wanted is self.proxy else None)  # type: ignore[arg-type]
        self.view.setModel(wanted)
        self._configure_header()  # a new model resets the sections: keep the widths
        self._fit_columns()
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.inspection.show_node(None)
        self._update_buttons()

    @Slot(QItemSelection, QItemSelection)
    def _on_selection(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self.inspection.show_node(self.selected_node())
        self._update_buttons()

    @Slot(int)
    def _on_failures_changed(self, count: int) -> None:
        self._update_buttons()
        self.unacknowledged_failures_changed.emit(count)

    def _update_buttons(self) -> None:
        rec = self.selected_operation()
        failures = self.model.unacknowledged_failures
        self.acknowledge_button.setEnabled(rec is not None and rec.pinned)
        self.acknowledge_all_button.setEnabled(failures > 0)
        self.failure_note.setText(
            f"{failures} failure{'s' if failures != 1 else ''} to acknowledge (shown in bold)"
            if failures else "No unacknowledged failures"
        )
