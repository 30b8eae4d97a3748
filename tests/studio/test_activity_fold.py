"""Routine reads are folded into one timeline row per run; failures and changes stand out."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from packer.lane.events import AffectedAsset, DiagnosticsUpdatedDetail, EventKind, Outcome
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import ActivityPanel
from studio.panels.activity.presentation import COL_COUNTS, COL_OPERATION, COL_STATUS, NODE_ROLE
from studio.panels.activity.records import BurstNode, OperationRecord, OperationStatus
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import event, finished

HERO = AffectedAsset(asset_id=1, root="tiles/hero", name="hero")


def read(op: str, operation: str = "details", outcome: Outcome = Outcome.SUCCEEDED,
         findings: tuple[int, int] = (0, 0), asset: AffectedAsset = HERO) -> list[LaneEvent]:
    errors, warnings = findings
    end = event(op, 1, EventKind.DIAGNOSTICS_UPDATED, operation=operation, terminal=True,
                outcome=outcome, assets=(asset,) if operation == "details" else ()).model_copy(
        update={"detail": DiagnosticsUpdatedDetail(errors=errors, warnings=warnings)}
    )
    if outcome is Outcome.FAILED:
        end = finished(op, 1, Outcome.FAILED, operation=operation, summary="disk error")
    return [LaneEvent(end)]


def top_nodes(model: ActivityModel) -> list[object]:
    return [model.index(r, 0).data(NODE_ROLE) for r in range(model.rowCount())]


def test_a_run_of_routine_reads_is_one_row_that_expands_to_each_read(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply(read("l1", "list") + read("d1") + read("d2"))
    model.apply(read("d3"))
    [burst] = top_nodes(model)
    assert isinstance(burst, BurstNode)
    assert [op.operation_id for op in burst.ops] == ["d3", "d2", "d1", "l1"]  # newest first
    assert model.index(0, COL_OPERATION).data() == "4 routine reads"
    assert model.index(0, COL_COUNTS).data() == "details ×3 · list ×1"
    assert model.rowCount(model.index(0, 0)) == 4  # every read keeps its own row
    child = model.node(model.index(0, 0, model.index(0, 0)))
    assert isinstance(child, OperationRecord) and child.operation_id == "d3"
    assert len(model.operations()) == 4  # nothing lost, nothing invented


def test_other_work_breaks_the_run_and_later_reads_start_a_new_fold(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply(read("d1") + read("d2"))
    model.apply([LaneEvent(event("b", 1, EventKind.BUILD_STARTED, operation="build")),
                 LaneEvent(finished("b", 2, operation="build"))])
    model.apply(read("d3"))
    nodes = top_nodes(model)
    assert [type(n).__name__ for n in nodes] == ["BurstNode", "OperationRecord", "BurstNode"]
    assert [len(n.ops) for n in nodes if isinstance(n, BurstNode)] == [1, 2]
    assert model.index(0, COL_OPERATION).data() == "1 routine read"


def test_a_failed_read_gets_its_own_pinned_row_above_its_fold(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply(read("d1") + read("d2"))
    model.apply([LaneEvent(event("d3", 1, EventKind.ASSET_DISCOVERED, operation="details"))])
    assert isinstance(top_nodes(model)[0], BurstNode)  # running reads start in the fold
    model.apply([LaneEvent(finished("d3", 2, Outcome.FAILED, operation="details"))])
    failed, burst = top_nodes(model)
    assert isinstance(failed, OperationRecord) and failed.operation_id == "d3"
    assert failed.status is OperationStatus.FAILED and failed.pinned
    assert isinstance(burst, BurstNode) and len(burst.ops) == 2
    assert model.unacknowledged_failures == 1


def test_a_read_whose_findings_changed_stands_out(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply(read("l1", "list", findings=(0, 1)) + read("l2", "list", findings=(0, 1)))
    model.apply(read("l3", "list", findings=(2, 1)))  # two new errors: worth a row
    changed, burst = top_nodes(model)
    assert isinstance(changed, OperationRecord) and changed.operation_id == "l3"
    assert isinstance(burst, BurstNode) and len(burst.ops) == 2
    model.apply(read("l4", "list", findings=(2, 1)))  # the same again: routine
    assert isinstance(top_nodes(model)[0], BurstNode)


def test_cancelled_reads_stay_folded(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply(read("l1", "list"))
    model.apply([LaneEvent(finished("l2", 1, Outcome.CANCELLED, operation="list"))])
    [burst] = top_nodes(model)
    assert isinstance(burst, BurstNode) and len(burst.ops) == 2


def test_filters_look_inside_folds(qtbot: QtBot) -> None:
    model = ActivityModel()
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    model.apply(read("d1") + read("d2", asset=AffectedAsset(root="sfx/boom", name="boom")))
    model.apply([LaneEvent(finished("b", 1, Outcome.FAILED, operation="build"))])
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("failed"))
    shown = panel.view.model()
    assert [shown.index(r, 0).data(NODE_ROLE).operation_id for r in range(shown.rowCount())
            ] == ["b"]  # a fold holds no failures
    panel.status_filter.setCurrentIndex(0)
    panel.search.setText("sfx/boom")
    fold = shown.index(0, 0)
    assert shown.rowCount() == 1 and isinstance(fold.data(NODE_ROLE), BurstNode)
    assert shown.rowCount(fold) == 1
    assert shown.index(0, 0, fold).data(NODE_ROLE).operation_id == "d2"


def test_selecting_a_read_opens_its_fold_and_the_fold_is_inspectable(qtbot: QtBot) -> None:
    model = ActivityModel()
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    model.apply(read("l1", "list") + read("d1"))
    panel.view.setCurrentIndex(model.index(0, 0))
    text = panel.inspection.browser.toPlainText()
    assert "2 routine reads" in text and "details ×1 · list ×1" in text
    assert "2 succeeded" in text
    assert not panel.inspection.copy_button.isEnabled()  # a fold is not one event
    assert panel.select_operation("l1")
    assert panel.view.isExpanded(model.index(0, 0))
    assert panel.selected_operation() is model.operation("l1")


def test_status_is_an_icon_whose_words_are_the_tooltip(qtbot: QtBot) -> None:
    model = ActivityModel()
    model.apply([LaneEvent(finished("b", 1, Outcome.FAILED, operation="build"))])
    index = model.index(0, COL_STATUS)
    assert index.data(Qt.ItemDataRole.DisplayRole) in ("", None)
    assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert index.data(Qt.ItemDataRole.ToolTipRole) == "failed — not acknowledged"
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == "failed — not acknowledged"
    assert model.headerData(COL_STATUS, Qt.Orientation.Horizontal,
                            Qt.ItemDataRole.ToolTipRole) == "Status"
    model.acknowledge(["b"])
    assert model.index(0, COL_STATUS).data(Qt.ItemDataRole.ToolTipRole) == "failed"
