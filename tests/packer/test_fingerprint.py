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
    music = project.assets_dir / "sounds" / "music"
    soon = time.time_ns() + 10 * 10**9  # racy for the preview, however slow the machine
    os.utime(music / "data.bin", ns=(soon, soon))
    preview = preview_of(project, MutationAction.REMOVE, "sounds/music")
    assert not preview.blocked and preview.fingerprint.taken_at_ns is not None
    later = preview.fingerprint.taken_at_ns + 10 * RACY_WINDOW_NS
    monkeypatch.setattr(time, "time_ns", lambda: later)
    result = apply_mutation(project, preview, consent=True, lock_timeout=0)
    assert result.outcome is MutationOutcome.APPLIED, result.message
    assert not music.exists()


def test_a_racy_file_touched_without_any_other_change_still_counts(project: Project) -> None:
    """Content is added to size and mtime for a racy file, never put in their place."""
    data = project.assets_dir / "sprites" / "hero" / "data.bin"
    for rel in ("sprites/hero", "sprites/hero/data.bin"):
        os.utime(data, ns=(AGED_NS, AGED_NS))
        before = _tree(project, rel, as_of_ns=AGED_NS)
        os.utime(data, ns=(AGED_NS + 1, AGED_NS + 1))
        assert _tree(project, rel, as_of_ns=AGED_NS) != before, rel


def test_the_window_edge_is_racy_for_a_tree_that_is_one_file(project: Project) -> None:
    data = project.assets_dir / "sprites" / "hero" / "data.bin"
    edge = AGED_NS + RACY_WINDOW_NS
    before = _tree(project, "sprites/hero/data.bin", as_of_ns=edge)
    _rewrite_keeping_size_and_mtime(data)
    assert _tree(project, "sprites/hero/data.bin", as_of_ns=edge) != before


def test_a_file_moved_between_sub_folders_changes_the_tree(project: Project) -> None:
    hero = project.assets_dir / "sprites" / "hero"
    (hero / "a").mkdir()
    (hero / "b").mkdir()
    (hero / "a" / "x.bin").write_bytes(b"x")
    _age(hero)
    before = _tree(project, "sprites/hero", as_of_ns=AGED_NS + 10 * RACY_WINDOW_NS)
    (hero / "a" / "x.bin").rename(hero / "b" / "x.bin")
    assert _tree(project, "sprites/hero", as_of_ns=AGED_NS + 10 * RACY_WINDOW_NS) != before


def test_a_renamed_sub_folder_changes_the_tree(project: Project) -> None:
    hero = project.assets_dir / "sprites" / "hero"
    (hero / "tiles").mkdir()
    (hero / "tiles" / "x.bin").write_bytes(b"x")
    _age(hero)
    before = _tree(project, "sprites/hero", as_of_ns=AGED_NS + 10 * RACY_WINDOW_NS)
    (hero / "tiles").rename(hero / "tiles_old")
    assert _tree(project, "sprites/hero", as_of_ns=AGED_NS + 10 * RACY_WINDOW_NS) != before


def test_a_renamed_link_changes_the_tree(project: Project, tmp_path: Path) -> None:
    hero = project.assets_dir / "sprites" / "hero"
    (hero / "one").symlink_to(tmp_path, target_is_directory=True)
    os.utime(hero / "one", ns=(AGED_NS, AGED_NS), follow_symlinks=False)
    before = _tree(project, "sprites/hero", as_of_ns=AGED_NS + 10 * RACY_WINDOW_NS)
    (hero / "one").rename(hero / "two")
    os.utime(hero / "two", ns=(AGED_NS, AGED_NS), follow_symlinks=False)
    assert _tree(project, "sprites/hero", as_of_ns=AGED_NS + 10 * RACY_WINDOW_NS) != before


