"""The up-to-date manifest: a no-op decided by stat alone, and never when the output would differ.

`RACY_WINDOW_NS` of packer.build.uptodate is set to 0 here, so files written before a build
count as settled (as files minutes old do in a real project) while the build's own outputs,
written after it started, are still checked by content on the first no-op. The cache's own
racy window is left alone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from packer.build import (
    BuildResult,
    build,
    cache,
    manifest_file,
    patch,
    recording,
    runner,
    statpass,
    uptodate,
)
from packer.files.project import Project
from packer.formats.raw import RAW_PIPELINE
from packer.lane.cancellation import CancellationToken
from packer.lane.events import Outcome, PackerEvent
from packer.lane.operation import Operation
from packer.lane.sinks import ListSink
from packer.workspace import scan
from tests.packer.build_support import (
    add_glyph,
    add_raw,
    add_sound,
    copy_project,
    new_project,
    snapshot_build,
)


class ScanSpy:
    """Counts the scans and patch builds the build starts (a no-op by the manifest does none)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.scans = 0
        real = scan.build_snapshot_and_walk
        real_patch = patch.attempt

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.scans += 1
            return real(*args, **kwargs)

        def counted_patch(*args: Any, **kwargs: Any) -> Any:
            result = real_patch(*args, **kwargs)
            self.scans += result is not None
            return result

        monkeypatch.setattr(runner, "build_snapshot_and_walk", counted)
        monkeypatch.setattr(patch, "attempt", counted_patch)

    def fast(self, action: Callable[[], BuildResult]) -> tuple[bool, BuildResult]:
        before = self.scans
        result = action()
        return self.scans == before, result


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> ScanSpy:
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)
    monkeypatch.setattr(Operation, "PROGRESS_INTERVAL_S", 0.0)
    return ScanSpy(monkeypatch)


def built(tmp_path: Path) -> Project:
    project = new_project(tmp_path / "work")
    add_raw(project, "raw/a", b"alpha" * 100)
    add_glyph(project, "glyphs/font")
    add_sound(project, "sounds/sfx")
    add_raw(project, "loose/b", b"unregistered", register=False, number=90)
    assert build(project).succeeded
    assert manifest_file.manifest_path(project).is_file()
    return project


def comparable(event: PackerEvent) -> dict[str, Any]:
    data = event.model_dump(mode="json")
    for key in ("operation_id", "timestamp", "event_id"):
        data.pop(key, None)
    return data


def test_noop_by_manifest_equals_the_normal_noop(tmp_path: Path, spy: ScanSpy) -> None:
    project = built(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in project.build_dir.rglob("*")}
    fast_sink = ListSink()
    fast, fast_result = spy.fast(lambda: build(project, fast_sink))
    assert fast and fast_result.up_to_date
    manifest_file.forget(project)  # the normal path, for comparison
    slow_sink = ListSink()
    slow, slow_result = spy.fast(lambda: build(project, slow_sink))
    assert not slow and slow_result.up_to_date
    assert [comparable(e) for e in fast_sink.events] == [comparable(e) for e in slow_sink.events]
    assert fast_result.model_dump(exclude={"operation_id"}) == slow_result.model_dump(
        exclude={"operation_id"})
    assert fast_sink.kinds()[:3] == ["build_started", "progress_updated", "cache_hit"]
    assert fast_result.reasons() == {1: None, 2: None, 3: None}
    fast, quiet = spy.fast(lambda: build(project))  # no sink: the same counts
    assert fast and quiet.model_dump(exclude={"operation_id"}) == slow_result.model_dump(
        exclude={"operation_id"})
    assert {p: p.stat().st_mtime_ns for p in project.build_dir.rglob("*")} == before


