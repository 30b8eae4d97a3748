"""The Studio kept current by the packer's rescan: the baseline is taken in the background when a
project opens, and F5 then reports what changed on disk (asset_changed / asset_discovered, and
removal) in the Activity, changing only the navigator rows it names, read from the rescan's own
snapshot (no listing operation)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from packer.doctor.rescan import RescanReport, rescan
from packer.doctor.scan_record import SCAN_RECORD_FILE
from packer.files.project import Project, open_project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import AssetChangedDetail, EventKind
from packer.lane.sinks import EventSink
from studio.app import StudioApp
from studio.panels.activity.records import OperationRecord, OperationStatus
from studio.services import session as session_module
from studio.services.session import AssetRowsChanged, AssetsListed
from studio.shell.main_window import MainWindow
from tests.packer.test_events_sample import RESCAN_OF_THE_CHANGED_SAMPLE, change_the_sample
from tests.studio.helpers import heard, open_and_list
from tests.studio.synthetic import _write_raw_asset, make_raw_project

MARK = Qt.ItemDataRole.UserRole + 99


def operations(studio: StudioApp, name: str) -> list[OperationRecord]:
    assert studio.activity_model is not None
    return [op for op in studio.activity_model.operations() if op.operation == name]


def press_f5(qtbot: QtBot, studio: StudioApp, window: MainWindow) -> OperationRecord:
    """F5, then the rescan's finished Activity row once the Studio is idle again."""
    before = {op.operation_id for op in operations(studio, "rescan")}

    def new_one() -> OperationRecord | None:
        return next((op for op in operations(studio, "rescan")
                     if op.operation_id not in before), None)

    window.rescan_action.trigger()
    qtbot.waitUntil(lambda: (op := new_one()) is not None and op.terminal is not None
                    and not studio.pool.busy, timeout=30_000)
    found = new_one()
    assert found is not None
    return found


def mark_rows(window: MainWindow, *asset_ids: int) -> None:
    """Marks on the rows' items: a row given new items (or a rebuilt tree) loses them."""
    navigator = window.assets.navigator
    for asset_id in asset_ids:
        navigator.model.itemFromIndex(navigator._index_of(("id", asset_id))).setData(
            "untouched", MARK)


def untouched(window: MainWindow, asset_id: int) -> bool:
    navigator = window.assets.navigator
    item = navigator.model.itemFromIndex(navigator._index_of(("id", asset_id)))
    return bool(item.data(MARK) == "untouched")


def opened_never_scanned(qtbot: QtBot, studio: StudioApp, tmp_path: Path,
                         registered: int = 3) -> tuple[Project, MainWindow]:
    project = make_raw_project(tmp_path / "game", registered=registered, unregistered=0)
    assert not (project.packer_dir / SCAN_RECORD_FILE).exists()
    window = open_and_list(qtbot, studio, project.root)  # waits for the background work too
    return project, window


