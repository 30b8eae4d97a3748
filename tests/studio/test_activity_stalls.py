"""Stalls and time left: "no progress for N s" after 5 s of silence; a smoothed rate and time
left for determinate work, in the row and the status bar."""

from __future__ import annotations

import types

import pytest
from pytestqt.qtbot import QtBot

from packer.lane.events import Progress
from studio.panels.activity import model as model_module
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.presentation import COL_OPERATION
from studio.panels.activity.progress import summarise
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import event, progress


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(100.0)
    monkeypatch.setattr(model_module, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def test_a_silent_operation_says_how_long_it_has_had_no_progress(
    qtbot: QtBot, clock: Clock
) -> None:
    model = ActivityModel()
    model.apply([LaneEvent(event("s", 1, operation="scan", summary="Scanning")),
                 LaneEvent(progress("s", 2, done=10, total=None, operation="scan",
                                    summary="walk: 10 folders"))])
    rec = model.operation("s")
    assert rec is not None
    clock.now = 104.9
    model.refresh_rows([rec])
    row = model.index_of(rec, COL_OPERATION)
    assert "no progress" not in row.data()
    clock.now = 107.2
    model.refresh_rows([rec])
    assert row.data().endswith(" — no progress for 7 s")
    assert summarise([rec], clock.now).text().endswith(" — no progress for 7 s")
    clock.now = 108.0
    model.apply([LaneEvent(progress("s", 3, done=11, total=None, operation="scan"))])
    model.refresh_rows([rec])
    assert "no progress" not in row.data()


def test_determinate_work_shows_a_smoothed_rate_and_time_left(
    qtbot: QtBot, clock: Clock
) -> None:
    model = ActivityModel()
    model.apply([LaneEvent(event("b", 1, operation="build", summary="Building")),
                 LaneEvent(progress("b", 2, done=0, total=1000, operation="build"))])
    for seq, (at, done) in enumerate(((101.0, 100), (102.0, 200)), start=3):
        clock.now = at
        model.apply([LaneEvent(progress("b", seq, done=done, total=1000, operation="build"))])
    rec = model.operation("b")
    assert rec is not None and rec.rate == pytest.approx(100.0)
    model.refresh_rows([rec])
    assert model.index_of(rec, COL_OPERATION).data().endswith(
        " — 100 assets/s, about 8 s left")
    clock.now = 103.0
    model.apply([LaneEvent(progress("b", 5, done=500, total=1000, operation="build"))])
    assert rec.rate == pytest.approx(0.3 * 300 + 0.7 * 100)  # a burst moves it only partly
    assert summarise([rec], clock.now).text().endswith(" — 160 assets/s, about 3 s left")


def _with_bytes(op: str, seq: int, done: int, bytes_done: int) -> LaneEvent:
    """A build's progress as the packer publishes it: assets and the input bytes behind them."""
    plain = progress(op, seq, done=done, total=1000, operation="build")
    carried = Progress(done=done, total=1000, bytes_done=bytes_done, bytes_total=50_000_000)
    return LaneEvent(plain.model_copy(update={"progress": carried}))


def test_progress_that_carries_bytes_shows_mb_per_second_beside_the_rate(
    qtbot: QtBot, clock: Clock
) -> None:
    model = ActivityModel()
    model.apply([LaneEvent(event("b", 1, operation="build", summary="Building")),
                 _with_bytes("b", 2, 0, 0)])
    for seq, (at, done) in enumerate(((101.0, 100), (102.0, 200)), start=3):
        clock.now = at
        model.apply([_with_bytes("b", seq, done, done * 25_000)])  # 2.5 MB/s
    rec = model.operation("b")
    assert rec is not None and rec.byte_rate == pytest.approx(2_500_000)
    model.refresh_rows([rec])
    assert model.index_of(rec, COL_OPERATION).data().endswith(
        " — 100 assets/s · 2.5 MB/s, about 8 s left")
    assert summarise([rec], clock.now).text().endswith(
        " — 100 assets/s · 2.5 MB/s, about 8 s left")
    # Nothing is read from the summary: progress without bytes shows no MB/s at all.
    model.apply([LaneEvent(progress("r", 1, done=0, total=10, operation="build",
                                    summary="Building: 0/10 assets, 0.0/9.9 MB"))])
    clock.now = 103.0
    model.apply([LaneEvent(progress("r", 2, done=5, total=10, operation="build",
                                    summary="Building: 5/10 assets, 5.0/9.9 MB"))])
    plain = model.operation("r")
    assert plain is not None and plain.byte_rate is None
    model.refresh_rows([plain])
    assert "MB/s" not in model.index_of(plain, COL_OPERATION).data()
