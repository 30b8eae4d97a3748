"""History that lasts: operations (not events) are kept, each reopening exactly as it ended;
unacknowledged failures are never trimmed; the file stays bounded, compacted off the GUI thread."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from packer.lane.events import (
    AffectedAsset,
    BuildFinishedDetail,
    CacheMissDetail,
    EventKind,
    Outcome,
    PackerEvent,
    Progress,
)
from studio.panels.activity.journal import (
    CAP,
    HEAD,
    SLACK,
    TAIL,
    ActivityJournal,
    JournalEntry,
    journal_path,
)
from studio.panels.activity.journal_writer import THREAD_NAME, JournalWriter
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.presentation import compact_counts, progress_cell
from studio.panels.activity.records import OperationRecord, OperationStatus
from studio.services.lane_items import LaneEvent
from tests.studio.lane_events import T0, event, finished, progress


def _build(op: str, assets: int, *, hits: bool = False,
           outcome: Outcome = Outcome.SUCCEEDED) -> list[LaneEvent]:
    """A build of `assets` assets as the packer streams it: one cache event and one progress
    per asset, then build_finished with its totals (1 ms per event)."""
    items = [LaneEvent(event(op, 1, EventKind.BUILD_STARTED, operation="build"))]
    seq = 1
    for number in range(1, assets + 1):
        seq += 1
        asset = AffectedAsset(asset_id=number, root=f"raw/a{number:05d}", name=f"a{number}")
        kind = EventKind.CACHE_HIT if hits else EventKind.CACHE_MISS
        cached = event(op, seq, kind, operation="build", assets=(asset,))
        if not hits:
            cached = cached.model_copy(update={"detail": CacheMissDetail(reason="new_asset")})
        items.append(LaneEvent(cached))
        seq += 1
        items.append(LaneEvent(progress(op, seq, done=number, total=assets, operation="build")))
    seq += 1
    end = PackerEvent(
        project_id="proj", operation_id=op, operation="build", sequence=seq,
        kind=EventKind.BUILD_FINISHED, timestamp=T0 + timedelta(milliseconds=seq),
        summary=f"Build {outcome.value}", terminal=True, outcome=outcome,
        detail=BuildFinishedDetail(asset_count=assets, cache_hits=assets if hits else 0,
                                   cache_misses=0 if hits else assets),
    )
    items.append(LaneEvent(end))
    return items


def _looks(rec: OperationRecord) -> tuple[object, ...]:
    """What the user reads of a finished operation's row and inspection."""
    return (rec.status, rec.operation, rec.summary, compact_counts(rec), rec.counts_text(),
            progress_cell(rec, None), round(rec.elapsed_s(), 6), rec.events_total,
            dict(rec.kind_counts), rec.progress_updates, rec.acknowledged)


def _reopen(path: Path) -> ActivityModel:
    model = ActivityModel()
    model.restore(ActivityJournal(path).load())
    return model