def test_racy_outputs_are_checked_once_by_content_then_trusted(
    tmp_path: Path, spy: ScanSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = built(tmp_path)
    checked: list[str] = []
    real = uptodate._content_matches

    def counting(project: Project, manifest: manifest_file.Manifest, path: str,
                 token: CancellationToken) -> bool:
        checked.append(path)
        return real(project, manifest, path, token)

    monkeypatch.setattr(uptodate, "_content_matches", counting)
    recorded = manifest_file.load(project)
    assert recorded is not None
    assert spy.fast(lambda: build(project))[0]
    assert "build/assets.pa" in checked and "assets/.prometeu/cache.json" in checked
    assert all(p.startswith("build/") or p.endswith("cache.json") for p in checked)
    stamped = manifest_file.load(project)
    assert stamped is not None and stamped.recorded_at_ns > recorded.recorded_at_ns
    checked.clear()
    assert spy.fast(lambda: build(project))[0]
    assert checked == []


def test_a_change_the_stat_cannot_see_is_caught_by_the_content_check(
    tmp_path: Path, spy: ScanSpy
) -> None:
    # A write in the same timestamp tick as the recording leaves every fingerprint equal; it is
    # simulated by re-recording the tampered artifact's fingerprint into the manifest.
    project = built(tmp_path)
    expected = snapshot_build(project)
    artifact = project.build_dir / "assets.pa"
    data = bytearray(artifact.read_bytes())
    data[-1] ^= 0xFF
    artifact.write_bytes(bytes(data))
    manifest = manifest_file.load(project)
    assert manifest is not None
    for row in manifest.files:
        if row[0] == "build/assets.pa":
            row[1:] = statpass.fingerprint(str(artifact)) or []
    manifest_file.manifest_path(project).write_bytes(manifest.to_bytes())
    fast, result = spy.fast(lambda: build(project))
    assert not fast
    assert result.reasons()[3] == "cache_missing_or_corrupt"
    assert snapshot_build(project) == expected


def test_racy_workspace_files_send_the_build_down_the_normal_path(
    tmp_path: Path, spy: ScanSpy
) -> None:
    project = built(tmp_path)
    manifest = manifest_file.load(project)
    assert manifest is not None
    manifest.recorded_at_ns -= 3600 * 10**9  # every input, folder and asset.json is now racy
    manifest_file.manifest_path(project).write_bytes(manifest.to_bytes())
    fast, result = spy.fast(lambda: build(project))
    assert not fast and result.up_to_date
    assert spy.fast(lambda: build(project))[0]  # the normal path recorded a settled manifest


def rewrite_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def same_size_change_mtime_kept(path: Path) -> None:
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def _registry_excludes_sfx(project: Project) -> None:
    registry = project.load_registry()
    entries = tuple(e.model_copy(update={"included_in_build": e.root != "sounds/sfx"})
                    for e in registry.assets)
    project.save_registry(registry.model_copy(update={"assets": entries}))


def _older_packers_preview(project: Project) -> None:
    (project.build_dir / "previews").mkdir()
    (project.build_dir / "previews/2.png").write_bytes(b"\x89PNG")


CHANGES: dict[str, Callable[[Project], object]] = {
    "input_modified": lambda p: (p.assets_dir / "raw/a/data.bin").write_bytes(b"beta"),
    "input_touched": lambda p: os.utime(p.assets_dir / "raw/a/data.bin",
                                        ns=(1_700_000_000_000_000_000,) * 2),
    "tile_same_size_mtime_forced_back": lambda p: same_size_change_mtime_kept(
        p.assets_dir / "sounds/sfx/s1.wav"),
    "asset_json_modified": lambda p: rewrite_json(
        p.assets_dir / "raw/a/asset.json", lambda d: d.update(name="renamed")),
    "registry_modified": _registry_excludes_sfx,
    "new_unregistered_asset": lambda p: add_raw(p, "more/c", b"c", register=False, number=91),
    "unregistered_asset_json_removed": lambda p: (p.assets_dir / "loose/b/asset.json").unlink(),
    "unregistered_asset_json_edited": lambda p: rewrite_json(
        p.assets_dir / "loose/b/asset.json",
        lambda d: d.update(asset_uuid="00000000-0000-4000-8000-000000000001")),
    "new_input_folder_file": lambda p: (p.assets_dir / "raw/a/extra.bin").write_bytes(b"x"),
    "artifact_tampered": lambda p: (p.build_dir / "assets.pa").write_bytes(
        (p.build_dir / "assets.pa").read_bytes()[:-1] + b"\x00"),
    "artifact_tampered_mtime_forced_back": lambda p: same_size_change_mtime_kept(
        p.build_dir / "assets.pa"),
    "artifact_truncated": lambda p: os.truncate(p.build_dir / "assets.pa", 100),
    "mirror_changed": lambda p: (p.build_dir / "preload.json").write_text("[ ]"),
    "older_packers_preview_added": _older_packers_preview,
    "cache_corrupted": lambda p: p.cache_path.write_bytes(b"{"),
    "cache_entry_edited": lambda p: rewrite_json(
        p.cache_path, lambda d: d["assets"]["2"].update(packer_version="0.0.1+pa1")),
    "staging_left_behind": lambda p: (p.build_dir / ".staging/abandoned").mkdir(parents=True),
    "project_file_changed": lambda p: rewrite_json(
        p.root / "prometeu.json", lambda d: d.update(name="other")),
    "manifest_corrupted": lambda p: manifest_file.manifest_path(p).write_bytes(b"[1, 2"),
    "manifest_removed": lambda p: manifest_file.manifest_path(p).unlink(),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_takes_the_normal_path_and_builds_what_a_full_build_would(
    tmp_path: Path, spy: ScanSpy, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    # The cache's racy window off too: its hints alone must tell the normal path what changed.
    monkeypatch.setattr("packer.build.cache.RACY_WINDOW_NS", 0)
    project = built(tmp_path)
    assert spy.fast(lambda: build(project))[0]
    CHANGES[change](project)
    fast, result = spy.fast(lambda: build(project))
    assert not fast, f"{change}: reported up to date by the manifest"
    full = copy_project(project, tmp_path / "full")
    manifest_file.forget(full)
    expected = build(full, use_cache=False)
    assert result.outcome == expected.outcome
    assert [d.code for d in result.blocking] == [d.code for d in expected.blocking]
    if result.succeeded:
        assert snapshot_build(project) == snapshot_build(full)
        again = build(project)
        assert again.up_to_date


def test_packer_or_pipeline_version_change_takes_the_normal_path(
    tmp_path: Path, spy: ScanSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = built(tmp_path)
    monkeypatch.setattr(RAW_PIPELINE, "format_version", RAW_PIPELINE.format_version + 1)
    fast, result = spy.fast(lambda: build(project))
    assert not fast and result.reasons()[1] == "packer_version_changed"
    monkeypatch.setattr(runner, "PACKER_VERSION", "9.9.9+pa9")
    assert not spy.fast(lambda: build(project))[0]


def test_findings_are_never_skipped(tmp_path: Path, spy: ScanSpy) -> None:
    # A build with a (non-blocking) finding leaves no manifest: each build reports it again.
    project = built(tmp_path)
    with open(os.fsencode(project.assets_dir / "loose") + b"/bad\xff.bin", "wb") as out:
        out.write(b"a name that is not UTF-8")
    result = build(project)
    assert result.succeeded and [d.code for d in result.diagnostics] == ["PK207"]
    assert not manifest_file.manifest_path(project).exists()
    fast, again = spy.fast(lambda: build(project))
    assert not fast and again.up_to_date
    assert [d.code for d in again.diagnostics] == ["PK207"]


def test_cancelled_noop_by_manifest(tmp_path: Path, spy: ScanSpy) -> None:
    project = built(tmp_path)
    before = snapshot_build(project)
    token = CancellationToken()
    token.cancel()
    result = build(project, token=token)
    assert result.outcome is Outcome.CANCELLED
    assert snapshot_build(project) == before


def test_a_changed_build_stats_each_workspace_path_once(
    tmp_path: Path, spy: ScanSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = built(tmp_path)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    stats: list[str] = []
    real = statpass.stat_path

    def counted(path: str) -> os.stat_result:
        stats.append(path)
        return real(path)

    monkeypatch.setattr(statpass, "stat_path", counted)
    fast, result = spy.fast(lambda: build(project))
    assert not fast and result.succeeded and not result.up_to_date
    workspace = [p for p in stats if "/assets/" in p and not p.endswith("cache.json")]
    assert workspace and len(workspace) == len(set(workspace)), "a path stat'ed twice"
    monkeypatch.setattr(statpass, "stat_path", real)
    assert spy.fast(lambda: build(project))[0]  # the reused fingerprints make a valid manifest


def test_seen_stats_are_entered_when_first_read_and_equal_a_plain_dicts(
    tmp_path: Path,
) -> None:
    from packer.build.check import PACKER_VERSION

    project = built(tmp_path)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    changed = "assets/raw/a/data.bin"
    lazy: statpass.SeenStats = statpass.SeenStats()
    plain: dict[str, statpass.Fingerprint | None] = {}
    for seen in (lazy, plain):
        difference = uptodate.Difference()
        assert uptodate.check(project, CancellationToken(), packer_version=PACKER_VERSION,
                              pipelines=runner._pipeline_versions(), seen=seen,
                              difference=difference) is None
        assert changed in difference.changed
    assert lazy and dict(lazy) == {changed: plain[changed]}  # only the changed path so far
    assert lazy.get(changed) == statpass.fingerprint(str(project.root / changed))
    assert len(lazy) == 1
    assert lazy.get("prometeu.json") == plain["prometeu.json"]  # the first other read enters all
    assert dict(lazy) == plain and len(plain) > 10
    assert lazy.get("not/listed", "missing") == "missing"
    lazy.clear()
    assert not lazy and lazy.get("prometeu.json") is None


def test_a_change_after_the_check_stat_is_never_hidden(
    tmp_path: Path, spy: ScanSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The recorded fingerprint of an input is the one the check took before the build read it:
    # a change made between that stat and the read must fail the next check.
    project = built(tmp_path)
    data = project.assets_dir / "raw/a/data.bin"
    data.write_bytes(b"beta")
    real_check = uptodate.check

    def check_then_change(*args: Any, **kwargs: Any) -> Any:
        found = real_check(*args, **kwargs)
        data.write_bytes(b"gamma!")  # another size: a different fingerprint whatever the tick
        return found

    # After the check's stat, before the build (a scan or a patch build) reads the file.
    monkeypatch.setattr(uptodate, "check", check_then_change)
    assert build(project).succeeded
    monkeypatch.setattr(uptodate, "check", real_check)
    assert not spy.fast(lambda: build(project))[0]  # stat of gamma != the recorded beta


def test_the_streamed_manifest_is_the_compact_json_of_its_whole_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # record() writes the manifest row by row (pieces of _WRITE_CHUNK bytes, made small here so
    # a small project crosses many); the file must be json.dumps of the whole document.
    monkeypatch.setattr(manifest_file, "WRITE_CHUNK", 64)
    monkeypatch.setattr(manifest_file, "ROWS_PER_CALL", 3)  # batches of rows end anywhere
    project = built(tmp_path)
    raw = manifest_file.manifest_path(project).read_bytes()
    data = json.loads(raw)
    assert len(data["files"]) > 10 and data["assets"]
    assert raw == json.dumps(data, separators=(",", ":")).encode("utf-8")
    manifest = manifest_file.Manifest.from_bytes(raw)
    assert manifest is not None and manifest.to_bytes() == raw


def test_a_full_build_records_the_scan_s_stats_without_stat_ing_again(
    tmp_path: Path, spy: ScanSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scan stat'ed every folder, asset.json and input; record() stats only what it did not
    # see (the project files) and what the build wrote (build/).
    project = built(tmp_path)
    stats: list[str] = []
    real = statpass.fingerprint

    def counted(path: str) -> statpass.Fingerprint | None:
        stats.append(os.path.relpath(path, project.root))
        return real(path)

    monkeypatch.setattr(recording, "fingerprint", counted)
    result = build(project, use_cache=False)
    assert result.succeeded
    assert not [p for p in stats if p.startswith("assets/") and "/.prometeu/" not in p]
    assert len(stats) == len(set(stats)) < 10
    monkeypatch.setattr(recording, "fingerprint", real)
    assert spy.fast(lambda: build(project))[0]  # the scan's stats make a valid manifest


def test_a_change_after_the_scan_read_it_is_never_recorded_as_built(
    tmp_path: Path, spy: ScanSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The recorded fingerprint of an input must be a stat taken before the build read it (the
    # scan's): one taken after would describe "gamma!" while the artifact holds "beta". The
    # racy rule would catch that too (gamma's ctime is after the build started); it is turned
    # off here so that this test pins the fingerprint itself.
    monkeypatch.setattr(uptodate, "_racy", lambda fp, racy_after: False)
    project = built(tmp_path)
    data = project.assets_dir / "raw/a/data.bin"
    data.write_bytes(b"beta")
    real_save = cache.save_cache

    def change_then_save(*args: Any, **kwargs: Any) -> Any:
        data.write_bytes(b"gamma!")  # after every input was read and encoded
        return real_save(*args, **kwargs)

    monkeypatch.setattr(runner, "save_cache", change_then_save)
    assert build(project, use_cache=False).succeeded
    monkeypatch.setattr(runner, "save_cache", real_save)
    fast, result = spy.fast(lambda: build(project))
    assert not fast and result.succeeded and not result.up_to_date
    fresh = copy_project(project, tmp_path / "fresh")
    assert build(fresh, use_cache=False).succeeded
    assert (project.build_dir / "assets.pa").read_bytes() == (
        fresh.build_dir / "assets.pa").read_bytes()


def test_a_no_cache_build_never_reads_the_previous_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --no-cache reuses nothing: build/assets.pa is rewritten as a full build writes it.
    project = built(tmp_path)
    expected = snapshot_build(project)

    def refuse(*_args: Any) -> None:
        raise AssertionError("the previous artifact was read")

    monkeypatch.setattr(runner, "read_previous_artifact", refuse)
    result = build(project, use_cache=False)
    assert result.succeeded and not result.up_to_date and result.cache_hits == 0
    assert snapshot_build(project) == expected


def test_build_finished_names_the_first_200_encoded_assets(tmp_path: Path) -> None:
    project = new_project(tmp_path / "work")
    for index in range(203):
        add_raw(project, f"raw/r{index:03d}", bytes([index]) * 3)
    sink = ListSink()
    result = build(project, sink, use_cache=False)
    assert result.succeeded and result.cache_misses == 203
    finished = [e for e in sink.events if e.kind.value == "build_finished"]
    assert [a.root for a in finished[0].affected_assets] == [f"raw/r{i:03d}" for i in range(200)]
