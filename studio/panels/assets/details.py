"""The selected asset's details, in the fixed order: Summary → Runtime contract →
Inputs / Preview → Diagnostics → Actions. Filled only from packer results."""

from __future__ import annotations

import json

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packer.doctor.queries import AssetDetails as PackerAssetDetails
from studio.panels.assets.history import AssetHistoryView
from studio.panels.assets.preview import AssetPreviewPanel
from studio.panels.assets.rows import row_state

SECTION_TITLES = ("Summary", "Runtime contract", "Inputs / Preview", "Diagnostics", "History",
                  "Actions")
DIAGNOSTIC_COLUMNS = ("Code", "Severity", "Message", "Suggested fix", "File")
DIAGNOSTICS_MAX_HEIGHT = 260
INPUTS_MAX_ROWS = 5
ELIDED_MIN_WIDTH = 48
# Scroll bar width plus a little: side by side needs this much slack, so the vertical scroll bar
# coming and going as the layout changes height cannot flip it back and forth.
LAYOUT_HYSTERESIS = 24


class ElidedLabel(QLabel):
    """A one-line value that never makes its pane wider: when short of room it is cut in the
    middle with "…"; text() and the tooltip keep the whole value."""

    def __init__(self, text: str = "—", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        self._full = text
        self.setToolTip(text if text != "—" else "")
        self.updateGeometry()
        self._elide()

    def text(self) -> str:
        return self._full

    def is_elided(self) -> bool:
        return super().text() != self._full

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right()
        return QSize(width + 2, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(ELIDED_MIN_WIDTH, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._full, Qt.TextElideMode.ElideMiddle, max(0, self.contentsRect().width())
        )
        if shown != super().text():
            super().setText(shown)


class _FormSection(QGroupBox):
    def __init__(self, title: str, fields: tuple[str, ...]) -> None:
        super().__init__(title)
        self.values: dict[str, ElidedLabel] = {}
        form = QFormLayout(self)
        form.setVerticalSpacing(4)
        form.setContentsMargins(8, 6, 8, 6)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in fields:
            # Identifiers (UUID, paths) never break mid-token: they elide, whole in the tooltip.
            self.values[name] = ElidedLabel()
            form.addRow(f"{name}:", self.values[name])

    def fill(self, values: dict[str, str]) -> None:
        for name, label in self.values.items():
            label.setText(values.get(name, "—"))


class FactsRow(QWidget):
    """Summary and Runtime contract: side by side when both fit whole, stacked otherwise."""

    def __init__(self, first: QWidget, second: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.first, self.second = first, second
        self.box = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addWidget(first, 1)
        self.box.addWidget(second, 1)

    @property
    def side_by_side(self) -> bool:
        return self.box.direction() is QBoxLayout.Direction.LeftToRight

    def needed_width(self) -> int:
        """Both sections at their natural width (nothing elided), next to each other."""
        return (self.first.sizeHint().width() + self.second.sizeHint().width()
                + self.box.spacing())

    def fit(self) -> None:
        needed = self.needed_width()
        wide = (self.width() >= needed if self.side_by_side
                else self.width() >= needed + LAYOUT_HYSTERESIS)
        direction = (QBoxLayout.Direction.LeftToRight if wide
                     else QBoxLayout.Direction.TopToBottom)
        if direction is not self.box.direction():
            self.box.setDirection(direction)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.fit()


class AssetDetails(QScrollArea):
    """Shows one asset's details; the actions section is supplied by the workspace."""

    def __init__(self, actions: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        # Everything fits the pane's width (values elide, sections stack, buttons wrap): a
        # sideways scroll would hide the right half of every section.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._reveal_target: QWidget | None = None
        self.summary = _FormSection(
            "Summary", ("Name", "Asset id", "UUID", "Type", "State", "Included in build", "Root"),
        )
        self.contract = _FormSection(
            "Runtime contract", ("Format", "Codec", "Bank type", "Metadata", "Preload"),
        )
        self.inputs_box = QGroupBox("Inputs / Preview")
        self.inputs = QListWidget()
        self.inputs.setAccessibleName("Input files")
        self.inputs.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.inputs.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.preview = AssetPreviewPanel()
        inputs_layout = QVBoxLayout(self.inputs_box)
        inputs_layout.addWidget(self.inputs)
        inputs_layout.addWidget(self.preview)
        self.diagnostics_box = QGroupBox("Diagnostics")
        self.diagnostics = QTableWidget(0, len(DIAGNOSTIC_COLUMNS))
        self.diagnostics.setHorizontalHeaderLabels(list(DIAGNOSTIC_COLUMNS))
        self.diagnostics.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.diagnostics.verticalHeader().setVisible(False)
        # Code, severity and file fit their contents; message and fix share the rest and wrap.
        diag_header = self.diagnostics.horizontalHeader()
        for column in (0, 1, 4):
            diag_header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column in (2, 3):
            diag_header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.diagnostics.setWordWrap(True)
        self.diagnostics.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.diagnostics.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        diag_layout = QVBoxLayout(self.diagnostics_box)
        diag_layout.addWidget(self.diagnostics)
        self.actions_box = QGroupBox("Actions")
        actions_layout = QVBoxLayout(self.actions_box)
        actions_layout.addWidget(actions)
        self.history = AssetHistoryView()

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.sections: tuple[QGroupBox, ...] = (
            self.summary, self.contract, self.inputs_box, self.diagnostics_box, self.history,
            self.actions_box,
        )
        # Summary and contract side by side when there is room: the preview starts higher up.
        self.facts = FactsRow(self.summary, self.contract)
        layout.addWidget(self.facts)
        for section in self.sections[2:]:
            layout.addWidget(section)
        layout.addStretch(1)
        self.setWidget(body)
        self.verticalScrollBar().actionTriggered.connect(self._on_user_scrolled)
        self.show_details(None)

    def _fit_diagnostics(self) -> None:
        """As tall as its rows (up to a limit, then it scrolls): no empty grey slab."""
        table = self.diagnostics
        table.resizeRowsToContents()
        rows = table.verticalHeader().length() if table.rowCount() else 24
        height = table.horizontalHeader().height() + rows + 2 * table.frameWidth() + 4
        table.setFixedHeight(min(max(height, 56), DIAGNOSTICS_MAX_HEIGHT))

    def _fit_inputs(self) -> None:
        """As tall as its rows (a few, then it scrolls): no empty box under one input."""
        rows = max(1, min(self.inputs.count(), INPUTS_MAX_ROWS))
        row_height = self.inputs.sizeHintForRow(0) if self.inputs.count() else 18
        self.inputs.setFixedHeight(rows * max(row_height, 16) + 2 * self.inputs.frameWidth() + 2)

    def reveal(self, widget: QWidget) -> None:
        """Scroll so that `widget` (inside the details) is in view once the layout has settled
        (it may just have been shown), and keep it there while the content above it still
        changes size (a preview arriving late), until the user scrolls or it is hidden."""
        self._reveal_target = widget
        QTimer.singleShot(0, self, self._on_reveal)  # dropped if self is deleted

    @Slot()
    def _on_reveal(self) -> None:
        target, body = self._reveal_target, self.widget()
        if target is None or body is None:
            return
        if not target.isVisible():
            self._reveal_target = None
            return
        layout = body.layout()
        if layout is not None:
            layout.activate()  # geometry first
        self.ensureWidgetVisible(target, 8, 8)

    @Slot(int)
    def _on_user_scrolled(self, action: int) -> None:
        self._reveal_target = None  # the user has taken over

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        # QScrollArea already filters its widget's events (to follow its size).
        if (watched is self.widget() and event.type() == QEvent.Type.Resize
                and self._reveal_target is not None):
            QTimer.singleShot(0, self, self._on_reveal)  # dropped if self is deleted
        return super().eventFilter(watched, event)

    def section_titles(self) -> list[str]:
        return [s.title() for s in self.sections]

    def show_details(self, details: PackerAssetDetails | None) -> None:
        self.setEnabled(details is not None)
        if details is None:
            self._reveal_target = None
        if details is None:
            self.summary.fill({})
            self.contract.fill({})
            self.inputs.clear()
            self._fit_inputs()
            self.diagnostics.setRowCount(0)
            self.diagnostics_box.setTitle("Diagnostics")
            self._fit_diagnostics()
            self.facts.fit()
            self.preview.show_message("Select an asset to see its details.")
            return
        self.summary.fill({
            "Name": details.name or "(no valid asset.json)",
            "Asset id": f"#{details.asset_id}" if details.asset_id is not None
            else "not registered",
            "UUID": details.asset_uuid or "—",
            "Type": details.type or "—",
            "State": row_state(details.state, details.included_in_build).value,
            "Included in build": "yes" if details.included_in_build else "no",
            "Root": f"assets/{details.root}",
        })
        contract = details.contract
        if contract is None:
            self.contract.fill({})
        else:
            self.contract.fill({
                "Format": contract.format,
                "Codec": contract.codec,
                "Bank type": contract.bank_type,
                "Metadata": json.dumps(contract.metadata, sort_keys=True),
                "Preload": "enabled" if details.preload else "disabled",
            })
        self.inputs.clear()
        for info in details.inputs:
            if info.escapes_root:
                note = "escapes the asset root"
            elif not info.exists:
                note = "missing"
            else:
                note = f"{info.size:,} bytes" if info.size is not None else "not a file"
            self.inputs.addItem(f"{info.role}: {info.path}  ({note})")
            self.inputs.item(self.inputs.count() - 1).setToolTip(f"{info.path} ({note})")
        self._fit_inputs()
        self.diagnostics.setRowCount(len(details.diagnostics))
        for row, diag in enumerate(details.diagnostics):
            cells = (diag.code, diag.severity.value, diag.message, diag.fix, diag.file or "")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.diagnostics.setItem(row, column, item)
        self.diagnostics_box.setTitle(f"Diagnostics ({len(details.diagnostics)})")
        self._fit_diagnostics()
        self.facts.fit()  # the values' natural widths decide whether the two fit side by side
        self.preview.show_message(
            "Preparing a preview…" if details.declaration is not None
            else "No preview: asset.json is missing or not valid."
        )
