"""How Activity rows read: operation labels, the summary beside them, elapsed, compact counts,
the time an operation started, and the Counts column stepping aside when the panel is narrow."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from packer.lane.events import AffectedAsset, EventKind
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import ActivityPanel
from studio.panels.activity.presentation import (
    COL_COUNTS,
    COL_ELAPSED,
    COL_OPERATION,
    compact_counts,
    format_seconds,
    local_time,
    operation_label,
    operation_tooltip,
)
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import T0, event, finished

HERO = AffectedAsset(asset_id=7, root="glyphs/hero", name="hero")


def test_operation_names_become_words() -> None:
    assert operation_label("adopt_asset.preview") == "Preview · adopt"
    assert operation_label("remove_asset.preview") == "Preview · remove"
    assert operation_label("adopt_asset") == "Adopt"
    assert operation_label("build") == "Build"
    assert operation_label("doctor") == "Doctor"
    assert operation_label("future_thing.verify") == "Future thing · verify"


def test_instant_operations_say_under_a_millisecond() -> None:
    assert format_seconds(0.0) == "<1 ms"
    assert format_seconds(0.0004) == "<1 ms"
    assert format_seconds(0.004) == "4 ms"
    assert format_seconds(2.5) == "2.5 s"


def _model(qtbot: QtBot, *events: LaneEvent) -> ActivityModel:
    model = ActivityModel()
    model.apply(list(events))
    return model


def test_a_row_is_the_label_then_the_packers_summary(qtbot: QtBot) -> None:
    model = _model(
        qtbot,
        LaneEvent(event("p", 1, EventKind.PREVIEW_READY, operation="adopt_asset.preview",
                        summary="Preview of adopt hero: registry: add #5", terminal=True)),
        LaneEvent(event("d", 1, EventKind.DIAGNOSTICS_UPDATED, operation="details",
                        summary="#7 hero: 0 errors", terminal=True)),
        LaneEvent(event("a", 1, EventKind.ACTION_APPLIED, operation="adopt_asset",
                        summary="cannot adopt: it is locked", terminal=True)),
    )
    texts = {rec.operation: model.index_of(rec, COL_OPERATION).data()
             for rec in model.operations()}
    # The summary already opens with the label's word: not said twice.
    assert texts["adopt_asset.preview"] == "Preview of adopt hero: registry: add #5"
    assert texts["details"] == "Details · #7 hero: 0 errors"
    assert texts["adopt_asset"] == "Adopt · cannot adopt: it is locked"
    assert all("_asset" not in text for text in texts.values())


def test_rows_say_when_the_operation_started_and_count_compactly(qtbot: QtBot) -> None:
    model = _model(
        qtbot,
        LaneEvent(event("b", 1, EventKind.CACHE_HIT, operation="build", assets=(HERO,))),
        LaneEvent(event("b", 2, EventKind.CACHE_MISS, operation="build")),
        LaneEvent(finished("b", 3, operation="build", summary="Build succeeded")),
    )
    rec = model.operations()[0]
    assert compact_counts(rec) == "1 asset · 1/2 cached"
    assert model.index_of(rec, COL_COUNTS).data() == "1 asset · 1/2 cached"
    assert model.index_of(rec, COL_ELAPSED).data() == "2 ms"
    tooltip = operation_tooltip(rec)
    assert f"Build — started {local_time(rec.first_timestamp)}" in tooltip
    assert local_time(T0).endswith(T0.astimezone().strftime("%H:%M:%S"))
    assert "Counts: 1 asset · 1 hit · 1 miss" in tooltip  # spelled out in the tooltip


def test_inspection_shows_the_start_time_and_the_label(qtbot: QtBot) -> None:
    model = _model(qtbot, LaneEvent(finished("b", 1, operation="build", summary="Build ok")))
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    assert panel.select_operation("b")
    text = panel.inspection.browser.toPlainText()
    assert "Build (build)" in text
    assert f"Started: {local_time(model.operations()[0].first_timestamp)}" in text


def test_counts_step_aside_when_the_panel_is_narrow(qtbot: QtBot) -> None:
    model = _model(qtbot, LaneEvent(finished("b", 1, operation="build")))
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    panel.show()
    panel.resize(700, 400)
    qtbot.waitUntil(lambda: not panel.view.isColumnHidden(COL_COUNTS))
    wide = panel.view.columnWidth(COL_OPERATION)
    panel.resize(300, 400)
    qtbot.waitUntil(lambda: panel.view.isColumnHidden(COL_COUNTS))
    # Progress and Elapsed keep room for "9999/9999" and "59m 59s" (issue 12: never cut).
    assert panel.view.columnWidth(COL_OPERATION) >= 100 and wide > 300