def test_names_that_are_not_utf8_are_fingerprinted(project: Project) -> None:
    """A file or folder name with bytes that are not UTF-8 (possible on Linux) is digested like
    any other, never a traceback; its edits are seen."""
    hero = os.fsencode(project.assets_dir / "sprites" / "hero")
    os.mkdir(hero + b"/dir\xff")
    odd = hero + b"/dir\xff/file\xfe.bin"
    with open(odd, "wb") as out:
        out.write(b"odd")
    before = _tree(project, "sprites/hero", as_of_ns=time.time_ns())
    with open(odd, "ab") as out:
        out.write(b" and more")
    assert _tree(project, "sprites/hero", as_of_ns=time.time_ns()) != before


def test_a_source_folder_outside_the_project_is_fingerprinted(
    project: Project, tmp_path: Path,
) -> None:
    source = tmp_path / "downloads" / "hero"
    source.mkdir(parents=True)
    (source / "tile.png").write_bytes(b"png")
    key = f"source:{source}"
    before = fingerprint(project, sources=(str(source),)).parts[key]
    (source / "tile.png").write_bytes(b"png, redrawn")
    assert fingerprint(project, sources=(str(source),)).parts[key] != before


def test_a_root_with_a_space_is_fingerprinted_where_it_is(project: Project) -> None:
    folder = project.assets_dir / "my art" / "hero"
    folder.mkdir(parents=True)
    (folder / "asset.json").write_text("{}", encoding="utf-8")
    parts = fingerprint(project, trees=("my art/hero",), files=("my art/hero/asset.json",)).parts
    assert parts["tree:my art/hero"] != ABSENT
    assert parts["file:my art/hero/asset.json"] != ABSENT


def test_a_linked_file_part_is_never_read_through_its_link(
    project: Project, tmp_path: Path,
) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text("{}", encoding="utf-8")
    link = project.assets_dir / "sprites" / "linked.json"
    link.symlink_to(outside)
    before = fingerprint(project, files=("sprites/linked.json",)).parts["file:sprites/linked.json"]
    outside.write_text('{"changed": true}', encoding="utf-8")
    assert fingerprint(project, files=("sprites/linked.json",)).parts[
        "file:sprites/linked.json"] == before


def test_a_registry_change_names_the_registry(project: Project) -> None:
    preview = preview_of(project, MutationAction.REMOVE, "sprites/hero")
    # Another asset's change: the registry is one file, and the preview saw all of it.
    excluded = apply_mutation(project, preview_of(project, MutationAction.EXCLUDE, "sounds/music"),
                              consent=True, lock_timeout=0)
    assert excluded.outcome is MutationOutcome.APPLIED, excluded.message
    result = apply_mutation(project, preview, consent=True, lock_timeout=0)
    assert result.outcome is MutationOutcome.REFUSED
    assert result.message.startswith("the preview is stale: the registry "
                                     "(assets/.prometeu/index.json) changed since it was made")
    assert (project.assets_dir / "sprites" / "hero").is_dir()


def test_a_file_that_cannot_be_inspected_is_recorded_and_the_rest_still_counts(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file removed between the walk's listing and its lstat (a concurrent delete) makes no
    traceback: it is recorded as unreadable, and the files after it are still digested."""
    hero = project.assets_dir / "sprites" / "hero"
    vanishing = os.fsdecode(b"a_gone\xff.bin")  # sorts first; a name that is not UTF-8
    (hero / vanishing).write_bytes(b"soon gone")
    real_lstat = Path.lstat

    def lstat(self: Path) -> os.stat_result:
        if self.name == vanishing:
            raise FileNotFoundError(2, "removed meanwhile", str(self))
        return real_lstat(self)

    monkeypatch.setattr(Path, "lstat", lstat)
    as_of = AGED_NS + 10 * RACY_WINDOW_NS
    before = _tree(project, "sprites/hero", as_of)
    _rewrite_keeping_size_and_mtime(hero / "asset.json")
    assert _tree(project, "sprites/hero", as_of) != before
