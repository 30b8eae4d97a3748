"""An apply plans from its preview's scan only while stat proves the workspace unchanged
(packer.workspace.snapshot_memo); any change, a racy file, or a quarantined asset, and it scans.

Files a test writes are "just now", inside the racy window, so the memo would never be used:
most tests here set the window far into the past, and every edit changes a path's stat."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from packer.doctor import rescan as rescan_module
from packer.doctor.rescan import RescanReport, rescan
from packer.doctor.scan_record import LoadedRecord, load_scan_record, save_scan_record
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind
from packer.lane.sinks import ListSink
from packer.mutations import MutationAction, MutationOutcome, apply_mutation
from packer.workspace import scan as scan_module
from packer.workspace import snapshot_memo
from packer.workspace.scan import AssetRecord, WorkspaceSnapshot, build_snapshot
from packer.workspace.walk import Walk
from tests.packer.mutation_support import make_project, mutate, preview_of, write_raw_asset


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The project roots the memo scanned (each scan it did not answer from memory)."""
    done: list[str] = []
    real = scan_module.build_snapshot_with_walk

    def counted(project: Project, token: CancellationToken | None = None
                ) -> tuple[WorkspaceSnapshot, Walk]:
        done.append(str(project.root))
        return real(project, token)

    monkeypatch.setattr(snapshot_memo, "build_snapshot_with_walk", counted)
    return done


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """No file is racy: only a different stat tells a change."""
    monkeypatch.setattr(snapshot_memo, "RACY_WINDOW_NS", -3600 * 10**9)


