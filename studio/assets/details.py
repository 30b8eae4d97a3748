"""The selected asset's details, in the fixed order: Summary → Runtime contract →
Inputs / Preview → Diagnostics → Actions. Filled only from packer results."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packer.queries import AssetDetails as PackerAssetDetails
from studio.assets.preview import AssetPreviewPanel
from studio.assets.rows import row_state

SECTION_TITLES = ("Summary", "Runtime contract", "Inputs / Preview", "Diagnostics", "Actions")
DIAGNOSTIC_COLUMNS = ("Code", "Severity", "Message", "Suggested fix", "File")
DIAGNOSTICS_MAX_HEIGHT = 260


def _value_label(wrap: bool) -> QLabel:
    label = QLabel("—")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(wrap)
    return label


class _FormSection(QGroupBox):
    def __init__(self, title: str, fields: tuple[str, ...],
                 wrapping: tuple[str, ...] = ()) -> None:
        super().__init__(title)
        self.values: dict[str, QLabel] = {}
        form = QFormLayout(self)
        form.setVerticalSpacing(4)
        form.setContentsMargins(8, 6, 8, 6)
        for name in fields:
            # Identifiers (UUID, format names) never break mid-token; prose may wrap.
            self.values[name] = _value_label(name in wrapping)
            form.addRow(f"{name}:", self.values[name])

    def fill(self, values: dict[str, str]) -> None:
        for name, label in self.values.items():
            label.setText(values.get(name, "—"))


class AssetDetails(QScrollArea):
    """Shows one asset's details; the actions section is supplied by the workspace."""

    def __init__(self, actions: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.summary = _FormSection(
            "Summary", ("Name", "Asset id", "UUID", "Type", "State", "Included in build", "Root"),
            wrapping=("Name", "Root"),
        )
        self.contract = _FormSection(
            "Runtime contract", ("Format", "Codec", "Bank type", "Metadata", "Preload"),
            wrapping=("Metadata",),
        )
        self.inputs_box = QGroupBox("Inputs / Preview")
        self.inputs = QListWidget()
        self.inputs.setAccessibleName("Input files")
        self.inputs.setMaximumHeight(96)
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

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.sections: tuple[QGroupBox, ...] = (
            self.summary, self.contract, self.inputs_box, self.diagnostics_box, self.actions_box
        )
        # Summary and contract side by side: short facts, so the preview starts higher up.
        facts = QHBoxLayout()
        facts.addWidget(self.summary, 1)
        facts.addWidget(self.contract, 1)
        layout.addLayout(facts)
        for section in self.sections[2:]:
            layout.addWidget(section)
        layout.addStretch(1)
        self.setWidget(body)
        self.show_details(None)

    def _fit_diagnostics(self) -> None:
        """As tall as its rows (up to a limit, then it scrolls): no empty grey slab."""
        table = self.diagnostics
        table.resizeRowsToContents()
        rows = table.verticalHeader().length() if table.rowCount() else 24
        height = table.horizontalHeader().height() + rows + 2 * table.frameWidth() + 4
        table.setFixedHeight(min(max(height, 56), DIAGNOSTICS_MAX_HEIGHT))

    def section_titles(self) -> list[str]:
        return [s.title() for s in self.sections]

    def show_details(self, details: PackerAssetDetails | None) -> None:
        self.setEnabled(details is not None)
        if details is None:
            self.summary.fill({})
            self.contract.fill({})
            self.inputs.clear()
            self.diagnostics.setRowCount(0)
            self.diagnostics_box.setTitle("Diagnostics")
            self._fit_diagnostics()
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
        self.diagnostics.setRowCount(len(details.diagnostics))
        for row, diag in enumerate(details.diagnostics):
            cells = (diag.code, diag.severity.value, diag.message, diag.fix, diag.file or "")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.diagnostics.setItem(row, column, item)
        self.diagnostics_box.setTitle(f"Diagnostics ({len(details.diagnostics)})")
        self._fit_diagnostics()
        self.preview.show_message(
            "Preparing a preview…" if details.declaration is not None
            else "No preview: asset.json is missing or not valid."
        )
