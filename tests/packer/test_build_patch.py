"""Patch builds: a change confined to known assets rebuilds only those, with the very bytes,
cache, manifest and events of the normal path; anything else takes the normal path.

Two identical projects are built side by side (fixed identities: same bytes everywhere but
their location); after the same change one builds with patch builds allowed, the other with
them disabled, and everything is compared. `RACY_WINDOW_NS` of packer.build.uptodate is 0, as
in test_build_noop.py: files written before a build count as settled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from packer.build import BuildResult, build, manifest_file, patch, statpass, uptodate
from packer.build.cache import RACY_WINDOW_NS, BuildCache
from packer.build.faults import ENV_VAR
from packer.build.staging import pending_promotions, recover_staging
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import Outcome, PackerEvent
from packer.lane.operation import Operation
from packer.lane.sinks import ListSink
from tests.packer.build_support import (
    add_glyph,
    add_raw,
    add_sound,
    new_project,
    snapshot_build,
)


class Patches:
    """Counts the patch builds that took (returned a result)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.taken = 0
        self.enabled = True
        real = patch.attempt

        def counted(*args: Any, **kwargs: Any) -> Any:
            if not self.enabled:
                return None
            result = real(*args, **kwargs)
            self.taken += result is not None
            return result

        monkeypatch.setattr(patch, "attempt", counted)

    def build(self, project: Project, *, allowed: bool = True, **kwargs: Any
              ) -> tuple[bool, BuildResult, list[PackerEvent]]:
        self.enabled = allowed
        before = self.taken
        sink = ListSink()
        result = build(project, sink, **kwargs)
        self.enabled = True
        return self.taken > before, result, sink.events


@pytest.fixture
def patches(monkeypatch: pytest.MonkeyPatch) -> Patches:
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)
    monkeypatch.setattr(Operation, "PROGRESS_INTERVAL_S", 0.0)
    return Patches(monkeypatch)


def built(base: Path) -> Project:
    project = new_project(base)
    add_raw(project, "raw/a", b"alpha" * 100)
    add_glyph(project, "glyphs/font", preload=True)
    add_sound(project, "sounds/sfx")
    add_raw(project, "raw/z", b"omega" * 33)
    add_raw(project, "loose/b", b"unregistered", register=False, number=90)
    assert build(project).succeeded
    return project


def twins(tmp_path: Path) -> tuple[Project, Project]:
    return built(tmp_path / "patched"), built(tmp_path / "normal")


def comparable(event: PackerEvent) -> dict[str, Any]:
    data = event.model_dump(mode="json")
    for key in ("operation_id", "timestamp", "event_id"):
        data.pop(key, None)
    return data


def cache_without_time(project: Project) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(project.cache_path.read_bytes())
    data.pop("started_at_ns")
    for entry in data["assets"].values():  # the twins' files were written at other times
        for facts in entry["inputs"]:
            facts.pop("mtime_ns")
    return data


def manifest_without_stats(project: Project) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(manifest_file.manifest_path(project).read_bytes())
    data.pop("recorded_at_ns")
    data["files"] = [row[0] for row in data["files"]]
    data["checks"].pop("assets/.prometeu/cache.json")  # holds started_at_ns
    return data


def rewrite_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def edit_tile(path: Path) -> None:
    with Image.open(path) as image:
        changed = image.convert("RGBA")
    changed.putpixel((7, 7), (0, 0, 255, 255))
    changed.save(path)


PATCHABLE: dict[str, Callable[[Project], object]] = {
    "raw_input_longer": lambda p: (p.assets_dir / "raw/a/data.bin").write_bytes(b"beta" * 300),
    "raw_input_same_size": lambda p: (p.assets_dir / "raw/a/data.bin").write_bytes(
        b"ALPHA" * 100),
    "last_asset_shorter": lambda p: (p.assets_dir / "raw/z/data.bin").write_bytes(b"o"),
    "tile_edited": lambda p: edit_tile(p.assets_dir / "glyphs/font/tiles/001_t.png"),
    "sample_edited": lambda p: (p.assets_dir / "sounds/sfx/s1.wav").write_bytes(
        (p.assets_dir / "sounds/sfx/s0.wav").read_bytes()),
    "asset_json_renamed": lambda p: rewrite_json(
        p.assets_dir / "raw/a/asset.json", lambda d: d.update(name="renamed")),
    "glyph_renamed_preview_kept": lambda p: rewrite_json(
        p.assets_dir / "glyphs/font/asset.json", lambda d: d.update(name="font2")),
    "asset_json_preload": lambda p: rewrite_json(
        p.assets_dir / "raw/z/asset.json", lambda d: d.update(preload={"enabled": True})),
    "asset_json_settings": lambda p: rewrite_json(
        p.assets_dir / "raw/z/asset.json", lambda d: d["output"]["pipeline"].update(note=1)),
    "input_touched": lambda p: os.utime(p.assets_dir / "raw/a/data.bin",
                                        ns=(1_700_000_000_000_000_000,) * 2),
    "two_assets": lambda p: (
        (p.assets_dir / "raw/a/data.bin").write_bytes(b"x" * 7),
        (p.assets_dir / "raw/z/data.bin").write_bytes(b"y" * 4000)),
}


