"""The Activity panel: inspection, asset links, Copy as JSON, filters, acknowledgement."""

from __future__ import annotations

import json

from PySide6.QtCore import QModelIndex, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHeaderView
from pytestqt.qtbot import QtBot

from packer.lane.events import AffectedAsset, EventKind, Outcome
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import ActivityPanel, tab_title
from studio.panels.activity.presentation import COL_OPERATION, NODE_ROLE
from studio.panels.activity.records import EventNode, GroupNode
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import event, finished, progress

HERO = AffectedAsset(asset_id=7, root="glyphs/hero", name="hero")
MUSIC = AffectedAsset(root="sounds/music", name=None)


def make_panel(qtbot: QtBot) -> tuple[ActivityModel, ActivityPanel]:
    model = ActivityModel()
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    model.apply([
        LaneEvent(event("scan1", 1, summary="found hero", assets=(HERO, MUSIC))),
        LaneEvent(progress("scan1", 2, done=2, total=2), coalesced=5),
        LaneEvent(finished("scan1", 3, summary="scan finished")),
        LaneEvent(event("build1", 1, EventKind.BUILD_STARTED, operation="build")),
        LaneEvent(finished("build1", 2, Outcome.FAILED, operation="build", summary="disk full")),
        LaneEvent(event("doc1", 1, EventKind.DIAGNOSTICS_UPDATED, operation="doctor")),
    ])
    return model, panel


def visible_operations(panel: ActivityPanel) -> list[str]:
    shown = panel.view.model()
    return [
        shown.index(r, 0).data(NODE_ROLE).operation_id for r in range(shown.rowCount())
    ]


def first_event_index(panel: ActivityPanel, operation_id: str) -> QModelIndex:
    rows = visible_operations(panel)
    shown = panel.view.model()
    op_index = shown.index(rows.index(operation_id), 0)
    panel.view.expand(op_index)  # rows under an operation appear when it is expanded
    index = shown.index(0, 0, op_index)
    if isinstance(index.data(NODE_ROLE), GroupNode):  # "1 asset discovered" → the event
        panel.view.expand(index)
        index = shown.index(0, 0, index)
    return index


def test_selecting_an_event_shows_its_full_envelope(qtbot: QtBot) -> None:
    _model, panel = make_panel(qtbot)
    panel.select_index(first_event_index(panel, "scan1"))
    node = panel.selected_node()
    assert isinstance(node, EventNode)
    shown = panel.inspection.browser.toPlainText()
    for expected in ("proj", "scan1", "Sequence", "asset_discovered", "2024-01-01",
                     "found hero", "hero", "sounds/music", "Detail"):
        assert expected in shown


def test_selecting_an_operation_shows_its_terminal_and_counts(qtbot: QtBot) -> None:
    _model, panel = make_panel(qtbot)
    assert panel.select_operation("scan1")
    shown = panel.inspection.browser.toPlainText()
    assert "scan finished" in shown and "succeeded" in shown
    assert "5 (coalesced)" in shown


def test_affected_assets_are_links_to_the_assets_workspace(qtbot: QtBot) -> None:
    _model, panel = make_panel(qtbot)
    panel.select_index(first_event_index(panel, "scan1"))
    assert 'href="asset:0"' in panel.inspection.browser.toHtml()
    with qtbot.waitSignal(panel.asset_link_activated) as blocker:
        panel.inspection.browser.anchorClicked.emit(QUrl("asset:1"))
    assert blocker.args == [MUSIC]


def test_copy_as_json_puts_the_envelope_on_the_clipboard(qtbot: QtBot) -> None:
    _model, panel = make_panel(qtbot)
    panel.select_index(first_event_index(panel, "scan1"))
    panel.inspection.copy_button.click()
    copied = json.loads(QGuiApplication.clipboard().text())
    assert copied["operation_id"] == "scan1" and copied["sequence"] == 1
    assert copied["affected_assets"][0] == {"asset_id": 7, "root": "glyphs/hero", "name": "hero"}
    assert copied["lane"] == {"coalesced": 1, "made_by_lane": False}


def test_filters_by_kind_status_and_text(qtbot: QtBot) -> None:
    model, panel = make_panel(qtbot)
    assert visible_operations(panel) == ["doc1", "build1", "scan1"]
    assert panel.view.model() is model  # no filter: no proxy in the way
    panel.kind_filter.setCurrentIndex(panel.kind_filter.findData(EventKind.BUILD_STARTED))
    assert visible_operations(panel) == ["build1"]
    panel.kind_filter.setCurrentIndex(0)
    panel.status_filter.setCurrentIndex(2)  # failed only
    assert visible_operations(panel) == ["build1"]
    panel.status_filter.setCurrentIndex(1)  # running
    assert visible_operations(panel) == ["doc1"]
    panel.status_filter.setCurrentIndex(0)
    panel.search.setText("HERO")
    assert visible_operations(panel) == ["scan1"]
    panel.select_index(first_event_index(panel, "scan1"))  # expanding works through the filter
    assert "found hero" in panel.inspection.browser.toPlainText()
    panel.search.setText("disk full")
    assert visible_operations(panel) == ["build1"]
    panel.search.clear()
    assert panel.view.model() is model
    model.apply([LaneEvent(finished("doc1", 2, operation="doctor"))])
    panel.status_filter.setCurrentIndex(1)
    assert visible_operations(panel) == []


def test_acknowledging_failures_updates_the_count_and_the_tab_title(qtbot: QtBot) -> None:
    model, panel = make_panel(qtbot)
    assert panel.title() == "Activity (1)"
    model.apply([LaneEvent(finished("other", 1, Outcome.FAILED))])
    assert panel.unacknowledged_failures == 2
    assert panel.select_operation("build1")
    assert panel.acknowledge_button.isEnabled()
    with qtbot.waitSignal(panel.unacknowledged_failures_changed) as blocker:
        panel.acknowledge_button.click()
    assert blocker.args == [1]
    assert not panel.acknowledge_button.isEnabled()
    with qtbot.waitSignal(panel.unacknowledged_failures_changed) as blocker:
        panel.acknowledge_all_button.click()
    assert blocker.args == [0]
    assert panel.title() == tab_title(0) == "Activity"
    assert not panel.acknowledge_all_button.isEnabled()


def test_only_the_operation_column_stretches_and_nothing_selected_says_what_to_do(
    qtbot: QtBot,
) -> None:
    _model, panel = make_panel(qtbot)
    header = panel.view.header()
    modes = [header.sectionResizeMode(c) for c in range(header.count())]
    assert modes[COL_OPERATION] is QHeaderView.ResizeMode.Stretch
    assert all(m is QHeaderView.ResizeMode.Fixed for c, m in enumerate(modes)
               if c != COL_OPERATION)  # rows coming and going never move the columns
    assert panel.view.treePosition() == COL_OPERATION
    assert "Select an operation or event to inspect it" in panel.inspection.browser.toPlainText()
    assert panel.select_operation("scan1")
    panel.view.clearSelection()
    assert "Select an operation or event" in panel.inspection.browser.toPlainText()
