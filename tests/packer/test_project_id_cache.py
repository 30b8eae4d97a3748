"""Project.project_id reads the registry again only when the file changed (or just changed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from packer.files import project as project_module
from packer.files.project import Project, open_project
from packer.files.registry import Registry, load_registry
from tests.packer.project_builder import make_project, write_asset


def test_the_id_is_read_once_per_registry_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path)
    write_asset(project, "a")
    expected = project.load_registry().project_id
    reads: list[Path] = []

    def counting(path: Path) -> Registry:
        reads.append(path)
        return load_registry(path)

    monkeypatch.setattr(project_module, "load_registry", counting)
    assert project.project_id == expected and project.project_id == expected
    assert len(reads) == 2  # just written (ctime inside the racy window): never kept
    monkeypatch.setattr(project_module, "_RACY_NS", -10**12)  # as if written long ago
    assert project.project_id == expected
    assert open_project(project.root).project_id == expected  # another Project, same file
    assert len(reads) == 3
    write_asset(project, "b")  # an atomic rewrite of the registry: read again
    reads.clear()
    assert project.project_id == expected and project.project_id == expected
    assert len(reads) == 1
    project.registry_path.write_text("{")  # unusable now: prometeu.json's id, as before
    assert project.project_id == project.file.project_id
    project.registry_path.unlink()
    assert project.project_id == project.file.project_id


def test_a_broken_registry_still_falls_back(tmp_path: Path) -> None:
    project: Project = make_project(tmp_path)
    project.registry_path.write_text('{"project_id": "x", "assets": "not a list"}')
    assert project.project_id == project.file.project_id


def test_the_registry_validated_for_the_id_serves_the_next_load_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full build names its project_id, then scans: one validation of the registry for both.
    project = make_project(tmp_path)
    write_asset(project, "a")
    fresh = load_registry(project.registry_path)
    reads: list[Path] = []

    def counting(path: Path) -> Registry:
        reads.append(path)
        return load_registry(path)

    monkeypatch.setattr(project_module, "load_registry", counting)
    monkeypatch.setattr(project_module, "_RACY_NS", -10**12)  # as if written long ago
    assert project.project_id == fresh.project_id and len(reads) == 1
    assert project.load_registry() == fresh and len(reads) == 1  # the validated one
    assert project.load_registry() == fresh and len(reads) == 2  # taken once, not kept
    project_module._REGISTRY_IDS.clear()
    assert project.project_id == fresh.project_id and len(reads) == 3
    write_asset(project, "b")  # the registry is another file now
    reads.clear()
    changed = project.load_registry()
    assert len(reads) == 1 and len(changed.assets) == len(fresh.assets) + 1


def test_a_registry_just_written_is_never_kept_for_the_next_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path)
    write_asset(project, "a")
    reads: list[Path] = []

    def counting(path: Path) -> Registry:
        reads.append(path)
        return load_registry(path)

    monkeypatch.setattr(project_module, "load_registry", counting)
    assert project.project_id and project.load_registry() and len(reads) == 2
