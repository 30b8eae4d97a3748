"""The inspection pane: the full envelope of the selected event or operation, and its links."""

from __future__ import annotations

import html
import json

from PySide6.QtCore import QUrl, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from packer.lane.events import AffectedAsset, PackerEvent
from studio.panels.activity.failures import Problem, problems
from studio.panels.activity.presentation import (
    FOLD_EXPLANATION,
    burst_status_text,
    format_seconds,
    local_time,
    operation_label,
    started_at,
)
from studio.panels.activity.records import BurstNode, EventNode, GroupNode, OperationRecord
from studio.services.lane_items import LaneEvent

ASSET_SCHEME = "asset"
PLACEHOLDER = (
    "<p style='color: palette(mid)'>Select an operation or event to inspect it: its full "
    "envelope, the assets it touched (click one to select it in the Assets workspace), and "
    "Copy as JSON.</p>"
)


def envelope_json(item: LaneEvent) -> str:
    """The envelope as the packer wrote it, plus what the lane says about it."""
    data = json.loads(item.event.model_dump_json())
    data["lane"] = {"coalesced": item.coalesced, "made_by_lane": item.made_by_lane}
    if item.origin is not None:
        data["lane"]["origin"] = item.origin
    return json.dumps(data, indent=2, ensure_ascii=False)


class InspectionPane(QWidget):
    asset_link_activated = Signal(object)  # AffectedAsset

    def __init__(self, parent: QWidget | None = None, *, project_id: str | None = None) -> None:
        super().__init__(parent)
        self.project_id = project_id  # the open project's (see ActivityModel.project_id)
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._on_anchor)
        self.browser.setAccessibleName("Inspection")
        self.copy_button = QPushButton("Copy as JSON", self)
        self.copy_button.setToolTip("Copy the selected event's envelope to the clipboard")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_as_json)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser)
        layout.addLayout(buttons)
        self._item: LaneEvent | None = None
        self._assets: tuple[AffectedAsset, ...] = ()
        self.show_node(None)

    @property
    def current(self) -> LaneEvent | None:
        return self._item

    def show_node(
        self, node: OperationRecord | GroupNode | EventNode | BurstNode | None
    ) -> None:
        header = ""
        item: LaneEvent | None = None
        record: OperationRecord | None = None
        if isinstance(node, BurstNode):
            header = _burst_html(node)
        elif isinstance(node, EventNode):
            item = node.item
            parent = node.parent
            record = parent if isinstance(parent, OperationRecord) else parent.parent
        elif isinstance(node, GroupNode):
            header = f"<p><b>{html.escape(node.label)}</b> in this operation.</p>"
            item = node.children[-1].item if node.children else None
            record = node.parent
        elif isinstance(node, OperationRecord):
            header = _operation_header(node)
            item = node.terminal or _last_lifecycle(node) or node.progress_event
            record = node
        self._item = item
        foreign = (item is not None and self.project_id is not None
                   and item.event.project_id != self.project_id)
        self._assets = item.event.affected_assets if item is not None and not foreign else ()
        not_kept = (record.assets_not_kept.get(item.event.sequence, 0)
                    if record is not None and item is not None else 0)
        body = (_envelope_html(item, not_kept, foreign=foreign) if item is not None
                else ("" if header else PLACEHOLDER))
        self.browser.setHtml(header + body)
        self.copy_button.setEnabled(item is not None)

    def current_json(self) -> str:
        return envelope_json(self._item) if self._item is not None else ""

    @Slot()
    def copy_as_json(self) -> None:
        if self._item is not None:
            QGuiApplication.clipboard().setText(self.current_json())

    def activate_asset(self, position: int) -> None:
        if 0 <= position < len(self._assets):
            self.asset_link_activated.emit(self._assets[position])

    @Slot(QUrl)
    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == ASSET_SCHEME and url.path().isdigit():
            self.activate_asset(int(url.path()))


def _last_lifecycle(rec: OperationRecord) -> LaneEvent | None:
    if not rec.children:
        return None
    last = rec.children[-1]
    if isinstance(last, GroupNode):
        return last.children[-1].item if last.children else None
    return last.item


def _burst_html(burst: BurstNode) -> str:
    origin = f"<p>{html.escape(burst.origin.capitalize())}.</p>" if burst.origin else ""
    return (
        f"<h3>{html.escape(burst.label)}</h3><p>{html.escape(burst.breakdown())}<br>"
        f"{html.escape(burst_status_text(burst))}</p>{origin}"
        f"<p>{html.escape(FOLD_EXPLANATION)}</p>"
    )


