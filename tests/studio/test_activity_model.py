"""The Activity model: one row per operation, grouped events, progress, failures, caps."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from packer.lane.events import AffectedAsset, EventKind, Outcome
from studio.panels.activity import model as model_module
from studio.panels.activity import records
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import ActivityPanel
from studio.panels.activity.presentation import BAR_ROLE, COL_OPERATION, COL_PROGRESS, INDETERMINATE
from studio.panels.activity.records import GroupNode, OperationStatus
from studio.services.event_lane import EventLane
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import event, finished, progress


def items(*events: object) -> list[LaneEvent]:
    return [LaneEvent(e) for e in events]  # type: ignore[arg-type]


def text(model: ActivityModel, row: int, column: int, parent: QModelIndex | None = None) -> str:
    index = model.index(row, column, parent or QModelIndex())
    return str(model.data(index, Qt.ItemDataRole.DisplayRole))


def test_one_row_per_operation_newest_first(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply(items(event("a", 1), event("b", 1), event("a", 2)))
    model.apply(items(event("c", 1, operation="build")))
    assert model.rowCount() == 3
    assert [text(model, r, COL_OPERATION).split(" · ")[0] for r in range(3)] == [
        "Build", "Doctor", "Doctor"
    ]
    assert [model.operations()[r].operation_id for r in range(3)] == ["c", "b", "a"]


def test_a_batch_of_new_operations_lands_newest_first(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply(items(*(event(f"op{i}", 1) for i in range(50))))
    assert model.rowCount() == 50
    assert [rec.operation_id for rec in model.operations()][:3] == ["op49", "op48", "op47"]
    assert model.node(model.index(0, 3)) is model.operations()[0]


def test_repetitive_events_are_summarised_inside_their_operation_never_lost(
    qtbot: QtBot,
) -> None:
    model = ActivityModel()
    model.apply(items(event("b", 1, EventKind.BUILD_STARTED, operation="build")))
    collapsed = model.index(0, 0)
    assert model.rowCount(collapsed) == 1  # a placeholder: event rows are made when expanded
    assert text(model, 0, 0, collapsed) == "…"
    hits = [event("b", s, EventKind.CACHE_HIT, operation="build") for s in range(2, 44)]
    model.apply(items(*hits[:20]))  # three batches: the later ones extend the group
    assert model.materialize(model.index(0, 0))
    assert model.materialize(model.index(1, 0, model.index(0, 0)))  # expanded: rows follow
    assert not model.materialize(model.index(0, 0))  # once
    model.apply(items(*hits[20:28]))
    model.apply(items(*hits[28:]))
    model.apply(items(event("b", 44, EventKind.CACHE_MISS, operation="build"), finished("b", 45)))
    op = model.index(0, 0)
    assert model.rowCount(op) == 4  # build_started, 42 cache hits, 1 cache miss, terminal
    assert text(model, 1, COL_OPERATION, op) == "42 cache hits"
    assert text(model, 2, COL_OPERATION, op) == "1 cache miss"
    group_index = model.index(1, 0, op)
    assert model.rowCount(group_index) == 42
    group = model.node(group_index)
    assert isinstance(group, GroupNode)
    assert [n.item.sequence for n in group.children] == list(range(2, 44))
    record = model.operations()[0]
    assert (record.cache_hits, record.cache_misses) == (42, 1)
    assert record.status is OperationStatus.SUCCEEDED


def test_progress_is_latest_never_backwards_and_bars_wait_300_ms(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply([LaneEvent(progress("p", 1, done=40, total=100), coalesced=7)])
    index = model.index(0, COL_PROGRESS)
    assert model.data(index, BAR_ROLE) is None  # too young for a bar: no flicker
    record = model.operations()[0]
    record.first_arrival -= records.BAR_DELAY_S
    model.refresh_rows()  # what the ~100 ms timer does
    assert model.data(index, BAR_ROLE) == pytest.approx(0.4)
    assert model.data(index, Qt.ItemDataRole.DisplayRole) == "40%"
    model.apply(items(progress("p", 2, done=30, total=100)))  # backwards: ignored
    model.refresh_rows()
    assert model.data(index, BAR_ROLE) == pytest.approx(0.4)
    assert record.progress_updates == 8
    model.apply(items(progress("q", 1, done=3, total=None)))
    model.operations()[0].first_arrival -= records.BAR_DELAY_S
    model.refresh_rows()
    assert model.data(model.index(0, COL_PROGRESS), BAR_ROLE) == INDETERMINATE
    model.apply(items(finished("p", 3)))
    assert model.data(model.index(1, COL_PROGRESS), BAR_ROLE) is None  # ended: no bar


def test_failures_are_counted_until_acknowledged(qtbot: QtBot) -> None:
    model = ActivityModel()
    counts: list[int] = []
    model.unacknowledged_failures_changed.connect(counts.append)
    model.apply(items(finished("f1", 1, Outcome.FAILED),
                      finished("f2", 1, Outcome.BLOCKED, operation="build")))  # refused work
    model.apply(items(finished("ok", 1), finished("x", 1, Outcome.CANCELLED)))
    assert model.unacknowledged_failures == 2
    model.acknowledge(["f1", "ok"])
    assert model.unacknowledged_failures == 1
    model.acknowledge_all()
    assert counts == [2, 1, 0]
    assert not any(rec.pinned for rec in model.operations())


def test_memory_is_capped_but_pinned_failures_stay(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_module, "MAX_OPERATIONS", 5)
    monkeypatch.setattr(records, "MAX_EVENTS_PER_OPERATION", 10)
    model = ActivityModel()
    model.apply(items(finished("failed-early", 1, Outcome.FAILED)))
    for i in range(10):
        model.apply(items(finished(f"ok{i}", 1)))
    ids = [rec.operation_id for rec in model.operations()]
    assert len(ids) == 6 and "failed-early" in ids  # the newest 5, and the failure
    model.apply(items(*(event("big", s) for s in range(1, 100)), finished("big", 100)))
    big = model.operation("big")
    assert big is not None
    assert big.events_total == 100
    assert big.status is OperationStatus.SUCCEEDED  # the terminal is always kept
    assert big.events_retained <= 11


def test_lane_to_model_end_to_end_keeps_every_terminal(qtbot: QtBot) -> None:
    lane = EventLane()
    model = ActivityModel()
    lane.events_delivered.connect(model.apply)
    sink = lane.open_sink("worker")
    for n in range(20):
        for s in range(1, 50):
            sink.publish(progress(f"op{n}", s, done=s, total=49))
        sink.publish(finished(f"op{n}", 50, assets=(AffectedAsset(root=f"r{n}"),)))
    sink.close()
    qtbot.waitUntil(lambda: model.rowCount() == 20 and not model.running_operations())
    assert all(rec.progress_updates == 49 for rec in model.operations())
    assert all(len(rec.assets) == 1 for rec in model.operations())


def test_event_rows_are_made_on_demand_and_group_counts_stay_exact_past_the_cap(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "MAX_EVENTS_PER_OPERATION", 10)
    model = ActivityModel()
    model.apply(items(event("b", 1, EventKind.BUILD_STARTED, operation="build")))
    hits = [event("b", s, EventKind.CACHE_HIT, operation="build") for s in range(2, 31)]
    model.apply(items(*hits[:5]))
    record = model.operations()[0]
    assert record.derived_children() == []  # nobody looked: no rows made yet
    model.apply(items(*hits[5:], finished("b", 31)))
    _started, group, terminal = record.children
    assert isinstance(group, GroupNode)
    assert group.count == 29 and len(group.children) == 9  # counted beyond the 10 kept
    assert terminal.item.event.terminal  # type: ignore[union-attr]
    assert (record.events_total, record.events_retained, record.cache_hits) == (31, 11, 29)


class Window:
    def __init__(self) -> None:
        self.rows: tuple[int, int] | None = (0, 0)

    def on_screen(self) -> tuple[int, int] | None:
        return self.rows


def test_the_refresh_tick_rewrites_only_running_rows_on_screen(qtbot: QtBot) -> None:
    model = ActivityModel()
    window = Window()
    model.set_row_window(window.on_screen)
    model.apply(items(*(progress(op, 1, done=10, total=100) for op in ("low", "high"))))
    for rec in model.operations():
        rec.first_arrival -= records.BAR_DELAY_S
    model.apply(items(*(progress(op, 2, done=50, total=100) for op in ("low", "high"))))
    model._on_refresh()  # the ~100 ms tick
    assert text(model, 0, COL_PROGRESS) == "50%"  # "high", on screen
    assert text(model, 1, COL_PROGRESS) == "10/100 assets (10%)"  # "low" waits, off screen
    assert model.operation("low").progress.done == 50  # type: ignore[union-attr]
    window.rows = (0, 1)  # scrolled: both on screen
    model.refresh_on_screen()
    assert text(model, 1, COL_PROGRESS) == "50%"
    model.apply(items(finished("low", 3)))  # an ended row is written at once, anywhere
    window.rows = (0, 0)
    model.apply(items(finished("high", 3)))
    assert model.operation("low").status is OperationStatus.SUCCEEDED  # type: ignore[union-attr]
    assert text(model, 1, COL_PROGRESS) == "50/100"


def test_the_panel_tells_the_model_which_rows_are_on_screen(qtbot: QtBot) -> None:
    model = ActivityModel()
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    model.apply(items(*(progress(f"op{i}", 1, done=1, total=9) for i in range(60))))
    window = model._row_window() if model._row_window is not None else None
    assert window is not None
    assert window() == (0, -1)  # hidden: no running row is rewritten
    panel.resize(600, 400)
    panel.show()
    qtbot.waitExposed(panel)
    first, last = window()  # type: ignore[misc]
    assert first == 0 and 0 < last < 59  # a screenful, not all 60
    panel.view.verticalScrollBar().setValue(panel.view.verticalScrollBar().maximum())
    assert window()[1] == 59  # type: ignore[index]
