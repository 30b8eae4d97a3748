"""Progress widgets: the status-bar aggregate with cancel, and per-operation bars."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from packer.lane.cancellation import CancellationToken
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.progress import GlobalProgressWidget, OperationProgressBar
from studio.panels.activity.records import BAR_DELAY_S
from studio.services.event_lane import EventLane
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import finished, progress


def age(model: ActivityModel) -> None:
    for rec in model.operations():
        rec.first_arrival -= BAR_DELAY_S


def test_status_bar_aggregates_running_operations_and_cancels_them(qtbot: QtBot) -> None:
    lane = EventLane()
    model = ActivityModel()
    lane.events_delivered.connect(model.apply)
    widget = GlobalProgressWidget(model, lane)
    qtbot.addWidget(widget)
    tokens = [CancellationToken(), CancellationToken()]
    sinks = [lane.open_sink("scan", tokens[0]), lane.open_sink("build", tokens[1])]
    sinks[0].publish(progress("a", 1, done=50, total=100))
    sinks[1].publish(progress("b", 1, done=26, total=100, operation="build"))
    qtbot.waitUntil(lambda: len(model.running_operations()) == 2)
    widget.refresh()
    assert widget.isHidden()  # younger than ~300 ms: no bar, no flicker
    age(model)
    widget.refresh()
    assert not widget.isHidden()
    assert widget.label.text() == "2 operations, 38%"
    assert widget.bar.value() == 380
    assert widget.cancel_running() == 2
    assert all(t.cancelled for t in tokens)
    sinks[0].publish(finished("a", 2))
    sinks[1].publish(finished("b", 2))
    qtbot.waitUntil(lambda: not model.running_operations())
    widget.refresh()
    assert widget.isHidden()


def test_operation_bar_follows_its_kind_of_work_and_is_indeterminate_without_total(
    qtbot: QtBot,
) -> None:
    model = ActivityModel()
    bar = OperationProgressBar(model, "build")
    qtbot.addWidget(bar)
    model.apply([LaneEvent(progress("s", 1, done=5, total=10))])  # a scan: not this bar's
    age(model)
    bar.refresh()
    assert bar.isHidden()
    model.apply([LaneEvent(progress("b", 1, done=3, total=None, operation="build"))])
    age(model)
    bar.refresh()
    assert not bar.isHidden()
    assert (bar.bar.minimum(), bar.bar.maximum()) == (0, 0)  # busy indicator
    model.apply([LaneEvent(progress("b", 2, done=4, total=8, operation="build"))])
    bar.refresh()
    assert bar.bar.maximum() == 1000 and bar.bar.value() == 500
    model.apply([LaneEvent(progress("b", 3, done=2, total=8, operation="build"))])
    bar.refresh()
    assert bar.bar.value() == 500  # never backwards
