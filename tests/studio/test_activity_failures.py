"""Readable failures: the row says code, file and message; the inspector says it in words, lays
its labels on one line at 1024×700 and never cuts text; Acknowledge shows at once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextBlock
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from packer.diagnostics import CATALOGUE
from packer.lane.events import (
    ActionFailedDetail,
    AffectedAsset,
    BuildFinishedDetail,
    DiagnosticSummary,
    DiagnosticsUpdatedDetail,
    EventKind,
    Outcome,
)
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import ActivityPanel
from studio.panels.activity.presentation import COL_OPERATION
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import event

TILE = DiagnosticSummary(
    code="PK128", severity="error", root="tiles/overworld", file="tiles/002_path.png",
    message="tiles/overworld: tile 'tiles/002_path.png' cannot be decoded: not a PNG image",
)
OVERWORLD = AffectedAsset(asset_id=1, root="tiles/overworld", name="overworld")


def blocked_build(op: str = "b") -> list[LaneEvent]:
    """The stream of a build blocked by a corrupt tile, as `prometeu-packer build` emits it."""
    check = event(op, 2, EventKind.DIAGNOSTICS_UPDATED, operation="build",
                  summary="Build check: 1 blocking, 0 other findings").model_copy(
        update={"detail": DiagnosticsUpdatedDetail(errors=1, diagnostics=(TILE,))})
    end = event(op, 3, EventKind.BUILD_FINISHED, operation="build", terminal=True,
                outcome=Outcome.BLOCKED, summary="Build blocked by 1 structural problem"
                ).model_copy(update={"detail": BuildFinishedDetail(asset_count=4,
                                                                   blocking=(TILE,))})
    return [LaneEvent(event(op, 1, EventKind.BUILD_STARTED, operation="build",
                            summary="Build started: 4 assets")), LaneEvent(check),
            LaneEvent(end)]


def test_a_blocked_build_s_row_names_the_code_file_and_message(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply(blocked_build())
    row = model.index(0, COL_OPERATION)
    assert row.data() == (
        "Build blocked by 1 structural problem — PK128 tiles/overworld/tiles/002_path.png: "
        + TILE.message)
    assert f"Fix: {CATALOGUE['PK128'].fix}" in row.data(Qt.ItemDataRole.ToolTipRole)


def test_a_failure_without_a_code_shows_its_error_once(qtbot: QtBot) -> None:
    model = ActivityModel()
    end = event("m", 1, EventKind.ACTION_FAILED, operation="relocate_asset", terminal=True,
                outcome=Outcome.FAILED, summary="Move failed").model_copy(update={
                    "detail": ActionFailedDetail(action="relocate_asset",
                                                 error="target folder is read-only")})
    model.apply([LaneEvent(end)])
    assert model.index(0, COL_OPERATION).data() == (
        "Relocate · Move failed — target folder is read-only")


def _blocks(panel: ActivityPanel) -> list[QTextBlock]:
    document = panel.inspection.browser.document()
    block = document.begin()
    found = []
    while block.isValid():
        found.append(block)
        block = block.next()
    return found


LABELS = ("Status", "Started", "Events", "Progress updates", "Counts", "Project", "Operation",
          "Sequence", "Kind", "Timestamp", "Summary", "Outcome", "Progress", "Affected assets",
          "Detail")


def test_the_inspector_reads_well_at_1024_by_700(qtbot: QtBot) -> None:
    model = ActivityModel()
    long_error = "cannot write build/assets.pa: " + "the disk said no " * 30
    build = blocked_build()
    end = build[-1].event.model_copy(update={"detail": BuildFinishedDetail(
        asset_count=4, blocking=(TILE,), error=long_error)})
    model.apply([*build[:-1], LaneEvent(end, 1)])
    window = QWidget()
    qtbot.addWidget(window)
    panel = ActivityPanel(model)
    QVBoxLayout(window).addWidget(panel)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    assert panel.select_operation("b")
    text = panel.inspection.browser.toPlainText()
    assert "What went wrong" in text
    assert f"PK128 error — {TILE.message}" in text
    assert "File: tiles/overworld/tiles/002_path.png" in text
    assert f"Fix: {CATALOGUE['PK128'].fix}" in text
    seen = set()
    for block in _blocks(panel):
        for label in LABELS:
            if block.text().replace("\u00a0", " ").startswith(f"{label}:"):
                seen.add(label)
                line = block.layout().lineAt(0)
                # The whole label sits on the block's first line: never one letter per line.
                assert line.textLength() >= len(label) + 1, label
    assert seen >= {"Status", "Summary", "Affected assets", "Detail"}
    browser = panel.inspection.browser
    qtbot.waitUntil(lambda: browser.horizontalScrollBar().maximum() == 0)  # nothing runs off
    assert "the disk said no the disk said no" in browser.toPlainText()


def test_acknowledge_updates_the_inspector_at_once(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply(blocked_build())
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.select_operation("b")
    assert "not acknowledged" in panel.inspection.browser.toPlainText()
    panel.acknowledge_button.click()
    assert "not acknowledged" not in panel.inspection.browser.toPlainText()
    assert "Status: blocked" in panel.inspection.browser.toPlainText()
