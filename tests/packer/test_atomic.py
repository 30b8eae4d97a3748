"""Atomic writes: readers see the old bytes or the new ones, and a failed write leaves no trace."""

from __future__ import annotations

import errno
import os
import secrets
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


def test_pretty_json_keeps_non_ascii_text_readable_and_refuses_nan() -> None:
    from packer.files.atomic import pretty_json_bytes

    assert pretty_json_bytes({"name": "água"}) == '{\n  "name": "água"\n}\n'.encode()
    with pytest.raises(ValueError, match="JSON compliant"):
        pretty_json_bytes({"x": float("inf")})


def test_missing_parent_folders_are_made_at_any_depth(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c" / "cache.json"
    atomic_write_bytes(target, b"x")
    assert target.read_bytes() == b"x"


def test_a_folder_that_cannot_be_synced_does_not_fail_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Some platforms and file systems refuse fsync on a directory: the file is written anyway.
    real_fsync = os.fsync

    def fsync_files_only(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_files_only)
    target = tmp_path / "index.json"
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"


def test_the_original_error_is_raised_when_the_temp_file_is_already_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "index.json"
    target.write_bytes(b"old")

    def temp_removed_then_rename_fails(src: Path, dst: Path) -> None:
        Path(src).unlink()  # e.g. another process cleaned up the stray temp file
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", temp_removed_then_rename_fails)
    with pytest.raises(OSError, match="Input/output error"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"


def _fixed_token(monkeypatch: pytest.MonkeyPatch, tokens: list[str]) -> list[str]:
    """Make the temp file names predictable: each call takes the next token (the last repeats)."""
    drawn: list[str] = []

    def token_hex(nbytes: int) -> str:
        token = tokens[min(len(drawn), len(tokens) - 1)]
        drawn.append(token)
        return token

    monkeypatch.setattr(secrets, "token_hex", token_hex)
    return drawn


def test_an_existing_temp_name_is_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Someone else's file that happens to have the temp name must survive untouched.
    stranger = tmp_path / ".index.json.aaaaaaaaaaaa.tmp"
    stranger.write_bytes(b"not mine")
    drawn = _fixed_token(monkeypatch, ["aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    target = tmp_path / "index.json"
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert stranger.read_bytes() == b"not mine"
    assert drawn == ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [stranger.name, "index.json"]


def test_after_a_hundred_taken_temp_names_the_write_gives_up_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".index.json.cccccccccccc.tmp").write_bytes(b"")
    drawn = _fixed_token(monkeypatch, ["cccccccccccc"])
    target = tmp_path / "index.json"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError) as caught:
        atomic_write_bytes(target, b"new")
    assert len(drawn) == 100
    assert caught.value.errno == errno.EEXIST
    assert caught.value.strerror == "no free temporary name"
    assert caught.value.filename == str(tmp_path)
    assert target.read_bytes() == b"old"


def test_the_temp_file_is_a_hidden_sibling_that_crash_recovery_recognises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_replace = os.replace

    def record(src: Path, dst: Path) -> None:
        seen.append(Path(src).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", record)
    atomic_write_bytes(tmp_path / "index.json", b"x")
    [name] = seen
    # packer/files/steps.py removes strays with the glob `.<name>.*.tmp`.
    assert Path(name).match(".index.json.*.tmp")
    # A short random part: a name near the file system's 255-byte limit still gets a temp file.
    assert len(name) == len(".index.json.") + 12 + len(".tmp")