def _operation_header(rec: OperationRecord) -> str:
    rows = [
        ("Status", rec.status.value + (" — not acknowledged" if rec.pinned else "")),
        ("Started", f"{started_at(rec)} (took {format_seconds(rec.elapsed_s())})"),
        ("Events", f"{rec.events_total} ({rec.events_retained} kept in memory)"),
        ("Progress updates", f"{rec.progress_updates} (coalesced)"),
        ("Counts", rec.counts_text() or "—"),
    ]
    if rec.origin is not None:
        rows.append(("Origin", f"{rec.origin} — not saved in this project's history"))
    title = (f"{html.escape(operation_label(rec.operation))} "
             f"<small>({html.escape(rec.operation)})</small>")
    fields = "".join(_field(k, html.escape(v)) for k, v in rows)
    return f"<h3>{title}</h3>{_problems_html(problems(rec))}{fields}<hr>"


MAX_PROBLEMS_SHOWN = 20


def _problems_html(found: list[Problem]) -> str:
    """What went wrong, in words, before any JSON (JetBrains' build window style)."""
    if not found:
        return ""
    parts = []
    for problem in found[:MAX_PROBLEMS_SHOWN]:
        lines = [f"<b>{html.escape(problem.code or 'Error')}</b> {html.escape(problem.severity)}"
                 f" — {html.escape(problem.message)}"]
        if problem.location:
            lines.append(f"File: {html.escape(problem.location)}")
        if problem.fix:
            lines.append(f"Fix: {html.escape(problem.fix)}")
        parts.append("<p style='margin-top:2px; margin-bottom:4px'>" + "<br>".join(lines)
                     + "</p>")
    more = len(found) - MAX_PROBLEMS_SHOWN
    if more > 0:
        parts.append(f"<p>… {more} more (all of them are in the Detail below)</p>")
    return "<h4 style='color:#c62828'>What went wrong</h4>" + "".join(parts)


def _field(label: str, value: str) -> str:
    """One "Label: value" paragraph: the label starts its line and never wraps (a table's
    label column would shrink to a letter per line beside wide JSON)."""
    label = html.escape(label).replace(" ", "&nbsp;")
    return f"<p style='margin:0'><b>{label}:</b> {value}</p>"


FOREIGN_LINK = ("From another project ({project}), not the open one: "
                "there is no such asset here to select")


def _envelope_html(item: LaneEvent, assets_not_kept: int = 0, *, foreign: bool = False) -> str:
    event: PackerEvent = item.event
    progress = "—"
    if event.progress is not None:
        p = event.progress
        progress = f"{p.done}/{p.total} {p.unit}" if p.total is not None else f"{p.done} {p.unit}"
        if item.coalesced > 1:
            progress += f" (latest of {item.coalesced} updates)"
    why = html.escape(FOREIGN_LINK.format(project=event.project_id), quote=True)
    assets = "<br>".join(
        (f'<span title="{why}" style="color: palette(mid)">{html.escape(a.name or a.root)}'
         "</span> " if foreign else
         f'<a href="{ASSET_SCHEME}:{i}">{html.escape(a.name or a.root)}</a> ')
        + f"({html.escape(a.root)}{'' if a.asset_id is None else f', id {a.asset_id}'})"
        for i, a in enumerate(event.affected_assets)
    ) or "—"
    if foreign and event.affected_assets:
        assets += f"<br><i>{why}.</i>"
    if assets_not_kept:
        assets += f"<br>… {assets_not_kept} more not kept in the project's history"
    detail = (
        html.escape(json.dumps(json.loads(event.detail.model_dump_json()), indent=2))
        if event.detail is not None else "—"
    )
    rows = [
        ("Project", html.escape(event.project_id)),
        ("Operation", html.escape(f"{event.operation} ({event.operation_id})")),
        ("Sequence", str(event.sequence)),
        ("Kind", event.kind.value + (" — made by the Studio" if item.made_by_lane else "")),
        ("Timestamp", f"{event.timestamp.isoformat()} ({local_time(event.timestamp)} here)"),
        ("Summary", html.escape(event.summary)),
        ("Outcome", event.outcome.value if event.outcome is not None else "—"),
        ("Progress", html.escape(progress)),
        ("Affected assets", assets),
    ]
    fields = "".join(_field(k, v) for k, v in rows)
    # pre-wrap: long messages wrap inside the pane instead of running off its right edge.
    return f"{fields}{_field('Detail', '')}<pre style='white-space: pre-wrap'>{detail}</pre>"
