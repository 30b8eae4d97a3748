"""Issue 12, item 9: at the default window size every Activity column shows its text uncut."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QStyle
from pytestqt.qtbot import QtBot

from packer.lane.events import AffectedAsset, EventKind
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import CELL_PADDING, ActivityPanel
from studio.panels.activity.presentation import COL_COUNTS, COL_OPERATION
from studio.services.lane_items import LaneEvent
from studio.shell.main_window import MainWindow
from tests.studio.helpers import ScriptedPrompter
from tests.studio.lane_events import event, finished
from tests.studio.test_activity_fold import read

ASSETS = [AffectedAsset(asset_id=i, root=f"tiles/a{i}", name=f"a{i}") for i in range(1, 5)]


def _build(op: str, hits: int, misses: int) -> list[LaneEvent]:
    """A build that looked each of its assets up in the cache once."""
    lookups = [
        LaneEvent(event(op, 2 + i, EventKind.CACHE_HIT if i < hits else EventKind.CACHE_MISS,
                        operation="build", assets=(asset,)))
        for i, asset in enumerate(ASSETS[:hits + misses])
    ]
    return [LaneEvent(event(op, 1, EventKind.BUILD_STARTED, operation="build")), *lookups,
            LaneEvent(finished(op, 99, operation="build", summary="Build succeeded"))]


# The screens a first start fills: the size the Studio is shown and photographed at (Xvfb,
# README) and the most common desktop.
@pytest.mark.parametrize("size", [QSize(1440, 870), QSize(1920, 1050)])
def test_every_visible_column_fits_its_text_at_the_default_window_size(
    qtbot: QtBot, size: QSize
) -> None:
    model = ActivityModel()
    model.apply(read("l1", "list") + read("d1"))  # a fold: "details ×1 · list ×1"
    model.apply(_build("b1", hits=0, misses=4))  # "4 assets, 0 cached"
    model.apply(_build("b2", hits=3, misses=1))
    window = MainWindow(ScriptedPrompter())
    qtbot.addWidget(window)
    panel = ActivityPanel(model)
    window.add_utility_tab(panel, "Activity")
    window.resize(size)
    window.show()
    window.apply_default_layout(size)
    qtbot.waitUntil(lambda: panel.view.viewport().width() > 300)
    view = panel.view
    metrics = view.fontMetrics()
    assert not view.isColumnHidden(COL_COUNTS)  # the counts are shown, not only in tooltips
    counts = [model.index(r, COL_COUNTS).data() for r in range(model.rowCount())]
    assert "4 assets, 0 cached" in counts and "details ×1 · list ×1" in counts
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view)
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            if view.isColumnHidden(column):
                continue
            text = model.index(row, column).data() or ""
            room = view.columnWidth(column) - 2 * (margin + 1)
            if column == COL_OPERATION:  # the tree's branch indicator sits in this column
                room -= view.indentation()
            assert metrics.horizontalAdvance(text) <= room, (text, column, room)
    assert 2 * (margin + 1) <= CELL_PADDING
