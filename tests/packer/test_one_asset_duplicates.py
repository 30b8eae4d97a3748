"""PK202 of one asset read with the listing's index: its own files are hashed (or their hash
taken) as they are now, the others' come from the hashes the listing grouped by size, and the
findings are the ones a full read gives (text, order, which assets)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from packer.diagnostics import Diagnostic
from packer.doctor import hygiene, one_asset
from packer.doctor.hash_cache import HashCache
from packer.doctor.hygiene import WorkspaceFile, find_duplicates, list_workspace_files
from packer.doctor.queries import get_asset_details, list_assets_indexed, workspace_index
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from tests.packer.project_builder import make_project, write_asset


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths (relative to assets/) whose hash a one-asset read asked for. Hashing is dated
    10 s ahead: the fixtures' files were just written, inside the racy window of a hash made now,
    and the listing's hashes would never be trusted."""
    asked: list[str] = []
    real = one_asset._hash

    def counting(project, item: WorkspaceFile, known, token):  # type: ignore[no-untyped-def]
        asked.append(item.path)
        return real(project, item, known, token)

    def ahead() -> int:
        return time.time_ns() + 10_000_000_000

    monkeypatch.setattr(one_asset, "_hash", counting)
    monkeypatch.setattr(hygiene, "hash_now_ns", ahead)
    monkeypatch.setattr(one_asset, "hash_now_ns", ahead)
    return asked


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    write_asset(project, "a", files={"data.bin": b"AAAA", "own.bin": b"unique-a"})
    write_asset(project, "b", files={"data.bin": b"AAAA", "pair1.bin": b"PP", "pair2.bin": b"PP"})
    write_asset(project, "c", files={"data.bin": b"AAAA"})
    write_asset(project, "d", files={"data.bin": b"DDDD", "other.bin": b"other-d-file"})
    (project.assets_dir / "loose.bin").write_bytes(b"DDDD")  # outside every root
    return project


def pk202(found: list[Diagnostic] | tuple[Diagnostic, ...]) -> list[tuple[str | None, str]]:
    return [(d.root, d.message) for d in found if d.code == "PK202"]


def fast_and_full(project: Project, root: str, index: one_asset.WorkspaceIndex
                  ) -> list[tuple[str | None, str]]:
    fast = get_asset_details(project, root, index=index)
    assert pk202(fast.diagnostics) == pk202(get_asset_details(project, root).diagnostics)
    return pk202(fast.diagnostics)


def test_duplicates_as_a_full_read_finds_them(project: Project, hashed: list[str]) -> None:
    _listing, index = list_assets_indexed(project)
    assert fast_and_full(project, "a", index) == []  # the first of its group by path
    assert fast_and_full(project, "b", index) == [
        ("b", "assets/b/data.bin has the same content as assets/a/data.bin (and 1 more)"),
        ("b", "assets/b/pair2.bin has the same content as assets/b/pair1.bin")]
    assert fast_and_full(project, "c", index) == [
        ("c", "assets/c/data.bin has the same content as assets/a/data.bin (and 1 more)")]
    assert fast_and_full(project, "d", index) == []  # loose.bin, the copy, is in no asset


def test_only_the_assets_own_files_are_hashed(project: Project, hashed: list[str]) -> None:
    """The others' hashes are the listing's, grouped once: none is looked up again."""
    _listing, index = list_assets_indexed(project)
    hashed.clear()
    get_asset_details(project, "c", index=index)
    assert set(hashed) == {"c/asset.json", "c/data.bin"}  # the asset.json are all one size
    hashed.clear()
    get_asset_details(project, "b", index=index)
    assert set(hashed) == {"b/asset.json", "b/data.bin", "b/pair1.bin", "b/pair2.bin"}


def test_a_file_alone_of_its_size_is_not_hashed(project: Project, hashed: list[str]) -> None:
    _listing, index = list_assets_indexed(project)
    hashed.clear()
    assert fast_and_full(project, "a", index) == []
    assert set(hashed) == {"a/asset.json", "a/data.bin"}  # not own.bin: alone of its size


