"""A file edited after a Remove preview makes the preview stale: the apply refuses and the edit
survives. The deliberate-bug check of issue 13 found a fingerprint that ignored size and mtime
passed the suite; these edits change only the size, or only the mtime, or neither (an edit in
the same timestamp tick as the preview: the fingerprint then compares content)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from packer.mutations import MutationAction, MutationOutcome, apply_mutation
from packer.mutations.fingerprint import describe_differences
from tests.packer.mutation_support import make_project, preview_of


@pytest.mark.parametrize(("edit", "age"), [
    ("size", "recent"), ("mtime", "recent"), ("content", "recent"),
    # An old file (outside the racy window) is not read for its content: only its size, or only
    # its modification time, tells that it changed.
    ("size", "old"), ("mtime", "old"),
])
def test_an_input_edited_after_a_remove_preview_is_not_deleted(
    tmp_path: Path, edit: str, age: str
) -> None:
    project = make_project(tmp_path)
    data = project.assets_dir / "sprites" / "hero" / "data.bin"
    # Recent: saved "just now" as the preview sees it, however slow the machine (a coarse clock
    # or a save in the preview's tick: within the racy window). Old: saved in 2020.
    when = time.time_ns() + 10 * 10**9 if age == "recent" else 1_600_000_000 * 10**9
    os.utime(data, ns=(when, when))
    before = data.stat()
    preview = preview_of(project, MutationAction.REMOVE, "sprites/hero")
    assert not preview.blocked
    if edit == "size":  # longer, with the old modification time put back: only the size tells
        data.write_bytes(data.read_bytes() + b" and the user's new work")
        os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif edit == "mtime":  # same length, new content: only the modification time tells
        data.write_bytes(bytes(reversed(data.read_bytes())))
        os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    else:  # same length and mtime (a coarse clock, or a save within the preview's tick)
        data.write_bytes(bytes(reversed(data.read_bytes())))
        os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    edited = data.read_bytes()
    result = apply_mutation(project, preview, consent=True, lock_timeout=0)
    assert result.outcome is MutationOutcome.REFUSED
    assert "stale" in result.message and "sprites/hero" in result.message
    assert data.read_bytes() == edited


def test_the_stale_parts_are_named_as_the_user_knows_them() -> None:
    assert describe_differences(["registry", "tree:sprites/hero", "file:odd:name/asset.json",
                                 "source:/home/me/art:v2/hero.png"]) == (
        "the registry (assets/.prometeu/index.json), assets/sprites/hero, "
        "assets/odd:name/asset.json, /home/me/art:v2/hero.png")
