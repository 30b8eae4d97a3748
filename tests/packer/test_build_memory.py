"""What a full build keeps alive: nothing of the scan it no longer needs, and no per-asset copy
of what can be shared (issue 10's memory target; the figures are bench/scale.py's)."""

from __future__ import annotations

import gc
import json
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xxhash

from packer.build import build, runner
from packer.build.check import select as real_select
from packer.build.emit import emit_assets as real_emit
from packer.build.hashing import hash_bytes, hash_parts
from packer.build.result import AssetCacheOutcome, BuildResult
from packer.files.declaration import parse_declaration
from packer.lane.cancellation import CancellationToken
from packer.lane.events import Outcome
from packer.workspace.scan import build_snapshot
from packer.workspace.walk import walk_assets
from tests.packer.build_support import add_raw, new_project


@pytest.fixture
def no_collector() -> Iterator[None]:
    """Only reference counting frees anything (as in a build, whose quiet_gc defers full
    collections): what a cycle holds stays."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def test_a_walk_is_freed_by_reference_counting_alone(
    tmp_path: Path, no_collector: None
) -> None:
    project = new_project(tmp_path)
    for n in range(3):
        add_raw(project, f"sub/raw_{n}", b"x" * n)
    walk = walk_assets(project.assets_dir, CancellationToken())
    assert walk.anchors == ["sub/raw_0", "sub/raw_1", "sub/raw_2"]
    gone = weakref.ref(walk)
    del walk
    assert gone() is None  # no cycle keeps every file name of the workspace alive


def test_a_build_lets_the_snapshot_go_before_it_encodes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_collector: None
) -> None:
    project = new_project(tmp_path)
    add_raw(project, "a", b"abc")
    add_raw(project, "b", b"defg")
    snapshots: list[weakref.ref[Any]] = []
    alive_at_emit: list[bool] = []

    def select(project: Any, snapshot: Any, token: Any) -> Any:
        snapshots.append(weakref.ref(snapshot))
        snapshots.append(weakref.ref(snapshot.registry))
        return real_select(project, snapshot, token)

    def emit_assets(*args: Any, **kwargs: Any) -> Any:
        alive_at_emit.extend(ref() is not None for ref in snapshots)
        return real_emit(*args, **kwargs)

    monkeypatch.setattr(runner, "select", select)
    monkeypatch.setattr(runner, "emit_assets", emit_assets)
    result = build(project, use_cache=False)
    assert result.outcome is Outcome.SUCCEEDED and result.asset_count == 2
    assert alive_at_emit == [False, False]  # neither the snapshot nor the registry's entries


DECLARATION: dict[str, Any] = {
    "schema_version": 1, "asset_uuid": "123e4567-e89b-12d3-a456-426614174000", "name": "a",
    "type": "raw", "inputs": {"data": ["data.bin"]},
    "output": {"format": "RAW/bytes_v1", "codec": "none"}, "preload": {"enabled": False},
}


def test_declarations_share_their_fields_set_and_still_say_which_keys_were_given() -> None:
    with_build = {**DECLARATION, "name": "b", "build": {"note": 1}}
    first, _ = parse_declaration(json.dumps(DECLARATION).encode(), root="a")
    second, _ = parse_declaration(json.dumps({**DECLARATION, "name": "c"}).encode(), root="c")
    third, _ = parse_declaration(json.dumps(with_build).encode(), root="b")
    assert first is not None and second is not None and third is not None
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    assert first.model_fields_set == set(DECLARATION)  # "build" was not given
    assert third.model_fields_set == set(with_build)
    assert first.model_dump(exclude_unset=True) == DECLARATION
    copied = first.model_copy(update={"build": {"x": 1}})  # adds to a copy of the set
    assert "build" in copied.model_fields_set
    assert second.model_fields_set == set(DECLARATION)


def test_records_share_one_fields_set(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "a", b"abc")
    add_raw(project, "b", b"defg")
    first, second = build_snapshot(project).assets
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    assert first.model_fields_set == set(type(first).model_fields)
    moved = first.model_copy(update={"diagnostics": ()})
    assert moved.__pydantic_fields_set__ is not first.__pydantic_fields_set__


def test_hash_parts_is_the_hash_of_the_parts_joined() -> None:
    parts = [b"prelude", b"x" * 100_000, bytes(13), b""]
    assert hash_parts(*parts) == hash_bytes(b"".join(parts))
    assert hash_parts() == str(xxhash.xxh3_128_hexdigest(b""))


def test_cache_outcomes_share_one_fields_set_and_equal_validated_ones(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    first_id = add_raw(project, "a", b"abc")
    second_id = add_raw(project, "b", b"defg")
    result = build(project, use_cache=False)
    first, second = result.cache
    assert first_id is not None and second_id is not None
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    for outcome, asset_id in ((first, first_id), (second, second_id)):
        assert outcome == AssetCacheOutcome(
            asset_id=asset_id, hit=False, reason="forced",
            explanation="--no-cache: every asset is encoded")
        assert outcome.model_fields_set == set(AssetCacheOutcome.model_fields)
    assert result == BuildResult.model_validate_json(result.model_dump_json())