def test_an_edit_after_the_listing_ends_a_duplicate(project: Project, hashed: list[str]
                                                     ) -> None:
    _listing, index = list_assets_indexed(project)
    (project.assets_dir / "c/data.bin").write_bytes(b"CCCC")  # same size, other content
    assert fast_and_full(project, "c", index) == []
    _listing, index = list_assets_indexed(project)  # (the others are as the index saw them)
    (project.assets_dir / "b/pair2.bin").write_bytes(b"QQQ")  # another size
    assert fast_and_full(project, "b", index) == [
        ("b", "assets/b/data.bin has the same content as assets/a/data.bin")]


def test_an_edit_after_the_listing_makes_a_duplicate(project: Project, hashed: list[str]
                                                      ) -> None:
    _listing, index = list_assets_indexed(project)
    (project.assets_dir / "d/data.bin").write_bytes(b"AAAA")  # same size, now a copy of a's
    assert fast_and_full(project, "d", index) == [
        ("d", "assets/d/data.bin has the same content as assets/a/data.bin (and 2 more)")]
    (project.assets_dir / "d/other.bin").write_bytes(b"unique-a")  # a's own.bin was alone
    (project.assets_dir / "d/new.bin").write_bytes(b"PP")  # a new file, a copy of b's pair
    assert fast_and_full(project, "d", index) == [
        ("d", "assets/d/data.bin has the same content as assets/a/data.bin (and 2 more)"),
        ("d", "assets/d/other.bin has the same content as assets/a/own.bin"),
        ("d", "assets/d/new.bin has the same content as assets/b/pair1.bin (and 1 more)")]


def test_files_the_listing_hashed_too_recently_are_hashed(tmp_path: Path) -> None:
    """Without the clock put ahead, the listing's hashes of just-written files are inside the
    racy window: the index holds no hash it trusts for them, so the read hashes them."""
    project = make_project(tmp_path)
    write_asset(project, "a", files={"data.bin": b"AAAA"})
    write_asset(project, "b", files={"data.bin": b"AAAA"})
    _listing, index = list_assets_indexed(project)
    assert [f.path for f in index.same_size[4].unhashed] == ["a/data.bin", "b/data.bin"]
    assert pk202(get_asset_details(project, "b", index=index).diagnostics) == [
        ("b", "assets/b/data.bin has the same content as assets/a/data.bin")]


def test_an_index_made_after_a_mutation_groups_the_saved_hashes(project: Project,
                                                                 hashed: list[str]) -> None:
    """workspace_index (after a mutation; a rescan likewise) groups the hashes the last
    listing saved: the read still hashes only its own files."""
    list_assets_indexed(project)  # saves hashes.json
    index = workspace_index(project)
    assert [f.path for f in index.same_size[4].unhashed] == []
    hashed.clear()
    assert fast_and_full(project, "c", index) == [
        ("c", "assets/c/data.bin has the same content as assets/a/data.bin (and 1 more)")]
    assert {p.split("/")[0] for p in hashed} == {"c"}


def test_hashes_made_inside_the_racy_window_are_not_kept(tmp_path: Path) -> None:
    """The listing keeps, per size, only the hashes a later read may trust: one recorded long
    after its file changed, not the ones it just made of files written just now."""
    project = make_project(tmp_path)
    for root in ("a", "b", "c"):
        write_asset(project, root, files={"data.bin": b"AAAA"})
    files = [f for f in list_workspace_files(project.assets_dir, CancellationToken())
             if f.path.endswith("data.bin")]
    digest = hygiene.content_hash(project.assets_dir / "a/data.bin", CancellationToken())
    assert digest is not None
    later = time.time_ns() + 10_000_000_000
    known = HashCache(project.packer_dir / "hashes.json",
                      known={"a/data.bin": (files[0].fingerprint, later, digest)})
    seen: dict[int, hygiene.SameSize] = {}
    assert find_duplicates(project.assets_dir, [files], CancellationToken(), known=known,
                           seen=seen) == [["a/data.bin", "b/data.bin", "c/data.bin"]]
    assert seen[4].by_digest == {digest: ["a/data.bin"]}
    assert [f.path for f in seen[4].unhashed] == ["b/data.bin", "c/data.bin"]
