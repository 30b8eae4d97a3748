"""The `rescan` operation: exact event streams against the record of the previous scan."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from packer.doctor.queries import list_assets_report, summaries_of
from packer.doctor.rescan import REMOVED, rescan, rescan_snapshot
from packer.doctor.scan_record import SCAN_RECORD_FILE
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken, OperationCancelled
from packer.lane.events import (
    AssetChangedDetail,
    AssetDiscoveredDetail,
    DiagnosticsUpdatedDetail,
    EventKind,
    Outcome,
    PackerEvent,
)
from packer.lane.sinks import ListSink
from tests.packer.project_builder import declaration_dict, make_project, write_asset


def run(project: Project) -> list[PackerEvent]:
    """One rescan's events, progress left out (it is throttled, the rest is exact)."""
    sink = ListSink()
    rescan(project, sink)
    events = [e for e in sink.events if e.kind is not EventKind.PROGRESS_UPDATED]
    assert events[-1].terminal and events[-1].outcome is Outcome.SUCCEEDED
    assert sum(e.terminal for e in sink.events) == 1
    return events


def kinds(events: list[PackerEvent]) -> list[tuple[str, str]]:
    return [(e.kind.value, e.affected_assets[0].root if e.kind is not
             EventKind.DIAGNOSTICS_UPDATED else "") for e in events]


def changes_of(event: PackerEvent) -> tuple[str, ...]:
    assert isinstance(event.detail, AssetChangedDetail)
    return event.detail.changes


def record_path(project: Project) -> Path:
    return project.packer_dir / SCAN_RECORD_FILE


def edit_record(project: Project, change: Any) -> None:
    data = json.loads(record_path(project).read_bytes())
    change(data)
    record_path(project).write_text(json.dumps(data), encoding="utf-8")