def test_a_big_build_reopens_with_the_same_counts_and_duration_every_time(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = journal_path(tmp_path)
    writer = JournalWriter(ActivityJournal(path))
    live = ActivityModel(writer)
    live.apply(_build("first", 3000))
    live.apply(_build("second", 3000, hits=True))
    live.apply(_build("third", 1200, outcome=Outcome.CANCELLED))
    writer.close()
    expected = {rec.operation_id: _looks(rec) for rec in live.operations()}
    assert expected["first"][3] == "3000 assets, 0 cached"
    assert expected["first"][6] == 6.001  # first event to terminal: 1 ms per event

    for _ in range(3):  # reopen, add a little, quit; nothing drifts
        journal = ActivityJournal(path)
        model = ActivityModel(JournalWriter(journal))
        model.restore(journal.load())
        seen = {rec.operation_id: _looks(rec) for rec in model.operations()}
        assert seen == expected
        first = model.operation("first")
        assert first is not None and first.events_not_kept == 3002 - (HEAD + TAIL + 1)
        model.apply([LaneEvent(event("read", 1, operation="list")),
                     LaneEvent(finished("read", 2, operation="list"))])
        expected["read"] = _looks(model.operation("read"))  # type: ignore[arg-type]
        assert model.journal is not None
        model.journal.close()

    lines = path.read_bytes().splitlines()
    # Each build is its first HEAD and last TAIL lifecycle events and its terminal, not 3,000.
    assert len(lines) == 3 * (HEAD + TAIL + 1) + 3 * 2


def test_an_unacknowledged_failure_survives_thousands_of_later_events_and_a_restart(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compacting_threads: list[str] = []
    real_compact = ActivityJournal.compact

    def compact(self: ActivityJournal) -> None:
        compacting_threads.append(threading.current_thread().name)
        real_compact(self)

    monkeypatch.setattr(ActivityJournal, "compact", compact)
    path = journal_path(tmp_path)
    writer = JournalWriter(ActivityJournal(path), interval=0)
    model = ActivityModel(writer)
    model.apply([LaneEvent(event("broken", 1, operation="build")),
                 LaneEvent(finished("broken", 2, Outcome.FAILED, operation="build"))])
    model.apply([LaneEvent(finished("acked", 1, Outcome.FAILED, operation="build"))])
    model.acknowledge(["acked"])
    later = CAP + SLACK + 100
    for n in range(later):  # 850 operations, 5,100 events
        op = f"op{n}"
        model.apply([LaneEvent(event(op, s, operation="doctor")) for s in range(1, 6)]
                    + [LaneEvent(finished(op, 6, operation="doctor"))])
    assert model.flush_journal(timeout=30)
    writer.close()
    assert compacting_threads and set(compacting_threads) == {THREAD_NAME}

    restored = _reopen(path)
    ids = [rec.operation_id for rec in restored.operations()]
    assert "broken" in ids and "acked" not in ids  # acknowledged: trimmed like any other
    assert len(ids) == CAP + 1
    assert ids[:CAP] == [f"op{n}" for n in reversed(range(later - CAP, later))]
    broken = restored.operation("broken")
    assert broken is not None and broken.pinned and broken.status is OperationStatus.FAILED
    assert restored.unacknowledged_failures == 1
    operations_on_disk = {json.loads(line).get("operation_id")
                          for line in path.read_bytes().splitlines()}
    assert len(operations_on_disk - {None}) <= CAP + SLACK + 1


def test_many_unacknowledged_failures_do_not_make_every_flush_compact(
    qtbot: QtBot, tmp_path: Path
) -> None:
    journal = ActivityJournal(tmp_path / "activity.jsonl", cap=10)
    journal.append(finished_entry(f"fail{n}", Outcome.FAILED) for n in range(30))
    journal.append(finished_entry(f"ok{n}") for n in range(300))
    journal.flush()
    assert journal.compactions == 1
    for n in range(5):
        journal.append([finished_entry(f"more{n}")])
        journal.flush()
    assert journal.compactions == 1  # 40 kept; the next compaction waits for SLACK more
    loaded = ActivityJournal(tmp_path / "activity.jsonl", cap=10).load()
    ids = {e.event.operation_id for e in loaded}
    assert {f"fail{n}" for n in range(30)} <= ids and len(ids) == 40


def test_an_operation_that_never_ended_keeps_its_head_and_tail(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = journal_path(tmp_path)
    writer = JournalWriter(ActivityJournal(path))
    model = ActivityModel(writer)
    model.apply([LaneEvent(event("long", s, operation="scan")) for s in range(1, 1001)])
    writer.close()  # the Studio went away mid-operation
    sequences = [json.loads(line)["sequence"] for line in path.read_bytes().splitlines()]
    assert sequences == list(range(1, HEAD + 1)) + list(range(1001 - TAIL, 1001))
    restored = _reopen(path)
    rec = restored.operation("long")
    assert rec is not None and rec.status is OperationStatus.INCOMPLETE
    assert rec.elapsed_s() == pytest.approx(0.999)  # first to last event kept


def test_history_from_before_totals_still_loads(qtbot: QtBot, tmp_path: Path) -> None:
    """A file written by an earlier Studio (no totals, acknowledgements in place) opens."""
    path = tmp_path / "activity.jsonl"
    old = event("old", 1, EventKind.CACHE_MISS, operation="build").model_copy(
        update={"detail": CacheMissDetail(reason="new_asset")})
    end = finished("old", 2, Outcome.FAILED, operation="build")
    path.write_text(old.model_dump_json()[:-1] + ',"acknowledged":false,"made_by_lane":false}\n'
                    + end.model_dump_json()[:-1] + ',"acknowledged":true,"made_by_lane":false}\n')
    restored = _reopen(path)
    rec = restored.operation("old")
    assert rec is not None and rec.acknowledged and rec.cache_misses == 1
    assert rec.progress is None and restored.unacknowledged_failures == 0


def test_totals_round_trip_the_last_progress(qtbot: QtBot, tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    writer = JournalWriter(ActivityJournal(path))
    model = ActivityModel(writer)
    model.apply([LaneEvent(event("p", 1, operation="doctor")),
                 LaneEvent(progress("p", 2, done=7, total=9, operation="doctor")),
                 LaneEvent(finished("p", 3, operation="doctor"))])
    writer.close()
    rec = _reopen(path).operation("p")
    assert rec is not None and rec.progress == Progress(done=7, total=9)
    assert progress_cell(rec, None) == "7/9"


def finished_entry(op: str, outcome: Outcome = Outcome.SUCCEEDED) -> JournalEntry:
    return JournalEntry(finished(op, 1, outcome))


def test_a_terminal_naming_thousands_of_assets_is_one_bounded_line(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from studio.panels.activity.inspection import InspectionPane
    from studio.panels.activity.journal import ASSETS_PER_LINE

    path = journal_path(tmp_path)
    writer = JournalWriter(ActivityJournal(path))
    model = ActivityModel(writer)
    assets = tuple(AffectedAsset(asset_id=n, root=f"raw/a{n:05d}", name=f"a{n}")
                   for n in range(1, 30_001))
    end = finished("big", 1, operation="build").model_copy(update={"affected_assets": assets})
    model.apply([LaneEvent(end)])
    writer.close()
    line = path.read_bytes().splitlines()[0]
    assert len(line) < 20_000
    assert json.loads(line)["assets_not_kept"] == 30_000 - ASSETS_PER_LINE
    rec = _reopen(path).operation("big")
    assert rec is not None and rec.asset_count == 30_000
    assert compact_counts(rec) == "30000 assets"
    pane = InspectionPane()
    qtbot.addWidget(pane)
    pane.show_node(rec)
    assert f"… {30_000 - ASSETS_PER_LINE} more not kept" in pane.browser.toPlainText()


def test_a_restored_build_s_group_says_how_many_were_not_kept(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from studio.panels.activity.presentation import group_row
    from studio.panels.activity.records import GroupNode

    path = journal_path(tmp_path)
    writer = JournalWriter(ActivityJournal(path))
    live = ActivityModel(writer)
    live.apply(_build("b", 3000))
    writer.close()
    for model in (live, _reopen(path)):
        rec = model.operation("b")
        assert rec is not None
        groups = [n for n in rec.children if isinstance(n, GroupNode)]
        assert len(groups) == 1
        kept = len(groups[0].children)
        assert group_row(groups[0])[1] == f"3000 cache misses · {3000 - kept} more not kept"