@pytest.mark.parametrize("change", sorted(PATCHABLE))
def test_a_patch_build_equals_the_normal_path_and_a_full_build(
    tmp_path: Path, patches: Patches, change: str
) -> None:
    patched, normal = twins(tmp_path)
    PATCHABLE[change](patched)
    PATCHABLE[change](normal)
    took, result, events = patches.build(patched)
    assert took, f"{change}: not patched"
    took_normal, expected, expected_events = patches.build(normal, allowed=False)
    assert not took_normal
    assert result.succeeded
    assert [comparable(e) for e in events] == [comparable(e) for e in expected_events]
    assert result.model_dump(exclude={"operation_id", "artifact"}) == expected.model_dump(
        exclude={"operation_id", "artifact"})
    assert snapshot_build(patched) == snapshot_build(normal)
    assert cache_without_time(patched) == cache_without_time(normal)
    assert manifest_without_stats(patched) == manifest_without_stats(normal)
    full = built(tmp_path / "full")
    PATCHABLE[change](full)
    assert build(full, use_cache=False).succeeded
    assert snapshot_build(patched) == snapshot_build(full)
    # The manifest it left is a valid one: the next build is a no-op by stat alone.
    took, again, _ = patches.build(patched)
    assert again.up_to_date and not took


def many(base: Path) -> Project:
    project = new_project(base)
    for number in range(24):
        add_raw(project, f"raw/r{number:02}", bytes([number]) * (1 + number * 7 % 53))
    assert build(project).succeeded
    return project


@pytest.mark.parametrize("sizes", [
    {3: 200},  # one payload grows: every later one moves
    {3: 1, 11: 90},  # one shrinks, one grows further on: two runs move by other amounts
    {0: 2, 23: 500},  # the first and the last
    {5: 14, 6: 15, 7: 16},  # three new payloads in a row
])
def test_moved_payloads_are_patched_as_the_normal_path_places_them(
    tmp_path: Path, patches: Patches, sizes: dict[int, int]
) -> None:
    patched, full = many(tmp_path / "patched"), many(tmp_path / "full")
    for project in (patched, full):
        for number, size in sizes.items():
            (project.assets_dir / f"raw/r{number:02}/data.bin").write_bytes(b"N" * size)
    took, result, _ = patches.build(patched)
    assert took and result.succeeded
    assert build(full, use_cache=False).succeeded
    assert snapshot_build(patched) == snapshot_build(full)
    assert cache_without_time(patched) == cache_without_time(full)
    took, again, _ = patches.build(patched)
    assert again.up_to_date and not took


LAZY_MODELS = ("packer.files.registry:Registry", "packer.files.registry:RegistryEntry",
               "packer.build.cache:BuildCache", "packer.build.cache:ArtifactRecord",
               "packer.build.result:BuildResult", "packer.workspace.scan:AssetRecord",
               "packer.workspace.scan:WorkspaceSnapshot", "packer.diagnostics:Diagnostic")


