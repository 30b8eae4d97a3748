"""Atomic writes: readers see the old bytes or the new ones, and a failed write leaves no trace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from packer.files.atomic import atomic_write_bytes, atomic_write_json, canonical_json_bytes


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
