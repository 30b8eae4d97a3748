"""Atomic writes: readers see the old bytes or the new ones, and a failed write leaves no trace."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from packer.files.atomic import atomic_write_bytes, atomic_write_json, canonical_json_bytes
from packer.files.project import create_project
from packer.mutations import MutationAction, MutationRequest, apply_mutation, preview_mutation
from tests.packer.project_builder import write_asset


def test_a_write_that_fails_midway_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "index.json"
    target.write_bytes(b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(target, b"new" * 1000)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]


def test_a_successful_write_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "cache.json"
    atomic_write_json(target, {"b": 1, "a": [1, 2]})
    assert target.read_text(encoding="utf-8") == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    atomic_write_bytes(target, b"x")
    assert target.read_bytes() == b"x"


def test_canonical_json_is_byte_stable_and_refuses_nan() -> None:
    assert canonical_json_bytes({"b": {"d": 1, "c": 2}, "a": "é"}) == (
        '{"a":"é","b":{"c":2,"d":1}}'.encode()
    )
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_json_bytes({"x": float("nan")})


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask(
    tmp_path: Path, umask_022: None
) -> None:
    shared = tmp_path / "shared.json"
    shared.write_text("{}")
    shared.chmod(0o640)
    atomic_write_json(shared, {"a": 1})
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.json"
    atomic_write_json(fresh, {"b": 2})
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644


def test_init_and_mutations_leave_project_files_readable_by_others(
    tmp_path: Path, umask_022: None
) -> None:
    project = create_project(tmp_path / "game", "game")
    assert stat.S_IMODE(project.registry_path.stat().st_mode) == 0o644
    assert stat.S_IMODE((project.root / "prometeu.json").stat().st_mode) == 0o644
    write_asset(project, "data/level1")
    anchor = project.assets_dir / "data" / "level1" / "asset.json"
    anchor.chmod(0o664)
    preview = preview_mutation(project, MutationRequest(
        action=MutationAction.RENAME, asset=1, name="renamed"))
    assert apply_mutation(project, preview, consent=True).applied
    assert stat.S_IMODE(anchor.stat().st_mode) == 0o664
    assert stat.S_IMODE(project.registry_path.stat().st_mode) == 0o644
