"""The build cache: every miss reason, hits that survive touches, and incremental == full."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from packer.build import BuildResult, build
from packer.build.cache import (
    ArtifactRecord,
    BuildCache,
    CachedInput,
    CachedPayload,
    CacheEntry,
    MissReason,
    load_cache,
    save_cache,
)
from packer.build.hashing import hash_bytes
from packer.files.project import Project
from packer.formats.raw import RAW_PIPELINE
from tests.packer.build_support import (
    add_glyph,
    add_raw,
    add_sound,
    copy_project,
    new_project,
    snapshot_build,
)


def three_assets(tmp_path: Path) -> Project:
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"alpha" * 100)
    add_glyph(project, "glyphs/font")
    add_sound(project, "sounds/sfx")
    return project


def age_inputs(project: Project) -> None:
    """Give every file an old mtime, as files in a real project have (outside the racy window)."""
    for path in project.assets_dir.rglob("*"):
        if path.is_file() and ".prometeu" not in path.parts:
            os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))


def assert_equals_full_build(project: Project, tmp_path: Path, name: str) -> None:
    """A --no-cache build of a copy of the project must give the very same build/ bytes."""
    incremental = snapshot_build(project)
    copy = copy_project(project, tmp_path / f"full-{name}")
    result = build(copy, use_cache=False)
    assert result.succeeded
    assert {r for r in result.reasons().values()} == {MissReason.FORCED.value}
    assert snapshot_build(copy) == incremental


def reasons(result: BuildResult) -> dict[int, str | None]:
    assert result.succeeded, (result.error, result.blocking)
    return result.reasons()


def test_noop_rebuild_hits_everything_and_rewrites_nothing(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    age_inputs(project)
    build(project)
    before = {p: p.stat().st_mtime_ns for p in project.build_dir.rglob("*")}
    result = build(project)
    assert reasons(result) == {1: None, 2: None, 3: None}
    assert result.up_to_date and result.cache_hits == 3
    assert {p: p.stat().st_mtime_ns for p in project.build_dir.rglob("*")} == before


def test_touching_without_changing_content_is_still_a_hit(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    age_inputs(project)
    build(project)
    path = project.assets_dir / "raw/a/data.bin"
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert reasons(build(project)) == {1: None, 2: None, 3: None}
    cache = json.loads(project.cache_path.read_bytes())
    assert cache["assets"]["1"]["inputs"][0]["mtime_ns"] == 1_700_000_000_000_000_000


def test_input_content_changed(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    age_inputs(project)
    build(project)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    result = build(project)
    assert reasons(result) == {1: "input_content_changed", 2: None, 3: None}
    assert next(c for c in result.cache if c.asset_id == 1).explanation == (
        "content changed: data.bin")
    assert_equals_full_build(project, tmp_path, "content")


def test_same_size_same_mtime_change_is_caught_inside_the_racy_window(tmp_path: Path) -> None:
    # Edited within the racy window: size and mtime hints are not trusted, the hash decides.
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"aaaa")
    build(project)
    path = project.assets_dir / "raw/a/data.bin"
    stat = path.stat()
    path.write_bytes(b"bbbb")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert reasons(build(project)) == {1: "input_content_changed"}


def test_input_added_or_removed(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    build(project)
    decl_path = project.assets_dir / "sounds/sfx/asset.json"
    decl = json.loads(decl_path.read_text())
    decl["inputs"]["samples"] = decl["inputs"]["samples"][:1]
    decl_path.write_text(json.dumps(decl))
    result = build(project)
    assert reasons(result) == {1: None, 2: None, 3: "input_added_or_removed"}
    assert "removed samples:s1.wav" in (result.cache[2].explanation or "")
    assert_equals_full_build(project, tmp_path, "inputs")


def test_settings_changed(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    build(project)
    decl_path = project.assets_dir / "glyphs/font/asset.json"
    decl = json.loads(decl_path.read_text())
    decl["output"]["pipeline"] = {"tile_palettes": {"tiles/000_t.png": 0}}
    decl_path.write_text(json.dumps(decl))
    result = build(project)
    assert reasons(result) == {1: None, 2: "settings_changed", 3: None}
    assert result.cache[1].explanation == "changed: pipeline"
    assert_equals_full_build(project, tmp_path, "settings")


def test_a_float_setting_is_a_change_and_blocks_like_a_full_build(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    build(project)
    decl_path = project.assets_dir / "glyphs/font/asset.json"
    decl = json.loads(decl_path.read_text())
    decl["output"]["metadata"] = {"tile_size": 8.0}  # equal to 8 in Python, not to a pipeline
    decl_path.write_text(json.dumps(decl))
    incremental = build(project)
    full = build(copy_project(project, tmp_path / "copy"), use_cache=False)
    assert incremental.outcome == full.outcome
    assert [d.code for d in incremental.blocking] == [d.code for d in full.blocking]


def test_packer_version_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = three_assets(tmp_path)
    build(project)
    cache = json.loads(project.cache_path.read_bytes())
    cache["assets"]["2"]["packer_version"] = "0.0.1+pa1"
    project.cache_path.write_text(json.dumps(cache))
    assert reasons(build(project)) == {1: None, 2: "packer_version_changed", 3: None}
    monkeypatch.setattr(RAW_PIPELINE, "format_version", RAW_PIPELINE.format_version + 1)
    result = build(project)
    assert reasons(result) == {1: "packer_version_changed", 2: None, 3: None}
    assert "format pipeline version" in (result.cache[0].explanation or "")


def test_new_asset(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    build(project)
    add_raw(project, "raw/b", b"new")
    assert reasons(build(project)) == {1: None, 2: None, 3: None, 4: "new_asset"}
    assert_equals_full_build(project, tmp_path, "new")


def test_forced(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    build(project)
    result = build(project, use_cache=False)
    assert set(reasons(result).values()) == {"forced"}
    assert not any(d.code == "PK206" for d in result.diagnostics)


@pytest.mark.parametrize("damage", ["missing", "not_json", "wrong_schema", "invalid_entry"])
def test_missing_or_corrupt_cache_warns_and_rebuilds_everything(tmp_path: Path,
                                                                damage: str) -> None:
    project = three_assets(tmp_path)
    build(project)
    before = snapshot_build(project)
    if damage == "missing":
        project.cache_path.unlink()
    elif damage == "not_json":
        project.cache_path.write_bytes(b"\x00garbage{")
    elif damage == "wrong_schema":
        project.cache_path.write_text('{"schema_version": 99}')
    else:
        cache = json.loads(project.cache_path.read_bytes())
        cache["assets"]["1"]["payload"] = "nope"
        project.cache_path.write_text(json.dumps(cache))
    result = build(project)
    assert set(reasons(result).values()) == {"cache_missing_or_corrupt"}
    assert [d.code for d in result.diagnostics] == ["PK206"]
    assert snapshot_build(project) == before
    assert set(reasons(build(project)).values()) == {None}  # and the cache is whole again


def test_tampered_or_missing_previous_artifact_is_never_reused(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    age_inputs(project)
    build(project)
    before = snapshot_build(project)
    artifact = project.build_dir / "assets.pa"
    data = bytearray(artifact.read_bytes())
    data[-1] ^= 0xFF  # the sound payload's last byte: same size, same header
    artifact.write_bytes(bytes(data))
    result = build(project)
    assert reasons(result) == {1: None, 2: None, 3: "cache_missing_or_corrupt"}
    assert snapshot_build(project) == before
    artifact.unlink()
    result = build(project)
    assert set(reasons(result).values()) == {"cache_missing_or_corrupt"}
    assert snapshot_build(project) == before


def test_rename_and_preload_change_rewrite_the_header_but_reuse_payloads(tmp_path: Path) -> None:
    project = three_assets(tmp_path)
    build(project)
    decl_path = project.assets_dir / "raw/a/asset.json"
    decl = json.loads(decl_path.read_text())
    decl["name"] = "renamed"
    decl["preload"] = {"enabled": True}
    decl_path.write_text(json.dumps(decl))
    result = build(project)
    assert reasons(result) == {1: None, 2: None, 3: None}
    assert not result.up_to_date
    table = json.loads((project.build_dir / "asset_table.json").read_bytes())
    assert table[0]["asset_name"] == "renamed"
    assert_equals_full_build(project, tmp_path, "rename")


def test_a_cache_miss_says_which_settings_changed() -> None:
    from packer.build.cache import _settings_change

    before = json.dumps({"output": {"b": 1, "a": 2}, "name": "x", "gone": 1})
    after = json.dumps({"output": {"a": 2, "b": 1}, "name": "y", "new": 2})
    # key order inside a value is not a change; a key added or removed is
    assert _settings_change(before, after) == "changed: gone, name, new"
    assert _settings_change(before, before) == "changed: settings"
    assert _settings_change("{", after) == "settings changed"


def test_a_cache_miss_says_which_inputs_came_and_went() -> None:
    from packer.build.cache import _inputs_change

    old = [("tiles", "a.png"), ("tiles", "b.png")]
    assert _inputs_change(old, list(reversed(old))) == "inputs reordered"
    assert _inputs_change(old, [("tiles", "a.png"), ("tiles", "c.png")]) == (
        "added tiles:c.png; removed tiles:b.png")
    many = [("t", f"{i}.png") for i in range(5)]
    assert _inputs_change([], many) == "added t:0.png, t:1.png, t:2.png…"
    assert _inputs_change(many, []) == "removed t:0.png, t:1.png, t:2.png…"
    assert _inputs_change([], many[:3]) == "added t:0.png, t:1.png, t:2.png"


def test_load_cache_says_why_a_cache_cannot_be_used(tmp_path: Path) -> None:
    from packer.build.cache import CACHE_SCHEMA_VERSION, load_cache
    from packer.build.hashing import hash_bytes

    project = new_project(tmp_path)
    add_raw(project, "a", b"a")
    assert build(project).succeeded
    path = project.cache_path
    raw = path.read_bytes()
    loaded = load_cache(path)
    assert loaded.cache is not None and loaded.problem is None
    assert loaded.digest == hash_bytes(raw)

    data = json.loads(raw)
    data["schema_version"] = CACHE_SCHEMA_VERSION + 1
    path.write_text(json.dumps(data))
    assert load_cache(path).problem == (
        f"cache.json has schema_version {CACHE_SCHEMA_VERSION + 1}; this packer writes "
        f"{CACHE_SCHEMA_VERSION}")
    data["schema_version"] = CACHE_SCHEMA_VERSION
    data["unknown"] = 1  # the slow path: parsed again to say what is wrong
    path.write_text(json.dumps(data, indent=1))
    assert (load_cache(path).problem or "").startswith("cache.json is invalid at unknown: ")

    real = tmp_path / "elsewhere.json"
    real.write_bytes(raw)
    path.unlink()
    os.symlink(real, path)  # the packer's own file: never read through a link
    assert load_cache(path).problem == (
        "cache.json cannot be read: is a symlink, which is not followed here")
    path.unlink()
    assert load_cache(path).problem == "cache.json does not exist yet"


def cache_entry(index: int) -> CacheEntry:
    return CacheEntry(
        asset_uuid=f"uuid-{index}", packer_version="1.0+pa1", format_version=1 + index % 2,
        settings='{"codec":"none"}',
        inputs=tuple(CachedInput(role="tiles", path=f"t/{i:03d}_ñ\"{index}.png", size=i,
                                 mtime_ns=index * 1000 + i, hash=f"{index:032x}")
                     for i in range(index % 4)),
        payload=CachedPayload(hash=f"{index:032x}", size=index, decoded_size=2 * index),
        metadata={"tile_size": 8, "names": ["a", "é\n"], "nested": {"k": None}},
        tool_metadata={"tiles": [{"index": 0}]} if index % 3 else {},
    )


@pytest.mark.parametrize("count", [0, 1, 3, 2500])
def test_the_streamed_cache_is_the_bytes_of_the_whole_model(tmp_path: Path, count: int) -> None:
    # save_cache writes entry by entry (2,500 entries cross its write chunks); the file must be
    # exactly the one model's JSON, which load_cache reads back, and the digest its content's.
    entries = [(asset_id, cache_entry(asset_id)) for asset_id in range(1, count + 1)]
    artifact = ArtifactRecord(header_hash="ab" * 16, size=4096) if count != 1 else None
    path = tmp_path / "cache.json"
    digest = save_cache(path, 1_700_000_000_123_456_789, artifact, iter(entries))
    whole = BuildCache(started_at_ns=1_700_000_000_123_456_789, artifact=artifact,
                       assets={str(asset_id): entry for asset_id, entry in entries})
    assert path.read_bytes() == whole.model_dump_json().encode("utf-8")
    assert digest == hash_bytes(path.read_bytes())
    loaded = load_cache(path)
    assert loaded.problem is None and loaded.cache == whole and loaded.digest == digest


def test_a_cache_write_that_fails_midway_leaves_the_old_cache(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    save_cache(path, 1, None, iter([(1, cache_entry(1))]))
    before = path.read_bytes()

    def entries() -> Iterator[tuple[int, CacheEntry]]:
        yield 1, cache_entry(1)
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        save_cache(path, 2, None, entries())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]  # no temp file left


def test_the_cache_is_written_as_pydantic_writes_it_one_entry_at_a_time(tmp_path: Path) -> None:
    """save_cache writes model_dump_json's very bytes (so its digest is unchanged), also with
    names and metadata that need escaping; an empty cache too."""
    project = three_assets(tmp_path)
    add_raw(project, "raw/ünïcode \"quoted\"", b"x" * 10)
    assert build(project).succeeded
    cache = load_cache(project.cache_path).cache
    assert cache is not None and len(cache.assets) == 4
    odd = next(iter(cache.assets.values())).model_copy(
        update={"tool_metadata": {"note": "tab\there, é, \u2028, </script>"}})
    assert project.cache_path.read_bytes() == cache.model_dump_json().encode("utf-8")
    for variant in (cache, cache.model_copy(update={"assets": {**cache.assets, "99": odd}}),
                    cache.model_copy(update={"assets": {}})):
        written = tmp_path / "written.json"
        digest = save_cache(written, variant.started_at_ns, variant.artifact,
                            ((int(key), entry) for key, entry in variant.assets.items()))
        assert written.read_bytes() == variant.model_dump_json().encode("utf-8")
        assert digest == hash_bytes(written.read_bytes())


def test_a_repeated_asset_id_is_written_as_often_as_it_is_given(tmp_path: Path) -> None:
    # Entries are serialised a batch at a time through a dict; one id given twice (no build
    # does) must not silently lose an entry.
    path = tmp_path / "cache.json"
    first, second = cache_entry(1), cache_entry(2)
    save_cache(path, 1, None, iter([(1, first), (1, second)]))
    raw = path.read_bytes()
    assert raw.endswith(b'"assets":{"1":' + first.model_dump_json().encode() + b',"1":'
                        + second.model_dump_json().encode() + b"}}")
