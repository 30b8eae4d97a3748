"""The History section of an asset's details: the operations that touched it, newest first.

Entries come from the Activity's per-asset index (studio.services.asset_history), handed in by
the composition root; a click asks for that operation in the Activity (`operation_activated`).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QGroupBox, QListWidget, QListWidgetItem, QVBoxLayout

from studio.services.asset_history import HistoryEntry

OPERATION_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_HEIGHT = 220


def operation_words(operation: str) -> str:
    """"relocate_asset" → "Relocate", "build" → "Build", "x.preview" → "Preview · x"."""
    name, _, stage = operation.partition(".")
    words = name.removesuffix("_asset").replace("_", " ") or operation
    return f"Preview · {words}" if stage == "preview" else words[:1].upper() + words[1:]


def entry_text(entry: HistoryEntry) -> str:
    stamp = entry.timestamp.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp}  {operation_words(entry.operation)} · {entry.text}"


class AssetHistoryView(QGroupBox):
    operation_activated = Signal(str)  # operation_id

    def __init__(self) -> None:
        super().__init__("History")
        self.list = QListWidget()
        self.list.setAccessibleName("Asset history")
        self.list.setWordWrap(False)  # one line per entry (the tooltip has it whole)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setToolTip("Operations that touched this asset; click one to see it in the "
                             "Activity")
        self.list.itemClicked.connect(self._on_item)
        self.list.itemActivated.connect(self._on_item)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        self.show_entries(())

    def show_entries(self, entries: Sequence[HistoryEntry]) -> None:
        self.list.clear()
        for entry in entries:
            item = QListWidgetItem(entry_text(entry))
            item.setData(OPERATION_ROLE, entry.operation_id)
            item.setToolTip(f"{entry_text(entry)}\n{entry.operation} {entry.operation_id}")
            self.list.addItem(item)
        if not entries:
            self.list.addItem("No operation has touched this asset in the kept history.")
        self.setTitle(f"History ({len(entries)})" if entries else "History")
        self._fit()

    def _fit(self) -> None:
        """As tall as its rows (up to MAX_HEIGHT, then it scrolls): no empty slab."""
        rows = sum(max(self.list.sizeHintForRow(i), 0) for i in range(self.list.count()))
        self.list.setFixedHeight(min(MAX_HEIGHT, rows + 2 * self.list.frameWidth() + 4))

    def texts(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    @Slot(QListWidgetItem)
    def _on_item(self, item: QListWidgetItem) -> None:
        operation_id = item.data(OPERATION_ROLE)
        if isinstance(operation_id, str):
            self.operation_activated.emit(operation_id)
