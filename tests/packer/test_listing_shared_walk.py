"""The listing's duplicate check works from the snapshot's own walk (no second walk of assets/)
and finds exactly what its own walk found."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from packer.doctor import queries
from packer.doctor.hash_cache import HashCache
from packer.doctor.hygiene import list_workspace_files, workspace_files_of_walk
from packer.doctor.queries import list_assets_report
from packer.doctor.service import doctor
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.workspace.scan import build_snapshot_with_walk
from packer.workspace.walk import walk_assets
from tests.packer.project_builder import make_project, write_asset


@pytest.fixture
def tangled(tmp_path: Path) -> Project:
    """Nested folders whose names sort differently as paths and as names (`a/b` vs `a.txt`),
    copies in several roots, an empty file, links, a FIFO and a folder linked inside assets/."""
    project = make_project(tmp_path)
    write_asset(project, "a", files={"data.bin": b"SAME", "b/deep.bin": b"SAME",
                                     "empty.bin": b""})
    write_asset(project, "a.txt", files={"data.bin": b"SAME"})
    write_asset(project, "a-x/nested", files={"data.bin": b"DIFF", "extra.bin": b"SAME"})
    (project.assets_dir / "loose.bin").write_bytes(b"SAME")
    (project.assets_dir / "a/link.bin").symlink_to("data.bin")
    (project.assets_dir / "a/dangling.bin").symlink_to("nowhere.bin")
    (project.assets_dir / "a/linked_folder").symlink_to(project.assets_dir / "a.txt")
    os.mkfifo(project.assets_dir / "a/pipe")
    (project.packer_dir / "ignored.bin").write_bytes(b"SAME")
    if sys.platform == "linux":  # a name that is not UTF-8: skipped by both
        with open(os.fsencode(project.assets_dir / "a") + b"/bad\xff.bin", "wb") as bad:
            bad.write(b"SAME")
    return project


def test_the_walks_files_are_those_a_second_walk_finds(tangled: Project) -> None:
    token = CancellationToken()
    walk = walk_assets(tangled.assets_dir, token)
    own = list_workspace_files(tangled.assets_dir, token)
    assert workspace_files_of_walk(tangled.assets_dir, walk, token) == own
    assert [f.path for f in own] == ["a-x/nested/asset.json", "a-x/nested/data.bin",
                                     "a-x/nested/extra.bin", "a.txt/asset.json",
                                     "a.txt/data.bin", "a/asset.json", "a/b/deep.bin",
                                     "a/data.bin", "a/empty.bin", "loose.bin"]


def test_the_shared_walk_finds_the_same_duplicates(tangled: Project, tmp_path: Path) -> None:
    token = CancellationToken()
    snapshot, walk = build_snapshot_with_walk(tangled, token)
    from_walk = queries._duplicates_by_root(
        tangled, snapshot, workspace_files_of_walk(tangled.assets_dir, walk, token),
        HashCache(tmp_path / "h1.json"), token)
    own = queries._duplicates_by_root(
        tangled, snapshot, list_workspace_files(tangled.assets_dir, token),
        HashCache(tmp_path / "h2.json"), token)
    assert from_walk == own
    assert sorted(d.file or "" for found in own.values() for d in found) == [
        "b/deep.bin", "data.bin", "data.bin"]  # (a-x/nested/extra.bin sorts first)


def test_the_listing_walks_assets_once(tangled: Project, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    expected = {a.root: a.warnings for a in list_assets_report(tangled).assets}
    walks: list[str] = []
    real_scandir = os.scandir

    def counted(path):  # type: ignore[no-untyped-def]
        walks.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counted)
    listing = list_assets_report(tangled)
    assert {a.root: a.warnings for a in listing.assets} == expected
    assert len(walks) == len(set(walks))  # no folder listed twice
    assert expected["a.txt"] == 1 and expected["a"] == 2  # (PK202 each, plus PK203 for a)



def test_doctor_workspace_walks_assets_once(tangled: Project, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    expected = doctor(tangled, workspace=True)
    walks: list[str] = []
    real_scandir = os.scandir

    def counted(path):  # type: ignore[no-untyped-def]
        walks.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counted)
    assert doctor(tangled, workspace=True) == expected
    assert len(walks) == len(set(walks))
    assert sorted(d.message.split()[0] for d in expected.diagnostics if d.code == "PK202") == [
        "assets/a.txt/data.bin", "assets/a/b/deep.bin", "assets/a/data.bin", "assets/loose.bin"]