def _bump(path: Path) -> None:
    """A later modification time, the bytes kept: only the stat tells."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))


def _exclude_hero(project: Project, between: Callable[[], object] | None = None
                  ) -> MutationOutcome:
    preview = preview_of(project, MutationAction.EXCLUDE, "sprites/hero")
    if between is not None:
        between()
    return apply_mutation(project, preview, consent=True, lock_timeout=0).outcome


def test_an_apply_plans_from_its_previews_scan_when_nothing_changed(
    tmp_path: Path, scans: list[str], trusted: None
) -> None:
    project = make_project(tmp_path)
    scans.clear()
    assert _exclude_hero(project) is MutationOutcome.APPLIED
    assert scans == [str(project.root)]  # the preview's; the apply's plan reused it
    entry = next(e for e in project.load_registry().assets if e.root == "sprites/hero")
    assert not entry.included_in_build
    # the apply changed the workspace: its snapshot is not kept for the next plan
    assert snapshot_memo._memory.memo is None
    assert _exclude_hero(project) is MutationOutcome.APPLIED  # now nothing to change
    assert len(scans) == 2


def _rename_music(project: Project, new: str) -> None:
    """An edit of asset.json that keeps its size when `new` has as many letters."""
    anchor = project.assets_dir / "sounds/music/asset.json"
    st = anchor.stat()
    anchor.write_text(anchor.read_text().replace('"music"', f'"{new}"'))
    os.utime(anchor, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def _retitle_music(project: Project) -> None:
    """An edit of asset.json that changes nothing another asset compares with."""
    anchor = project.assets_dir / "sounds/music/asset.json"
    anchor.write_text(anchor.read_text().replace('"enabled": false', '"enabled": true'))


def _hollow_hero(project: Project) -> Path:
    """sprites/hero as a registered folder that lost its asset.json (PK102), as remembered."""
    anchor = project.assets_dir / "sprites/hero/asset.json"
    os.replace(anchor, project.root / "hero.json")
    return anchor


def _put_back_hero(project: Project) -> None:
    os.replace(project.root / "hero.json", project.assets_dir / "sprites/hero/asset.json")


def _add_to_hollow_hero(project: Project) -> None:
    (project.assets_dir / "sprites/hero/more.bin").write_bytes(b"x")


def _file_in_a_new_folder(project: Project) -> None:
    (project.assets_dir / "sounds/music/new").mkdir()
    (project.assets_dir / "sounds/music/new/x.bin").write_bytes(b"x")


# change: (what it does, whether the assets owning it are read again or the workspace scanned)
CHANGES: dict[str, tuple[Callable[[Project], object], str]] = {
    "another asset.json touched": (
        lambda p: _bump(p.assets_dir / "sounds/music/asset.json"), "read again"),
    "another asset.json edited, same identity": (_retitle_music, "read again"),
    "another asset renamed": (lambda p: _rename_music(p, "tunes"), "scanned"),
    # hero's findings change too (PK116): reading music alone again would miss that
    "another asset renamed as hero": (lambda p: _rename_music(p, "hero"), "scanned"),
    "another input touched": (
        lambda p: _bump(p.assets_dir / "sounds/music/data.bin"), "read again"),
    "another input rewritten": (
        lambda p: (p.assets_dir / "sounds/music/data.bin").write_bytes(b"new bytes"),
        "read again"),
    "a nested file touched": (
        lambda p: _bump(p.assets_dir / "sounds/music/notes/readme.txt"), "read again"),
    "a file added": (
        lambda p: (p.assets_dir / "sounds/music/more.bin").write_bytes(b"x"), "read again"),
    "a file added in a new folder": (_file_in_a_new_folder, "read again"),
    "a file removed": (
        lambda p: (p.assets_dir / "sounds/music/notes/readme.txt").unlink(), "read again"),
    "asset.json put back in a registered folder": (_put_back_hero, "scanned"),
    "a file added to a registered folder without asset.json": (_add_to_hollow_hero, "read again"),
    "an asset added inside another": (
        lambda p: write_raw_asset(p, "sounds/music/inner", "inner"), "scanned"),
    "an asset added": (lambda p: write_raw_asset(p, "wip/other", "other"), "scanned"),
    "the registry touched": (lambda p: _bump(p.registry_path), "scanned"),
    "prometeu.json touched": (lambda p: _bump(p.root / "prometeu.json"), "scanned"),
    "a folder replaced": (
        lambda p: os.replace(p.assets_dir / "wip/loose", p.assets_dir / "wip/renamed"),
        "scanned"),
}


STAT_ONLY = {"another asset.json touched", "a nested file touched", "the registry touched",
             "prometeu.json touched", "a file added to a registered folder without asset.json"}
# (what a scan gives is the same as before)


@pytest.mark.parametrize("change", CHANGES)
def test_after_a_change_the_apply_plans_from_what_a_scan_gives(
    tmp_path: Path, scans: list[str], trusted: None, change: str
) -> None:
    project = make_project(tmp_path)
    make, how = CHANGES[change]
    if "registered folder" in change:
        _hollow_hero(project)
    remembered = snapshot_memo.scan(project, CancellationToken(), remember=True)
    assert snapshot_memo._memory.memo is not None
    make(project)
    scans.clear()
    now = snapshot_memo.scan(project, CancellationToken(), remember=False)
    assert len(scans) == (0 if how == "read again" else 1), how
    assert now == build_snapshot(project)
    if change not in STAT_ONLY:
        assert now != remembered
    if "registered folder" not in change:  # (a hero without asset.json cannot be excluded)
        scans.clear()
        assert _exclude_hero(project) is MutationOutcome.APPLIED  # its preview scans or not
        assert len(scans) <= 1


def test_what_the_memo_gives_is_what_a_scan_gives(tmp_path: Path, trusted: None) -> None:
    """An edit that keeps the file's size (a name of as many letters) changes the snapshot: the
    memo must not hide it."""
    project = make_project(tmp_path)
    token = CancellationToken()
    remembered = snapshot_memo.scan(project, token, remember=True)
    assert snapshot_memo.scan(project, token, remember=False) is remembered
    anchor = project.assets_dir / "sounds/music/asset.json"
    st = anchor.stat()
    anchor.write_text(anchor.read_text().replace('"music"', '"tunes"'))
    os.utime(anchor, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert anchor.stat().st_size == st.st_size
    now = snapshot_memo.scan(project, token, remember=False)
    assert now == build_snapshot(project) and now != remembered
    music = now.by_root("sounds/music")
    assert music is not None and music.name == "tunes"


def test_a_snapshot_with_racy_files_is_not_remembered(tmp_path: Path, scans: list[str]) -> None:
    project = make_project(tmp_path)  # every file written just now
    scans.clear()
    assert _exclude_hero(project) is MutationOutcome.APPLIED
    assert len(scans) == 2


def test_a_snapshot_with_a_quarantined_asset_is_not_remembered(
    tmp_path: Path, scans: list[str], trusted: None
) -> None:
    """The scan reads a quarantined asset outside the folders it walks: no stat covers it."""
    project = make_project(tmp_path)
    assert mutate(project, MutationAction.QUARANTINE, "sounds/music").applied
    scans.clear()
    assert _exclude_hero(project) is MutationOutcome.APPLIED
    assert len(scans) == 2


def test_one_project_is_remembered_the_last_previewed(
    tmp_path: Path, scans: list[str], trusted: None
) -> None:
    first = make_project(tmp_path / "one")
    second = make_project(tmp_path / "two")
    preview = preview_of(first, MutationAction.EXCLUDE, "sprites/hero")
    preview_of(second, MutationAction.EXCLUDE, "sprites/hero")
    scans.clear()
    assert apply_mutation(first, preview, consent=True, lock_timeout=0).applied
    assert scans == [str(first.root)]


def test_a_cancelled_proof_cancels_the_plan(tmp_path: Path, trusted: None) -> None:
    project = make_project(tmp_path)
    preview_of(project, MutationAction.EXCLUDE, "sprites/hero")
    token = CancellationToken()
    token.cancel("test")
    with pytest.raises(Exception, match="cancel"):
        snapshot_memo.scan(project, token, remember=False)


def test_a_snapshot_whose_walk_had_problems_is_not_remembered(
    tmp_path: Path, scans: list[str], trusted: None
) -> None:
    """A name that is not UTF-8 (PK207) is left out of the walk's lists: no stat covers it."""
    project = make_project(tmp_path)
    with open(os.path.join(os.fsencode(project.assets_dir / "wip"), b"bad\xff.bin"), "wb") as out:
        out.write(b"x")
    scans.clear()
    assert _exclude_hero(project) is MutationOutcome.APPLIED
    assert len(scans) == 2


