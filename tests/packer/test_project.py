"""The project folder: opening, creating, initialising, and a project_id that never changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from packer.errors import NotAProjectError, ProjectFileError, RegistryError
from packer.files.project import PROJECT_FILE, create_project, init_workspace, open_project
from packer.files.registry import Registry, RegistryEntry, load_registry, parse_registry


def test_create_then_open_gives_an_initialised_project_with_an_empty_registry(
    tmp_path: Path,
) -> None:
    created = create_project(tmp_path / "quest", "quest")
    project = open_project(tmp_path / "quest")
    assert project.name == "quest"
    assert project.initialised
    registry = project.load_registry()
    assert registry.assets == () and registry.next_asset_id == 1
    assert registry.project_id == created.file.project_id


def test_project_id_is_stable_across_runs_and_when_the_folder_moves(tmp_path: Path) -> None:
    first = create_project(tmp_path / "a", "quest").project_id
    assert open_project(tmp_path / "a").project_id == first  # another run
    shutil.move(tmp_path / "a", tmp_path / "elsewhere")
    assert open_project(tmp_path / "elsewhere").project_id == first


def test_init_takes_the_project_files_id_and_is_idempotent(tmp_path: Path) -> None:
    root = tmp_path / "game"
    root.mkdir()
    pid = "0f0e0d0c-0b0a-4908-8706-050403020100"
    (root / PROJECT_FILE).write_text(json.dumps({"name": "game", "project_id": pid}))
    project = open_project(root)
    assert not project.initialised
    assert init_workspace(project).project_id == pid
    before = project.registry_path.read_bytes()
    init_workspace(project)  # a second init keeps the existing registry byte for byte
    assert project.registry_path.read_bytes() == before


def test_a_hand_written_project_without_id_gets_one_at_init_that_then_sticks(
    tmp_path: Path,
) -> None:
    root = tmp_path / "game"
    root.mkdir()
    (root / PROJECT_FILE).write_text('{"name": "game", "compiler": {"opt": 2}}')
    project = open_project(root)
    derived = project.project_id  # before init: derived from the name, still stable
    assert derived == open_project(root).project_id
    pid = init_workspace(project).project_id
    assert open_project(root).project_id == pid
    assert open_project(root).file.model_extra == {"compiler": {"opt": 2}}  # others' keys kept


@pytest.mark.parametrize(
    ("setup", "error", "words"),
    [
        (lambda p: None, NotAProjectError, "does not exist"),
        (lambda p: p.write_text("x"), NotAProjectError, "is a file"),
        (lambda p: p.mkdir(), NotAProjectError, "has no prometeu.json"),
        (lambda p: (p.mkdir(), (p / PROJECT_FILE).write_text("{nope")), ProjectFileError,
         "not valid UTF-8 JSON"),
        (lambda p: (p.mkdir(), (p / PROJECT_FILE).write_text('{"name": ""}')), ProjectFileError,
         "invalid at name"),
    ],
)
def test_opening_something_that_is_not_a_project_says_what_was_expected(
    tmp_path: Path, setup: object, error: type[Exception], words: str
) -> None:
    target = tmp_path / "thing"
    setup(target)  # type: ignore[operator]
    with pytest.raises(error, match=words):
        open_project(target)


def test_creating_over_an_existing_project_is_refused(tmp_path: Path) -> None:
    create_project(tmp_path / "a", "quest")
    with pytest.raises(ProjectFileError, match="already holds a project"):
        create_project(tmp_path / "a", "other")


def test_registry_round_trips_sorted_and_rejects_a_reused_or_stale_allocator(
    tmp_path: Path,
) -> None:
    project = create_project(tmp_path / "a", "quest")
    uuid = "00000000-0000-4000-8000-00000000000{}"
    registry = Registry(project_id="p", next_asset_id=4, assets=(
        RegistryEntry(asset_id=3, root="b", asset_uuid=uuid.format(3)),
        RegistryEntry(asset_id=1, root="a", asset_uuid=uuid.format(1)),
    ))
    project.save_registry(registry)
    loaded = load_registry(project.registry_path)
    assert [e.asset_id for e in loaded.assets] == [1, 3]
    assert not list(project.packer_dir.glob("*.tmp"))  # the atomic write left no temp file
    with pytest.raises(RegistryError, match="next_asset_id"):
        parse_registry(b'{"schema_version": 1, "project_id": "p", "next_asset_id": 2, '
                       b'"assets": [{"asset_id": 2, "root": "a", "asset_uuid": "u"}]}')
    with pytest.raises(RegistryError, match="Upgrade the packer"):
        parse_registry(b'{"schema_version": 9, "project_id": "p", "next_asset_id": 1}')