def test_opening_a_never_scanned_project_takes_the_baseline_in_the_background(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project, _window = opened_never_scanned(qtbot, studio, tmp_path)
    assert (project.packer_dir / SCAN_RECORD_FILE).is_file()
    [baseline] = operations(studio, "rescan")
    assert baseline.status is OperationStatus.SUCCEEDED
    assert baseline.summary.startswith("No previous scan to compare with: recorded 3 assets")
    assert not baseline.kinds & {EventKind.ASSET_CHANGED, EventKind.ASSET_DISCOVERED}


def test_reopening_a_scanned_project_takes_no_new_baseline(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    open_and_list(qtbot, studio, project.root)
    first = {op.operation_id for op in operations(studio, "rescan")}
    assert len(first) == 1 and (project.packer_dir / SCAN_RECORD_FILE).is_file()
    open_and_list(qtbot, studio, project.root)  # a fresh timeline (and session)
    # No rescan ran on the second open (the first's may be restored from the history).
    assert {op.operation_id for op in operations(studio, "rescan")} <= first


def test_f5_after_an_edit_reports_asset_changed_and_changes_only_that_row(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project, window = opened_never_scanned(qtbot, studio, tmp_path)
    mark_rows(window, 1, 2, 3)
    lists_before = len(operations(studio, "list"))
    assert studio.session is not None
    listed = heard(studio.session.bus, AssetsListed)
    changed_rows = heard(studio.session.bus, AssetRowsChanged)

    (project.assets_dir / "raw/blob_00001/data.bin").write_bytes(b"edited on disk")
    edited = press_f5(qtbot, studio, window)

    assert EventKind.ASSET_CHANGED in edited.kinds
    assert EventKind.ASSET_DISCOVERED not in edited.kinds
    assert edited.assets == {"raw/blob_00001"}  # asset #2
    assert edited.summary.startswith("Rescan: 0 new, 1 changed, 0 removed, 2 unchanged")
    assert not untouched(window, 2)  # #2's row was given new items…
    assert untouched(window, 1) and untouched(window, 3)  # …and only it
    # From the rescan's own snapshot: no listing ran, none was published.
    assert len(operations(studio, "list")) == lists_before
    assert listed == []
    [rows] = changed_rows
    assert [a.root for a in rows.changed] == ["raw/blob_00001"]


def test_f5_after_a_new_root_reports_asset_discovered_and_adds_its_row(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project, window = opened_never_scanned(qtbot, studio, tmp_path)
    navigator = window.assets.navigator
    _write_raw_asset(project.assets_dir, "wip/fresh", "fresh", b"new")
    lists_before = len(operations(studio, "list"))
    assert studio.session is not None
    index_before = studio.session.index

    discovered = press_f5(qtbot, studio, window)
    # One-asset reads now compare with what the rescan saw (the new root included).
    assert studio.session.index is not index_before and studio.session.index is not None
    assert "wip/fresh" in studio.session.index.roots

    assert EventKind.ASSET_DISCOVERED in discovered.kinds
    assert EventKind.ASSET_CHANGED not in discovered.kinds
    assert discovered.assets == {"wip/fresh"}
    row = navigator.row_for(("root", "wip/fresh"))
    assert row is not None and row.name == "fresh"
    assert len(navigator.rows()) == 4
    assert len(operations(studio, "list")) == lists_before


def test_f5_after_a_root_is_deleted_reports_its_removal_and_drops_its_row(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=1)
    window = open_and_list(qtbot, studio, project.root)
    navigator = window.assets.navigator
    assert navigator.row_for(("root", "wip/loose_0")) is not None
    mark_rows(window, 1, 2)

    shutil.rmtree(project.assets_dir / "wip/loose_0")
    removed = press_f5(qtbot, studio, window)

    # docs/events.md: a root that is gone is an asset_changed whose change is "removed".
    gone = [item.event for item in removed.retained
            if item.event.kind is EventKind.ASSET_CHANGED]
    assert len(gone) == 1 and isinstance(gone[0].detail, AssetChangedDetail)
    assert gone[0].detail.changes == ("removed",) and gone[0].detail.state is None
    assert removed.assets == {"wip/loose_0"}
    assert navigator.row_for(("root", "wip/loose_0")) is None
    assert len(navigator.rows()) == 2


def test_f5_with_nothing_changed_reads_nothing_more(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    _project, window = opened_never_scanned(qtbot, studio, tmp_path, registered=2)
    assert studio.session is not None
    listed = heard(studio.session.bus, AssetsListed)
    rows_changed = heard(studio.session.bus, AssetRowsChanged)
    quiet = press_f5(qtbot, studio, window)
    assert not quiet.kinds & {EventKind.ASSET_CHANGED, EventKind.ASSET_DISCOVERED}
    assert quiet.summary.startswith("Rescan: 0 new, 0 changed, 0 removed, 2 unchanged")
    # The job's result was handled before the pool went idle: no listing was published.
    assert listed == [] and rows_changed == []


def test_a_build_cancels_the_background_baseline_and_that_is_no_failure(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user goes first: a build started while the baseline scan runs cancels it (and the
    validation queued behind it); nothing says a failure, and the build is not held up."""
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    started = threading.Event()
    real_rescan = rescan

    def slow_rescan(project: Project, sink: EventSink, token: CancellationToken
                    ) -> RescanReport:
        started.set()
        token.wait(30)  # until cancelled
        return real_rescan(project, sink, token)  # raises OperationCancelled at once

    monkeypatch.setattr(session_module, "rescan", slow_rescan)
    with qtbot.waitSignal(studio.project_opened, timeout=10_000):
        studio.start(project.root)
    window = studio.window
    assert window is not None and studio.session is not None
    qtbot.waitUntil(started.is_set, timeout=10_000)
    with qtbot.waitSignal(studio.build_ended, timeout=30_000) as ended:
        window.build_action.trigger()
    assert ended.args[0].outcome == "succeeded"
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=30_000)

    [baseline] = operations(studio, "rescan")
    assert baseline.status is OperationStatus.CANCELLED
    assert operations(studio, "doctor") == []  # cancelled while queued: it never began
    assert not (project.packer_dir / SCAN_RECORD_FILE).exists()
    # The Activity says the rescan was cancelled (a neutral row); nothing calls it a failure.
    assert "cancelled" not in window.statusBar().currentMessage()
    assert "failed" not in window.logs.contents()
    assert studio.activity_panel is not None
    assert studio.activity_panel.title() == "Activity"  # no unacknowledged failure


def test_f5_on_the_sample_delivers_exactly_the_rescan_stream_the_cli_prints(
    qtbot: QtBot, studio: StudioApp, sample_project: Path
) -> None:
    """The same exact sequence as `prometeu-packer scan --events jsonl` (tests/packer/
    test_events_sample.py), as the Activity received it, and the rows follow it."""
    window = open_and_list(qtbot, studio, sample_project)
    navigator = window.assets.navigator
    assert navigator.row_for(("root", "wip/boss_tiles")) is not None
    change_the_sample(open_project(sample_project))

    found = press_f5(qtbot, studio, window)

    steps = [(i.event.kind.value, tuple(a.root for a in i.event.affected_assets),
              i.event.terminal)
             for i in found.retained if i.event.kind is not EventKind.PROGRESS_UPDATED]
    assert steps == RESCAN_OF_THE_CHANGED_SAMPLE
    assert [i.event.sequence for i in found.retained] == sorted(
        i.event.sequence for i in found.retained)
    assert navigator.row_for(("root", "wip/boss_tiles")) is None
    assert navigator.row_for(("root", "data/level2")) is not None