def two_assets(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    write_asset(project, "banks/hero", files={"data.bin": b"hero-1"})
    write_asset(project, "wip/draft", register=False, files={"data.bin": b"draft"})
    return project


def rewrite_keeping_stat(path: Path, data: bytes) -> None:
    """Same size, and the mtime put back as it was: only the content (and ctime) differ."""
    before = path.stat()
    assert len(data) == before.st_size
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_first_scan_is_a_baseline_with_no_per_asset_events(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    events = run(project)
    assert kinds(events) == [("diagnostics_updated", "")]
    assert events[-1].summary.startswith("No previous scan to compare with: recorded 2 assets")
    assert record_path(project).is_file()


def test_nothing_changed_publishes_no_per_asset_event(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    events = run(project)
    assert kinds(events) == [("diagnostics_updated", "")]
    assert events[-1].summary.startswith("Rescan: 0 new, 0 changed, 0 removed, 2 unchanged")
    assert events[-1].affected_assets == ()


def test_a_new_root_is_discovered(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    write_asset(project, "banks/villain", register=False)
    events = run(project)
    assert kinds(events) == [("asset_discovered", "banks/villain"), ("diagnostics_updated", "")]
    detail = events[0].detail
    assert isinstance(detail, AssetDiscoveredDetail)
    assert (detail.state, detail.asset_type) == ("unregistered", "raw")
    assert [a.root for a in events[-1].affected_assets] == ["banks/villain"]
    assert events[-1].summary.startswith("Rescan: 1 new, 0 changed, 0 removed, 2 unchanged")


def test_an_input_edited_with_size_and_mtime_put_back_is_seen_by_its_stat(
    tmp_path: Path,
) -> None:
    project = two_assets(tmp_path)
    run(project)
    # The record is old enough to be trusted by stat: the changed ctime (and the hash) tell.
    edit_record(project, lambda d: d.update(scanned_at_ns=time.time_ns() + 60 * 10**9))
    rewrite_keeping_stat(project.assets_dir / "banks/hero/data.bin", b"hero-2")
    events = run(project)
    assert kinds(events) == [("asset_changed", "banks/hero"), ("diagnostics_updated", "")]
    assert changes_of(events[0]) == ("input data.bin changed",)


def _pretend_stat_unchanged(project: Project, root: str, scanned_at_ns: int) -> None:
    """Record the input's current stat beside its old hash: what a file system with coarse
    timestamps would show after an edit within the same tick."""
    st = (project.assets_dir / root / "data.bin").stat()

    def change(data: dict[str, Any]) -> None:
        data["scanned_at_ns"] = scanned_at_ns
        entry = data["roots"][root][4][0]
        entry[1:5] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    edit_record(project, change)


def test_an_edit_inside_the_racy_window_is_caught_by_the_content_hash(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    rewrite_keeping_stat(project.assets_dir / "banks/hero/data.bin", b"hero-2")
    _pretend_stat_unchanged(project, "banks/hero", time.time_ns())  # the file is racy
    events = run(project)
    assert kinds(events) == [("asset_changed", "banks/hero"), ("diagnostics_updated", "")]
    assert changes_of(events[0]) == ("input data.bin changed",)


def test_outside_the_racy_window_an_equal_stat_is_trusted(tmp_path: Path) -> None:
    # The control of the test above: the same equal stat, settled, is not hashed.
    project = two_assets(tmp_path)
    run(project)
    rewrite_keeping_stat(project.assets_dir / "banks/hero/data.bin", b"hero-2")
    _pretend_stat_unchanged(project, "banks/hero", time.time_ns() + 60 * 10**9)
    assert kinds(run(project)) == [("diagnostics_updated", "")]


def test_a_touch_that_keeps_the_content_is_no_change(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    path = project.assets_dir / "banks/hero/data.bin"
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(1, 10**18))
    assert kinds(run(project)) == [("diagnostics_updated", "")]


def test_an_edited_asset_json_is_a_change(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    anchor = project.assets_dir / "wip/draft/asset.json"
    decl = json.loads(anchor.read_text(encoding="utf-8"))
    decl["preload"] = {"enabled": True}
    anchor.write_text(json.dumps(decl), encoding="utf-8")
    events = run(project)
    assert kinds(events) == [("asset_changed", "wip/draft"), ("diagnostics_updated", "")]
    assert changes_of(events[0]) == ("asset.json changed",)


def test_a_new_input_is_named(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    decl = declaration_dict("draft", inputs={"data": ["more.bin"]})
    write_asset(project, "wip/draft", register=False, declaration=decl,
                files={"more.bin": b"more"})
    (event, _terminal) = run(project)
    assert changes_of(event) == ("asset.json changed", "input more.bin added",
                                 "input data.bin removed", "files 2 → 3")


def test_removed_roots(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    shutil.rmtree(project.assets_dir / "wip")
    shutil.rmtree(project.assets_dir / "banks/hero")
    events = run(project)
    # The registered one stays in the registry (missing); the unregistered one is gone.
    assert kinds(events) == [("asset_changed", "banks/hero"), ("asset_changed", "wip/draft"),
                             ("diagnostics_updated", "")]
    assert changes_of(events[0]) == ("state registered → missing",)
    gone = events[1].detail
    assert isinstance(gone, AssetChangedDetail)
    assert (gone.changes, gone.previous_state, gone.state) == ((REMOVED,), "unregistered", None)
    assert events[1].affected_assets[0].asset_id is None
    assert events[-1].summary.startswith("Rescan: 0 new, 1 changed, 1 removed, 0 unchanged")


def test_a_corrupt_record_is_ignored_with_a_hint_and_rewritten(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    record_path(project).write_bytes(b"{not json")
    sink = ListSink()
    report = rescan(project, sink)
    assert report.baseline
    assert [d.code for d in report.diagnostics] == ["PK210"]
    terminal = sink.events[-1]
    assert isinstance(terminal.detail, DiagnosticsUpdatedDetail)
    assert [d.code for d in terminal.detail.diagnostics] == ["PK210"]
    json.loads(record_path(project).read_bytes())  # rewritten, whole
    write_asset(project, "banks/villain", register=False)
    assert kinds(run(project)) == [("asset_discovered", "banks/villain"),
                                   ("diagnostics_updated", "")]


def test_a_record_of_another_version_or_shape_is_ignored(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    for bad in ({"schema_version": 99}, {"roots": {"banks/hero": [1, 2]}},
                {"project_id": "someone-else"}):
        edit_record(project, lambda d, bad=bad: d.update(bad))
        report = rescan(project)
        assert report.baseline and [d.code for d in report.diagnostics] == ["PK210"], bad
        assert not rescan(project).baseline  # the fresh record is usable


def test_a_cancelled_rescan_keeps_the_previous_record(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    before = record_path(project).read_bytes()
    write_asset(project, "banks/villain", register=False)
    token = CancellationToken()
    token.cancel()
    sink = ListSink()
    with pytest.raises(OperationCancelled):  # after the terminal event
        rescan(project, sink, token)
    assert sink.events[-1].outcome is Outcome.CANCELLED
    assert record_path(project).read_bytes() == before
    assert kinds(run(project))[0] == ("asset_discovered", "banks/villain")


def test_a_relocated_asset_is_one_move_not_a_removal(tmp_path: Path) -> None:
    project = two_assets(tmp_path)
    run(project)
    (project.assets_dir / "audio").mkdir()
    (project.assets_dir / "banks/hero").rename(project.assets_dir / "audio/hero")
    registry = project.load_registry()
    moved = registry.assets[0].model_copy(update={"root": "audio/hero"})
    project.save_registry(registry.model_copy(update={"assets": (moved,)}))
    (event, _terminal) = run(project)
    assert changes_of(event)[0] == "moved banks/hero → audio/hero"
    assert event.affected_assets[0].root == "audio/hero"


def test_the_changed_roots_summaries_come_from_the_rescans_snapshot_as_a_listing_has_them(
    tmp_path: Path,
) -> None:
    """What the Studio shows after F5: the summaries of the roots a rescan named, from its own
    snapshot (no second scan, no events), equal to a full listing's."""
    project = two_assets(tmp_path)
    rescan(project)
    (project.assets_dir / "banks/hero/data.bin").write_bytes(b"hero-2, longer")
    # A copy of hero's input: the copy gets the duplicate finding (PK202), as listed.
    write_asset(project, "banks/villain", register=False,
                files={"data.bin": b"hero-2, longer"})
    sink = ListSink()
    report, snapshot = rescan_snapshot(project, sink)
    named = [c.root for c in report.changes]
    assert sorted(named) == ["banks/hero", "banks/villain"]
    summaries = summaries_of(project, snapshot, [*named, "no/such/root"])
    listed = {a.root: a for a in list_assets_report(project).assets}
    assert {s.root: s for s in summaries} == {root: listed[root] for root in named}
    villain = next(s for s in summaries if s.root == "banks/villain")
    assert villain.warnings + villain.infos > 0
    assert summaries_of(project, snapshot, []) == ()
    with pytest.raises(OperationCancelled):
        token = CancellationToken()
        token.cancel()
        summaries_of(project, snapshot, named, token)
