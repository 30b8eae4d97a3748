"""The Problems view: every finding the packer reported for the project, grouped by asset.

Fed with the event lane's batches (`apply`, GUI thread): only `diagnostics_updated` and a build's
terminal are read (studio.panels.problems.findings); the tree is rebuilt at most every
REFRESH_MS when something changed (a doctor run reports asset by asset, batch after batch) and
shows at most MAX_SHOWN findings, saying how many more there are. Replayed events (another
run's) are ignored. Clicking a finding asks for its asset (`asset_selected(root)`); the shell
turns the root into a selection.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from packer.diagnostics import CATALOGUE
from packer.lane.events import DiagnosticSummary, EventKind
from studio.panels.problems.findings import NO_ASSET, Findings
from studio.services.lane_items import LaneEvent

# The message right after the code: the panel is often narrow, and the message is what tells
# findings apart; file, fix and severity (also the code's mark and colour) follow.
COLUMNS = ("Asset / code", "Message", "File", "Fix", "Severity")
ROOT_ROLE = Qt.ItemDataRole.UserRole + 1
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 2
SEVERITY_COLOURS = {"error": QColor("#c62828"), "warning": QColor("#b26a00")}
SEVERITY_MARKS = {"error": "✖", "warning": "⚠", "info": "ℹ"}
_READ = frozenset({EventKind.DIAGNOSTICS_UPDATED, EventKind.BUILD_FINISHED})
REFRESH_MS = 250
MAX_SHOWN = 2000


def counts_text(errors: int, warnings: int) -> str:
    return (f"✖ {errors} error{'s' if errors != 1 else ''} · "
            f"⚠ {warnings} warning{'s' if warnings != 1 else ''}")


def tab_title(errors: int, warnings: int) -> str:
    return f"Problems ({errors + warnings})" if errors + warnings else "Problems"


class ProblemsPanel(QWidget):
    asset_selected = Signal(str)  # the asset's root
    counts_changed = Signal(int, int)  # errors, warnings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.findings = Findings()
        self.summary = QLabel(self)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setUniformRowHeights(True)
        self.tree.setAccessibleName("Problems")
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((150, 420, 140, 320, 70)):
            self.tree.setColumnWidth(column, width)
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemActivated.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        self._counts = (0, 0)
        self._shown_groups: list[tuple[str, list[DiagnosticSummary]]] | None = None
        self._shown = 0
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self.refresh_now)
        self._show()

    @property
    def counts(self) -> tuple[int, int]:
        return self._counts

    @Slot(object)
    def apply(self, items: Sequence[LaneEvent]) -> None:
        changed = False
        for item in items:
            event = item.event
            if item.origin is None and event.kind in _READ:
                changed = self.findings.apply(event) or changed
        if changed and not self._refresh.isActive():
            self._refresh.start()

    @Slot()
    def refresh_now(self) -> None:
        """Show what the reports say now (the timer does this; tests may ask directly)."""
        self._refresh.stop()
        self._show()

    def _show(self) -> None:
        groups = self.findings.by_asset()
        if groups != self._shown_groups:
            # Only when what is reported changed: a build's report that adds nothing new used
            # to rebuild every item (up to MAX_SHOWN, five tooltips each) on the GUI thread.
            self._shown_groups = groups
            self._shown = self._fill(groups)
        self._say(groups, self._shown)

    def _fill(self, groups: list[tuple[str, list[DiagnosticSummary]]]) -> int:
        self.tree.clear()
        shown = 0
        for root, found in groups:
            if shown >= MAX_SHOWN:
                break
            shown += len(found)
            errors = sum(d.severity == "error" for d in found)
            top = QTreeWidgetItem([root or "Workspace", _group_text(found, errors), "", "", ""])
            top.setData(0, ROOT_ROLE, root)
            if errors:
                top.setForeground(0, QBrush(SEVERITY_COLOURS["error"]))
            for summary in found:
                info = CATALOGUE.get(summary.code)
                mark = SEVERITY_MARKS.get(summary.severity, "")
                child = QTreeWidgetItem([f"{mark} {summary.code}".strip(), summary.message,
                                         summary.file or "", info.fix if info else "",
                                         summary.severity])
                child.setData(0, ROOT_ROLE, root)
                child.setData(0, SUMMARY_ROLE, summary)
                colour = SEVERITY_COLOURS.get(summary.severity)
                if colour is not None:
                    child.setForeground(0, QBrush(colour))
                    child.setForeground(4, QBrush(colour))
                for column in range(len(COLUMNS)):
                    child.setToolTip(column, child.text(column))
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)
        return shown

    def _say(self, groups: list[tuple[str, list[DiagnosticSummary]]], shown: int) -> None:
        counts = self.findings.counts()
        text = counts_text(*counts) if groups else "No problems reported"
        total = sum(len(found) for _root, found in groups)
        if total > shown:
            text += f" · the first {shown} shown, {total - shown} more not shown"
        if self.findings.not_listed:
            text += (f" · {self.findings.not_listed} more counted by the packer, not listed "
                     "(a report lists at most 200)")
        self.summary.setText(text)
        if counts != self._counts:
            self._counts = counts
            self.counts_changed.emit(*counts)

    @Slot(QTreeWidgetItem, int)
    def _on_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        root = item.data(0, ROOT_ROLE)
        if isinstance(root, str) and root != NO_ASSET:
            self.asset_selected.emit(root)

    def rows(self) -> list[tuple[str, ...]]:
        """Every finding row as (root, code, severity, message, file, fix), for tests."""
        found = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            assert top is not None
            for j in range(top.childCount()):
                child = top.child(j)
                assert child is not None
                summary: DiagnosticSummary = child.data(0, SUMMARY_ROLE)
                row: tuple[str, ...] = (top.text(0), summary.code, summary.severity,
                                        child.text(1), child.text(2), child.text(3))
                found.append(row)
        return found


def _group_text(found: Sequence[object], errors: int) -> str:
    others = len(found) - errors
    parts = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
    if others:
        parts.append(f"{others} other finding{'s' if others != 1 else ''}")
    return ", ".join(parts)
