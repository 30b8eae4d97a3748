"""The stale-preview fingerprint (packer/mutations/fingerprint.py): which edits change a part.

Size and mtime are hints; content decides for asset.json files and for files modified within
the racy window of the preview's moment (`as_of_ns`, passed explicitly here: no clock, no sleep).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from packer.files.project import Project
from packer.mutations import MutationAction, MutationOutcome, apply_mutation
from packer.mutations.fingerprint import ABSENT, RACY_WINDOW_NS, fingerprint
from tests.packer.mutation_support import make_project, preview_of

AGED_NS = 1_600_000_000 * 10**9  # 2020: far outside any racy window of "now"


def _age(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            os.utime(Path(folder) / name, ns=(AGED_NS, AGED_NS))


def _rewrite_keeping_size_and_mtime(path: Path) -> None:
    before = path.stat()
    data = path.read_bytes()
    path.write_bytes(bytes(reversed(data)))
    assert path.read_bytes() != data and len(path.read_bytes()) == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    _age(project.assets_dir / "sprites")
    return project


def _tree(project: Project, rel: str, as_of_ns: int) -> str:
    return fingerprint(project, trees=(rel,), as_of_ns=as_of_ns).parts[f"tree:{rel}"]


def test_an_asset_json_edit_keeping_size_and_mtime_is_seen_however_old_the_file(
    project: Project,
) -> None:
    before = _tree(project, "sprites/hero", as_of_ns=AGED_NS + 10 * RACY_WINDOW_NS)
    _rewrite_keeping_size_and_mtime(project.assets_dir / "sprites" / "hero" / "asset.json")
    assert _tree(project, "sprites/hero", as_of_ns=AGED_NS + 10 * RACY_WINDOW_NS) != before


def test_other_files_are_compared_by_content_only_within_the_racy_window(
    project: Project,
) -> None:
    data = project.assets_dir / "sprites" / "hero" / "data.bin"
    edge = AGED_NS + RACY_WINDOW_NS  # the file's mtime is exactly at the window's start: racy
    past = edge + 1  # one nanosecond later the file is old enough for its hints to be trusted
    racy_before, aged_before = _tree(project, "sprites/hero", edge), _tree(
        project, "sprites/hero", past)
    _rewrite_keeping_size_and_mtime(data)
    assert _tree(project, "sprites/hero", edge) != racy_before
    # Outside the window only size and mtime count (as in the build cache): no read of every file.
    assert _tree(project, "sprites/hero", past) == aged_before


def test_a_file_modified_after_the_preview_moment_is_compared_by_content(
    project: Project,
) -> None:
    data = project.assets_dir / "sprites" / "hero" / "data.bin"
    os.utime(data, ns=(AGED_NS + 5, AGED_NS + 5))
    before = _tree(project, "sprites/hero", as_of_ns=AGED_NS)
    _rewrite_keeping_size_and_mtime(data)
    assert _tree(project, "sprites/hero", as_of_ns=AGED_NS) != before


def test_a_tree_that_is_one_file_is_compared_by_content_within_the_window(
    project: Project,
) -> None:
    data = project.assets_dir / "sprites" / "hero" / "data.bin"
    before = _tree(project, "sprites/hero/data.bin", as_of_ns=AGED_NS)
    aged_before = _tree(project, "sprites/hero/data.bin", as_of_ns=AGED_NS + RACY_WINDOW_NS + 1)
    _rewrite_keeping_size_and_mtime(data)
    assert _tree(project, "sprites/hero/data.bin", as_of_ns=AGED_NS) != before
    assert _tree(project, "sprites/hero/data.bin",
                 as_of_ns=AGED_NS + RACY_WINDOW_NS + 1) == aged_before


def test_a_missing_tree_and_file_are_absent(project: Project) -> None:
    parts = fingerprint(project, trees=("nowhere",), files=("nowhere/asset.json",)).parts
    assert parts["tree:nowhere"] == ABSENT and parts["file:nowhere/asset.json"] == ABSENT


def test_a_linked_folder_in_a_tree_counts_as_the_link_never_as_its_target(
    project: Project, tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big.bin").write_bytes(b"not the project's")
    other = tmp_path / "other"
    other.mkdir()
    hero = project.assets_dir / "sprites" / "hero"
    (hero / "ref").symlink_to(outside, target_is_directory=True)
    as_of = AGED_NS + 10 * RACY_WINDOW_NS
    before = _tree(project, "sprites/hero", as_of)
    # Moving or deleting the tree moves or deletes the link, never what it points to.
    (outside / "big.bin").write_bytes(b"changed outside the project")
    (outside / "new.bin").write_bytes(b"added outside the project")
    assert _tree(project, "sprites/hero", as_of) == before
    (hero / "ref").unlink()
    (hero / "ref").symlink_to(other, target_is_directory=True)
    os.utime(hero / "ref", ns=(AGED_NS, AGED_NS), follow_symlinks=False)
    os.utime(hero, ns=(AGED_NS, AGED_NS))
    assert _tree(project, "sprites/hero", as_of) != before


def test_an_apply_judges_racy_files_at_the_preview_moment(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A preview of a file written just before it stays valid when applied after the file has
    aged out of the window: both digests include the content, none is refused as stale."""
    music = project.assets_dir / "sounds" / "music"  # written by make_project: racy now
    preview = preview_of(project, MutationAction.REMOVE, "sounds/music")
    assert not preview.blocked and preview.fingerprint.taken_at_ns is not None
    later = preview.fingerprint.taken_at_ns + 10 * RACY_WINDOW_NS
    monkeypatch.setattr(time, "time_ns", lambda: later)
    result = apply_mutation(project, preview, consent=True, lock_timeout=0)
    assert result.outcome is MutationOutcome.APPLIED, result.message
    assert not music.exists()
