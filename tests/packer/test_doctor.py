"""Doctor: registered world by default, the hygiene scan with --workspace, and data-safe --fix."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from packer.build import build
from packer.build.buildlock import build_lock
from packer.build.faults import ENV_VAR
from packer.build.staging import pending_promotions
from packer.diagnostics import Severity
from packer.doctor import hygiene
from packer.doctor.service import DoctorReport, doctor
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken, OperationCancelled
from packer.lane.events import AssetChangedDetail, DiagnosticsUpdatedDetail, EventKind, Outcome
from packer.lane.sinks import ListSink
from tests.packer.build_support import add_raw, copy_project, new_project, snapshot_build
from tests.packer.project_builder import (
    declaration_dict,
    make_project,
    register_root,
    write_asset,
)


def codes(report: DoctorReport) -> list[tuple[str, str | None]]:
    return [(d.code, d.root) for d in report.diagnostics]


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        # the packer's own business: locks, and the caches doctor keeps
        if p.is_file() and p.name not in {"lock", "build.lock", "validation.json", "hashes.json"}
    }


@pytest.fixture
def messy(tmp_path: Path) -> Project:
    """A registered clean asset, a registered broken one, an unregistered broken one and mess."""
    project = make_project(tmp_path)
    write_asset(project, "good", files={"data.bin": b"good bytes", "notes.txt": b"n"})
    write_asset(project, "broken", declaration=declaration_dict(
        "broken", inputs={"data": ["a.bin", "b.bin"]}), files={"a.bin": b"1", "b.bin": b"2"})
    write_asset(project, "wip/Draft", declaration=declaration_dict(
        "Draft", inputs={"data": ["nothing.bin"]}), files={"copy.bin": b"good bytes"},
        register=False)
    return project


def test_default_checks_only_the_registered_world(messy: Project) -> None:
    report = doctor(messy)
    assert codes(report) == [("PK140", "broken")]  # format validation of a registered asset
    assert report.blocking and report.blocking_count == 1
    assert report.assets_checked == 2
    assert not report.workspace
    assert report.outcome is Outcome.BLOCKED


def test_workspace_adds_unregistered_findings_and_hygiene(messy: Project) -> None:
    big = messy.assets_dir / "good" / "video.mov"
    big.write_bytes(b"\0" * (hygiene.LARGE_UNUSED_BYTES + 1))
    report = doctor(messy, workspace=True)
    assert sorted(codes(report)) == sorted([
        ("PK140", "broken"),
        ("PK203", "good"),  # notes.txt
        ("PK204", "good"),  # video.mov, large: PK204 instead of PK203
        ("PK106", "wip/Draft"),
        ("PK201", "wip/Draft"),
        ("PK205", "wip/Draft"),
        ("PK203", "wip/Draft"),  # copy.bin
        ("PK202", "wip/Draft"),  # copy.bin duplicates good/data.bin
    ])
    dup = next(d for d in report.diagnostics if d.code == "PK202")
    assert dup.file == "copy.bin" and "assets/good/data.bin" in dup.message
    # the unregistered asset's PK106 is an error, but it is never built: nothing more blocks
    assert report.blocking_count == 1
    assert report.errors == 2


def test_hygiene_never_blocks(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "Shouty", files={"data.bin": b"x", "extra.txt": b"y"})
    write_asset(project, "twin", files={"data.bin": b"x"}, register=False)
    (project.build_dir / ".staging" / "part").mkdir(parents=True)
    report = doctor(project, workspace=True)
    found = {d.code for d in report.diagnostics}
    assert {"PK201", "PK202", "PK203", "PK205", "PK208"} <= found
    assert all(d.severity is not Severity.ERROR for d in report.diagnostics)
    assert not report.blocking and report.outcome is Outcome.SUCCEEDED


def test_only_same_size_files_are_hashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path)
    write_asset(project, "a", files={"data.bin": b"12345", "odd.bin": b"1"})
    write_asset(project, "b", files={"data.bin": b"abcde", "long.bin": b"1234567890123"})
    hashed: list[str] = []
    real = hygiene.content_hash

    def spy(path: str | Path, token: CancellationToken) -> str | None:
        hashed.append(Path(path).relative_to(project.assets_dir).as_posix())
        return real(path, token)

    monkeypatch.setattr(hygiene, "content_hash", spy)
    report = doctor(project, workspace=True)
    all_sizes = [p.stat().st_size for p in project.assets_dir.rglob("*")
                 if p.is_file() and ".prometeu" not in p.parts]
    expected = sorted(
        p.relative_to(project.assets_dir).as_posix() for p in project.assets_dir.rglob("*")
        if p.is_file() and ".prometeu" not in p.parts and all_sizes.count(p.stat().st_size) > 1
    )
    assert sorted(hashed) == expected
    assert {"a/data.bin", "b/data.bin"} <= set(hashed)
    assert "a/odd.bin" not in hashed and "b/long.bin" not in hashed
    assert "PK202" not in {d.code for d in report.diagnostics}  # same size, different bytes


def test_stale_staging_is_reported_only_when_not_empty(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project.build_dir / ".staging").mkdir(parents=True)
    assert "PK208" not in {d.code for d in doctor(project, workspace=True).diagnostics}
    (project.build_dir / ".staging" / "assets.pa").write_bytes(b"half")
    assert "PK208" in {d.code for d in doctor(project, workspace=True).diagnostics}


def test_fix_gives_the_unregistered_copy_a_new_uuid_and_keeps_everything_else(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path)
    decl = write_asset(project, "original")
    copy_decl = dict(decl, name="copy", build={"note": "keep me", "n": [1, 2]})
    write_asset(project, "copy", declaration=copy_decl, register=False)
    copy_anchor = project.assets_dir / "copy" / "asset.json"
    # odd formatting survives: the uuid is replaced in place
    copy_anchor.write_text(json.dumps(copy_decl, indent=4) + "\n\n", encoding="utf-8")
    before_text = copy_anchor.read_text(encoding="utf-8")
    (project.build_dir / ".staging").mkdir(parents=True)
    (project.build_dir / ".staging" / "junk").write_bytes(b"x")
    before = tree_digest(project.root)

    sink = ListSink()
    report = doctor(project, fix=True, sink=sink)

    after_text = copy_anchor.read_text(encoding="utf-8")
    new_uuid = json.loads(after_text)["asset_uuid"]
    assert new_uuid != decl["asset_uuid"]
    assert after_text == before_text.replace(decl["asset_uuid"], new_uuid)
    assert json.loads(after_text) == dict(copy_decl, asset_uuid=new_uuid)
    assert not (project.build_dir / ".staging").exists()
    after = tree_digest(project.root)
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed == {"assets/copy/asset.json", "build/.staging/junk"}
    assert set(after) == set(before) - {"build/.staging/junk"}
    assert [f.code for f in report.fixes] == ["PK109", "PK208"]
    assert "PK109" not in {d.code for d in report.diagnostics}  # the report is after the fix
    fix_events = [e for e in sink.events if e.kind is EventKind.ASSET_CHANGED]
    assert len(fix_events) == 2
    assert [a.root for a in fix_events[0].affected_assets] == ["copy"]
    detail = fix_events[0].detail
    assert isinstance(detail, AssetChangedDetail)
    assert detail.changes == (f"asset_uuid {decl['asset_uuid']} → {new_uuid}",)


def test_fix_never_touches_registered_collisions_or_anything_else(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    decl = write_asset(project, "one")
    write_asset(project, "two", declaration=dict(decl, name="two"))
    write_asset(project, "Bad Name", files={"data.bin": b"q", "stray.txt": b"s"},
                register=False)
    write_asset(project, "dup", files={"data.bin": b"q"}, register=False)
    before = tree_digest(project.root)
    report = doctor(project, workspace=True, fix=True)
    assert report.fixes == ()
    assert tree_digest(project.root) == before
    assert [c for c, _ in codes(report) if c == "PK109"] == ["PK109", "PK109"]
    assert report.blocking


def test_fix_with_two_unregistered_copies_keeps_the_first_by_root(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    decl = declaration_dict("a")
    write_asset(project, "b_copy", declaration=decl, register=False)
    write_asset(project, "a_first", declaration=decl, register=False)
    report = doctor(project, workspace=True, fix=True)
    assert [f.root for f in report.fixes] == ["b_copy"]
    assert json.loads((project.assets_dir / "a_first" / "asset.json").read_text())[
        "asset_uuid"] == decl["asset_uuid"]


def test_events_progress_per_asset_findings_then_one_terminal(messy: Project) -> None:
    sink = ListSink()
    report = doctor(messy, workspace=True, sink=sink)
    events = sink.events
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[-1].terminal and sum(e.terminal for e in events) == 1
    assert events[-1].kind is EventKind.DIAGNOSTICS_UPDATED
    assert events[-1].outcome is Outcome.BLOCKED
    final = events[-1].detail
    assert isinstance(final, DiagnosticsUpdatedDetail)
    assert (final.errors, final.warnings, final.infos) == (
        report.errors, report.warnings, report.infos)
    assert final.assets_checked == 3
    per_asset = [e for e in events[:-1] if e.kind is EventKind.DIAGNOSTICS_UPDATED]
    assert [[a.root for a in e.affected_assets] for e in per_asset] == [
        ["good"], ["broken"], ["wip/Draft"]]
    assert all(not e.terminal for e in per_asset)
    progress = [e.progress.done for e in events if e.progress is not None]
    assert progress == sorted(progress)
    last = [e for e in events if e.kind is EventKind.PROGRESS_UPDATED][-1]
    assert last.progress is not None and last.progress.done == last.progress.total


def test_clean_project_succeeds_with_no_per_asset_events(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "fine")
    sink = ListSink()
    report = doctor(project, workspace=True, sink=sink)
    assert report.diagnostics == () and not report.blocking
    kinds = [e.kind for e in sink.events if e.kind is not EventKind.PROGRESS_UPDATED]
    assert kinds == [EventKind.DIAGNOSTICS_UPDATED]
    assert sink.events[-1].outcome is Outcome.SUCCEEDED


def test_cancelled_doctor_ends_with_action_failed_cancelled(messy: Project) -> None:
    token = CancellationToken()
    token.cancel()
    sink = ListSink()
    with pytest.raises(OperationCancelled):
        doctor(messy, sink=sink, token=token)
    assert sink.events[-1].kind is EventKind.ACTION_FAILED
    assert sink.events[-1].outcome is Outcome.CANCELLED


def test_registered_but_unregistered_twin_registry_entries(tmp_path: Path) -> None:
    """Missing and quarantined registered assets belong to the registered world."""
    project = make_project(tmp_path)
    register_root(project, "vanished", "00000000-0000-4000-8000-000000000009")
    report = doctor(project)
    assert codes(report) == [("PK101", "vanished")]
    assert report.blocking


def test_fix_rolls_a_committed_promotion_forward_instead_of_deleting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A build that failed after its commit marker left build/ half promoted; deleting its
    # staging folder would lose the other half for good.
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"first")
    assert build(project).succeeded
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"second, longer")
    monkeypatch.setenv(ENV_VAR, "promote:preload.json:raise")
    assert build(project).outcome is Outcome.FAILED
    monkeypatch.delenv(ENV_VAR)
    assert len(pending_promotions(project.build_dir)) == 1

    report = doctor(project, fix=True)

    assert [f.code for f in report.fixes] == ["PK208"]
    assert "completed the interrupted promotion" in report.fixes[0].description
    assert not (project.build_dir / ".staging").exists()
    fresh = copy_project(project, tmp_path / "fresh")
    assert build(fresh, use_cache=False).succeeded
    assert snapshot_build(project) == snapshot_build(fresh)
    assert build(project).succeeded
    assert snapshot_build(project) == snapshot_build(fresh)


def test_a_running_builds_staging_is_neither_reported_nor_removed(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    work = project.build_dir / ".staging" / "0123abcd"
    work.mkdir(parents=True)
    (work / "assets.pa").write_bytes(b"in progress")
    with build_lock(project.packer_dir):
        report = doctor(project, workspace=True, fix=True)
        assert "PK208" not in {d.code for d in report.diagnostics}
        assert report.fixes == ()
        assert (work / "assets.pa").read_bytes() == b"in progress"
    assert "PK208" in {d.code for d in doctor(project, workspace=True).diagnostics}