def test_a_patch_build_builds_no_validator_it_does_not_use(tmp_path: Path) -> None:
    # Their validators are deferred (start-up time): a patch build only constructs them. Nor
    # does it import the mutation journal (only writers recover one), Pillow (a raw asset) or
    # what forks children (only a full build's encoding and cache writing do).
    project = built(tmp_path / "work")
    PATCHABLE["raw_input_longer"](project)
    code = (
        "import importlib, json, sys\n"
        "from packer.build import build, patch, uptodate\n"
        "from packer.files.project import open_project\n"
        "uptodate.RACY_WINDOW_NS = 0\n"
        "real, taken = patch.attempt, []\n"
        "patch.attempt = lambda *a, **k: taken.append(real(*a, **k)) or taken[-1]\n"
        "result = build(open_project(sys.argv[1]))\n"
        "built = [name for name in sys.argv[2:] if getattr(importlib.import_module(\n"
        "    name.split(':')[0]), name.split(':')[1]).__pydantic_complete__]\n"
        "unused = [m for m in ('packer.files.journal', 'PIL', 'packer.build.parallel',\n"
        "                      'packer.build.side_writer') if m in sys.modules]\n"
        "print(json.dumps([result.succeeded, taken[0] is not None, built, unused]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(project.root), *LAZY_MODELS],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [True, True, [], []]


class TerminalOnly:
    """A sink that wants no events (as the CLI's plain output): it gets only the terminal."""

    wants_events = False

    def __init__(self) -> None:
        self.events: list[PackerEvent] = []

    def publish(self, event: PackerEvent) -> None:
        self.events.append(event)


@pytest.mark.parametrize("change", ["raw_input_longer", "two_assets", "asset_json_renamed"])
def test_without_events_a_patch_ends_as_the_normal_path(
    tmp_path: Path, patches: Patches, change: str
) -> None:
    # No event is built, but the terminal's sequence still counts every event the normal
    # path would have published (a patch skips the cache hits' numbers in one step).
    patched, normal = twins(tmp_path)
    PATCHABLE[change](patched)
    PATCHABLE[change](normal)
    before = patches.taken
    patched_sink, normal_sink = TerminalOnly(), TerminalOnly()
    assert build(patched, patched_sink).succeeded
    assert patches.taken == before + 1
    patches.enabled = False
    assert build(normal, normal_sink).succeeded
    patches.enabled = True
    assert [comparable(e) for e in patched_sink.events] == [
        comparable(e) for e in normal_sink.events]
    assert patched_sink.events[0].terminal


def test_a_patch_writes_the_cache_exactly_as_pydantic_does(
    tmp_path: Path, patches: Patches
) -> None:
    # Not only equal values: the very bytes (key order, escapes, non-ASCII) the normal path's
    # pydantic dump gives.
    project = built(tmp_path / "work")
    rewrite_json(project.assets_dir / "raw/a/asset.json",
                 lambda d: d["output"]["pipeline"].update(note='ñ "quoted" \\ tab\t☃ \u2028'))
    assert patches.build(project)[0]
    data = project.cache_path.read_bytes()
    assert "☃".encode() in data
    assert BuildCache.model_validate_json(data).model_dump_json().encode() == data


def remove_input(project: Project) -> None:
    (project.assets_dir / "sounds/sfx/s1.wav").unlink()


def new_root(project: Project) -> None:
    add_raw(project, "raw/new", b"new", number=70)


STRUCTURAL: dict[str, Callable[[Project], object]] = {
    "new_root": new_root,
    "input_removed": remove_input,
    "registry_changed": lambda p: rewrite_json(
        p.registry_path, lambda d: d["assets"][0].update(included_in_build=False)),
    "input_list_changed": lambda p: rewrite_json(
        p.assets_dir / "sounds/sfx/asset.json",
        lambda d: d["inputs"].update(samples=["s1.wav", "s0.wav"])),
    "name_collision": lambda p: rewrite_json(
        p.assets_dir / "raw/a/asset.json", lambda d: d.update(name="z")),
    "broken_declaration": lambda p: (p.assets_dir / "raw/a/asset.json").write_text("{"),
    "broken_format": lambda p: (p.assets_dir / "sounds/sfx/s0.wav").write_bytes(b"RIFF"),
    "unregistered_edited": lambda p: rewrite_json(
        p.assets_dir / "loose/b/asset.json", lambda d: d.update(name="other")),
    "project_file_changed": lambda p: rewrite_json(
        p.root / "prometeu.json", lambda d: d.update(name="other")),
}


@pytest.mark.parametrize("change", sorted(STRUCTURAL))
def test_anything_else_takes_the_normal_path(
    tmp_path: Path, patches: Patches, change: str
) -> None:
    project = built(tmp_path / "work")
    STRUCTURAL[change](project)
    took, result, _ = patches.build(project)
    assert not took, f"{change}: patched"
    full = built(tmp_path / "full")
    STRUCTURAL[change](full)
    expected = build(full, use_cache=False)
    assert result.outcome == expected.outcome
    assert [d.code for d in result.blocking] == [d.code for d in expected.blocking]
    if result.succeeded:
        assert snapshot_build(project) == snapshot_build(full)


def rerecord(project: Project, path: Path) -> None:
    """Put `path`'s current fingerprint into the manifest: a change the stat cannot see."""
    manifest = manifest_file.load(project)
    assert manifest is not None
    rel = path.relative_to(project.root).as_posix()
    for row in manifest.files:
        if row[0] == rel:
            row[1:] = statpass.fingerprint(str(path)) or []
    manifest_file.manifest_path(project).write_bytes(manifest.to_bytes())


def test_a_tampered_previous_payload_is_never_copied(tmp_path: Path, patches: Patches) -> None:
    project = built(tmp_path / "work")
    artifact = project.build_dir / "assets.pa"
    data = bytearray(artifact.read_bytes())
    data[-1] ^= 0xFF  # the last payload: raw/z, not the asset that changes
    artifact.write_bytes(bytes(data))
    rerecord(project, artifact)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    took, result, _ = patches.build(project)
    assert not took
    assert result.reasons()[4] == "cache_missing_or_corrupt"
    full = built(tmp_path / "full")
    (full.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    assert build(full, use_cache=False).succeeded
    assert snapshot_build(project) == snapshot_build(full)


@pytest.mark.parametrize("tamper", ["nothing", "payload", "gap", "truncated"])
def test_every_reused_payload_and_gap_is_checked(
    tmp_path: Path, patches: Patches, tamper: str
) -> None:
    project = many(tmp_path / "work")
    manifest = manifest_file.load(project)
    assert manifest is not None
    rows = manifest.assets
    # a payload after a gap, in the middle, not the asset that changes
    at = next(i for i in range(10, len(rows)) if rows[i].offset > rows[i - 1].offset
              + rows[i - 1].size)
    artifact = project.build_dir / "assets.pa"
    data = bytearray(artifact.read_bytes())
    if tamper == "payload":
        data[manifest.payload_offset + rows[at].offset] ^= 0xFF
    elif tamper == "gap":
        data[manifest.payload_offset + rows[at].offset - 1] = 1
    elif tamper == "truncated":
        del data[-1]
    if tamper != "nothing":
        artifact.write_bytes(bytes(data))
        rerecord(project, artifact)
    (project.assets_dir / "raw/r02/data.bin").write_bytes(b"changed")
    took, result, _ = patches.build(project)
    assert result.succeeded and took == (tamper == "nothing")
    full = many(tmp_path / "full")
    (full.assets_dir / "raw/r02/data.bin").write_bytes(b"changed")
    assert build(full, use_cache=False).succeeded
    assert snapshot_build(project) == snapshot_build(full)


@pytest.mark.parametrize("name", ["cache.json", "asset_table_metadata.json", "head"])
def test_tampered_state_files_are_not_trusted(
    tmp_path: Path, patches: Patches, name: str
) -> None:
    project = built(tmp_path / "work")
    if name == "cache.json":
        target = project.cache_path
        rewrite_json(target, lambda d: d["assets"]["4"].update(packer_version="0.0.1+pa1"))
    elif name == "head":
        target = project.build_dir / "assets.pa"
        data = target.read_bytes()
        target.write_bytes(data.replace(b'"asset_name":"z"', b'"asset_name":"y"'))
    else:
        target = project.build_dir / name
        target.write_bytes(target.read_bytes().replace(b'"root":"raw/z"', b'"root":"raw/y"'))
    rerecord(project, target)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    took, result, _ = patches.build(project)
    assert not took and result.succeeded
    full = built(tmp_path / "full")
    (full.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    assert build(full, use_cache=False).succeeded
    assert snapshot_build(project) == snapshot_build(full)


def test_a_same_tick_edit_is_caught(tmp_path: Path, patches: Patches) -> None:
    # The edit leaves the input's recorded fingerprint as it is (as one in the same clock tick
    # as the recording could), but the input is in the racy window: it is re-read anyway.
    project = built(tmp_path / "work")
    data = project.assets_dir / "raw/a/data.bin"
    data.write_bytes(b"beta" * 125)
    rerecord(project, data)
    manifest = manifest_file.load(project)
    assert manifest is not None
    st = data.stat()
    manifest.recorded_at_ns = max(st.st_mtime_ns, st.st_ctime_ns)
    manifest_file.manifest_path(project).write_bytes(manifest.to_bytes())
    took, result, _ = patches.build(project)
    assert took and result.reasons()[1] == "input_content_changed"
    full = built(tmp_path / "full")
    (full.assets_dir / "raw/a/data.bin").write_bytes(b"beta" * 125)
    assert build(full, use_cache=False).succeeded
    assert snapshot_build(project) == snapshot_build(full)


def state(project: Project) -> tuple[dict[str, bytes], bytes]:
    return snapshot_build(project), project.cache_path.read_bytes()


@pytest.mark.parametrize("step", ["encode:3", "write", "staged", "committed"])
def test_an_interrupted_patch_build_leaves_a_consistent_state(
    tmp_path: Path, patches: Patches, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    project = built(tmp_path / "work")
    before = state(project)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    monkeypatch.setenv(ENV_VAR, f"{step}:raise")
    took, result, _ = patches.build(project)
    monkeypatch.delenv(ENV_VAR)
    assert not took and result.outcome is Outcome.FAILED
    if step != "committed":
        assert state(project) == before
    assert not manifest_file.manifest_path(project).exists()
    took, again, _ = patches.build(project)  # the normal path finishes or redoes it
    assert not took and again.succeeded
    full = built(tmp_path / "full")
    (full.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    assert build(full, use_cache=False).succeeded
    assert snapshot_build(project) == snapshot_build(full)


def test_a_cancelled_patch_build_changes_nothing(tmp_path: Path, patches: Patches) -> None:
    project = built(tmp_path / "work")
    before = state(project)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    token = CancellationToken()
    cancel_at = {"n": 0}

    class CancellingSink(ListSink):
        def publish(self, event: PackerEvent) -> None:
            super().publish(event)
            cancel_at["n"] += 1
            if event.kind.value == "cache_miss":
                token.cancel()

    sink = CancellingSink()
    result = build(project, sink, token=token)
    assert result.outcome is Outcome.CANCELLED
    assert "cache_miss" in sink.kinds()
    assert state(project) == before
    took, again, _ = patches.build(project)
    assert not took and again.succeeded and again.reasons()[1] == "input_content_changed"


def test_an_unexpected_error_while_proving_takes_the_normal_path(
    tmp_path: Path, patches: Patches, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = built(tmp_path / "work")
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")

    def unreadable(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk hiccup")

    monkeypatch.setattr(patch, "read_anchor", unreadable)
    took, result, _ = patches.build(project)
    assert not took and result.succeeded and result.reasons()[1] == "input_content_changed"


PATCH_BEFORE_COMMIT = ["encode:2", "write", "staged"]
PATCH_AFTER_COMMIT = ["committed", "promote:asset_table.json", "promote:assets.pa", "promoted",
                      "cached"]
REPO = Path(__file__).resolve().parents[2]
# The child may only patch: a scan (the normal path) ends it with exit code 3, not the kill.
PATCH_ONLY_CHILD = (
    "import sys; from packer.build import build, runner; "
    "runner.build_snapshot_and_walk = lambda *a, **k: sys.exit(3); "
    "from packer.files.project import open_project; build(open_project(sys.argv[1]))"
)


@pytest.mark.parametrize("step", PATCH_BEFORE_COMMIT + PATCH_AFTER_COMMIT)
def test_a_killed_patch_build_leaves_the_old_or_the_new_build(tmp_path: Path, step: str) -> None:
    project = built(tmp_path / "work")
    old, old_cache = state(project)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta" * 99)
    manifest = manifest_file.load(project)
    assert manifest is not None
    # Everything already on disk counts as settled for the child (its racy window is 2 s).
    manifest.recorded_at_ns = time.time_ns() + 3 * RACY_WINDOW_NS
    manifest_file.manifest_path(project).write_bytes(manifest.to_bytes())
    child = subprocess.run([sys.executable, "-c", PATCH_ONLY_CHILD, str(project.root)],
                           env={**os.environ, ENV_VAR: step}, cwd=REPO, capture_output=True,
                           check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    full = built(tmp_path / "full")
    (full.assets_dir / "raw/a/data.bin").write_bytes(b"beta" * 99)
    assert build(full, use_cache=False).succeeded
    new = snapshot_build(full)

    def published() -> dict[str, bytes]:
        return {k: v for k, v in snapshot_build(project).items() if not k.startswith(".staging")}

    if step in PATCH_BEFORE_COMMIT:
        assert published() == old and project.cache_path.read_bytes() == old_cache
        assert pending_promotions(project.build_dir) == []
    recover_staging(project.build_dir)
    assert published() == (old if step in PATCH_BEFORE_COMMIT else new)
    assert build(project).succeeded
    assert snapshot_build(project) == new
