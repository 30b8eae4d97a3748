"""Outcomes drawn by severity, a blocked preview is no failure, filters keep the layout, texts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from packer.lane.events import EventKind, Outcome
from studio.panels.activity.journal import JournalEntry, keep
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import ActivityPanel
from studio.panels.activity.presentation import (
    COL_COUNTS,
    COL_ELAPSED,
    COL_OPERATION,
    COL_PROGRESS,
    ICON_SIZE,
    format_seconds,
    status_icon,
)
from studio.panels.activity.progress import summarise
from studio.panels.activity.records import OperationStatus
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import event, finished, progress


def _disc_colour(status: OperationStatus) -> QColor:
    image = status_icon(status).pixmap(ICON_SIZE, ICON_SIZE).toImage()
    return image.pixelColor(4, ICON_SIZE // 2)  # on the disc, left of the glyph


def test_failed_is_red_blocked_amber_cancelled_neutral(qtbot: QtBot) -> None:
    failed = _disc_colour(OperationStatus.FAILED)
    blocked = _disc_colour(OperationStatus.BLOCKED)
    cancelled = _disc_colour(OperationStatus.CANCELLED)
    assert failed.red() > 150 and failed.green() < 80 and failed.blue() < 80
    assert blocked.red() > 180 and 90 < blocked.green() < 170 and blocked.blue() < 60
    assert abs(cancelled.red() - cancelled.green()) < 10 and abs(cancelled.green()
                                                                  - cancelled.blue()) < 10


def test_a_blocked_preview_is_not_a_failure_to_acknowledge(qtbot: QtBot) -> None:
    model = ActivityModel()
    preview = finished("p", 1, Outcome.BLOCKED, operation="relocate_asset.preview")
    refused = finished("a", 1, Outcome.BLOCKED, operation="relocate_asset")
    model.apply([LaneEvent(preview), LaneEvent(refused)])
    rec = model.operation("p")
    assert rec is not None and rec.status is OperationStatus.BLOCKED and not rec.pinned
    assert model.unacknowledged_failures == 1  # the refused apply still needs a look
    # History agrees: only the refused apply is kept past the cap as unacknowledged.
    entries = [JournalEntry(preview), JournalEntry(refused)] + [
        JournalEntry(finished(f"n{i}", 1)) for i in range(3)]
    kept = {e.event.operation_id for e in keep(entries, (), cap=2)}
    assert kept == {"a", "n1", "n2"}


def test_clearing_a_filter_keeps_the_column_widths_and_esc_clears_it(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply([LaneEvent(event("b", 1, EventKind.BUILD_STARTED, operation="build")),
                 LaneEvent(finished("b", 2, operation="build"))])
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    qtbot.waitUntil(lambda: not panel.view.isColumnHidden(COL_COUNTS))
    widths = [panel.view.columnWidth(c) for c in range(model.columnCount())]
    panel.search.setText("build")
    assert panel.view.model() is panel.proxy
    panel.search.clear()
    assert panel.view.model() is model
    assert [panel.view.columnWidth(c) for c in range(model.columnCount())] == widths
    panel.search.setText("nothing like this")
    panel.status_filter.setCurrentIndex(2)
    panel.search.setFocus()
    QTest.keyClick(panel.search, Qt.Key.Key_Escape)
    assert panel.search.text() == "" and panel.status_filter.currentIndex() == 0
    assert panel.view.model() is model
    assert [panel.view.columnWidth(c) for c in range(model.columnCount())] == widths


def test_progress_and_elapsed_fit_their_text(qtbot: QtBot) -> None:
    panel = ActivityPanel(ActivityModel())
    qtbot.addWidget(panel)
    metrics = panel.view.fontMetrics()
    assert panel.view.columnWidth(COL_PROGRESS) > metrics.horizontalAdvance("3000/3000")
    assert panel.view.columnWidth(COL_ELAPSED) > metrics.horizontalAdvance(format_seconds(126))
    assert panel.view.columnWidth(COL_ELAPSED) > metrics.horizontalAdvance("59m 59s")
    assert panel.view.columnWidth(COL_OPERATION) > 0


def test_the_status_bar_never_says_the_operation_twice(qtbot: QtBot, tmp_path: Path) -> None:
    model = ActivityModel()
    model.apply([LaneEvent(progress("l", 1, done=2952, total=3000, operation="list",
                                    summary="list: 2952/3000 assets"))])
    rec = model.operation("l")
    assert rec is not None
    text = summarise([rec], rec.first_arrival + 1).text()  # shown, not stalled
    assert text == "list: 2952/3000 assets, 98%"


def test_a_blocked_read_is_an_answer_and_a_blocked_build_is_a_failure(qtbot: QtBot) -> None:
    # A validation that finds errors blocking a build (doctor: "blocked") answered its
    # question; the Problems view lists them. A project with errors must not open on
    # "Activity (1)" every time its background validation runs.
    model = ActivityModel()
    doctor = finished("d", 1, Outcome.BLOCKED, operation="doctor")
    build = finished("b", 1, Outcome.BLOCKED, operation="build")
    broken = finished("f", 1, Outcome.FAILED, operation="doctor")
    model.apply([LaneEvent(doctor), LaneEvent(build), LaneEvent(broken)])
    rec = model.operation("d")
    assert rec is not None and rec.status is OperationStatus.BLOCKED and not rec.pinned
    assert model.unacknowledged_failures == 2  # the refused build and the doctor that failed
    entries = [JournalEntry(doctor), JournalEntry(build), JournalEntry(broken)] + [
        JournalEntry(finished(f"n{i}", 1)) for i in range(3)]
    kept = {e.event.operation_id for e in keep(entries, (), cap=2)}
    assert kept == {"b", "f", "n1", "n2"}