def _rescan_events(project: Project) -> tuple[RescanReport, list[tuple[Any, ...]]]:
    sink = ListSink()
    report = rescan(project, sink)
    return report, [(e.kind, e.summary, e.detail.model_dump() if e.detail else None,
                     e.affected_assets) for e in sink.events
                    if e.kind is not EventKind.PROGRESS_UPDATED]


@pytest.fixture
def record_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One entry each time a rescan loads scan.json."""
    loads: list[str] = []
    real_load = load_scan_record

    def counted(project: Project, project_id: str) -> LoadedRecord:
        loads.append("load")
        return real_load(project, project_id)

    monkeypatch.setattr(rescan_module, "load_scan_record", counted)
    return loads


def test_a_rescan_of_an_untouched_workspace_reads_nothing_again(
    tmp_path: Path, scans: list[str], trusted: None, monkeypatch: pytest.MonkeyPatch,
    record_loads: list[str],
) -> None:
    """F5 or a focus rescan with nothing changed: the last rescan's snapshot stands, and the
    scan record it wrote is still on disk, so the report is known without comparing."""
    project = make_project(tmp_path)
    rescan(project)  # the baseline, recorded
    scans.clear()
    record_loads.clear()
    quick, quick_events = _rescan_events(project)
    assert (scans, record_loads) == ([], [])
    assert not quick.baseline and quick.unchanged == quick.assets == 3 and not quick.changes
    # what the whole comparison says of the same workspace, to the byte
    monkeypatch.setattr(rescan_module._recorded, "made_from", lambda *a: None)
    whole, whole_events = _rescan_events(project)
    assert whole == quick and whole_events == quick_events


SINCE_THE_RECORD: dict[str, Callable[[Project], object]] = {
    "an input edited": lambda p: (p.assets_dir / "sounds/music/data.bin").write_bytes(b"new"),
    "scan.json rewritten by another rescan": lambda p: save_scan_record(
        p, p.project_id, load_scan_record(p, p.project_id).record),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("change", SINCE_THE_RECORD)
def test_a_rescan_compares_again_after_a_change(
    tmp_path: Path, trusted: None, record_loads: list[str], change: str
) -> None:
    project = make_project(tmp_path)
    rescan(project)
    SINCE_THE_RECORD[change](project)
    record_loads.clear()
    report = rescan(project)
    # the record this process wrote is kept in memory while scan.json is that file
    assert record_loads == ([] if change == "an input edited" else ["load"])
    assert report.changed == (1 if change == "an input edited" else 0)


def test_a_change_is_read_alone_while_fresh_then_scanned_to_be_remembered(
    tmp_path: Path, scans: list[str], trusted: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rescan right after an input was saved reads that asset alone (the saved file cannot be
    remembered yet); once it has settled, the next one scans and remembers, so that the rescans
    after it are stat passes again, not a re-read of the same asset each time."""
    project = make_project(tmp_path)
    token = CancellationToken()
    remembered = snapshot_memo.scan(project, token, remember=True)
    (project.assets_dir / "sounds/music/data.bin").write_bytes(b"saved just now")
    monkeypatch.setattr(snapshot_memo, "RACY_WINDOW_NS", 10**18)  # every change is fresh
    scans.clear()
    first = snapshot_memo.scan(project, token, remember=True)
    assert scans == [] and first == build_snapshot(project) and first != remembered
    memo = snapshot_memo._memory.memo
    assert memo is not None and memo.snapshot is remembered  # kept: the proof of the rest
    monkeypatch.setattr(snapshot_memo, "RACY_WINDOW_NS", -3600 * 10**9)  # it has settled
    scans.clear()
    settled = snapshot_memo.scan(project, token, remember=True)
    assert len(scans) == 1 and settled == first
    memo = snapshot_memo._memory.memo
    assert memo is not None and memo.snapshot is settled
    scans.clear()
    assert snapshot_memo.scan(project, token, remember=True) is settled and scans == []


def test_a_rescan_after_one_edit_computes_only_that_roots_facts(
    tmp_path: Path, trusted: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The roots the scan memo proved unchanged keep their recorded facts; the record written
    is still what stat-ing and hashing every root now would give."""
    project = make_project(tmp_path)
    rescan(project)  # recorded from the remembered snapshot
    (project.assets_dir / "sounds/music/data.bin").write_bytes(b"saved just now")
    monkeypatch.setattr(snapshot_memo, "RACY_WINDOW_NS", 10**18)  # the edit is fresh
    computed: list[str] = []
    real_facts = rescan_module._root_facts

    def counted(assets_dir: str, record: AssetRecord, *args: Any) -> Any:
        computed.append(record.root)
        return real_facts(assets_dir, record, *args)

    monkeypatch.setattr(rescan_module, "_root_facts", counted)
    report = rescan(project)
    assert computed == ["sounds/music"] and report.changed == 1
    saved = load_scan_record(project, project.project_id).record
    assert saved is not None
    for record in build_snapshot(project).assets:
        assert real_facts(str(project.assets_dir), record, saved.roots[record.root],
                          saved.scanned_at_ns - 2_000_000_000,  # the racy window
                          CancellationToken()) == saved.roots[record.root]
