"""The duplicate check's content hashes: unchanged files are not read again, changes are seen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from packer.doctor import hash_cache, hygiene
from packer.doctor.hash_cache import HASHES_FILE
from packer.doctor.queries import list_assets_report
from packer.files.atomic import atomic_write_bytes
from packer.files.project import Project
from tests.packer.project_builder import make_project, write_asset


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Files read to hash them. Hashing is dated 10 s ahead: the fixtures' files were just written,
    inside the racy window of a hash made now."""
    read: list[str] = []
    real = hygiene.content_hash

    def counting(path: str | Path, token):  # type: ignore[no-untyped-def]
        read.append(Path(path).name)
        return real(path, token)

    monkeypatch.setattr(hygiene, "content_hash", counting)
    monkeypatch.setattr(hygiene, "hash_now_ns", lambda: time.time_ns() + 10_000_000_000)
    return read


def three_same_size(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    write_asset(project, "a", files={"data.bin": b"AAAA"})
    write_asset(project, "b", files={"data.bin": b"AAAA"})
    write_asset(project, "c", files={"data.bin": b"CCCC"})
    return project


def duplicates(project: Project) -> set[str]:
    listing = list_assets_report(project)
    return {a.root for a in listing.assets if a.warnings}


def test_unchanged_files_are_not_read_again(tmp_path: Path, hashed: list[str]) -> None:
    project = three_same_size(tmp_path)
    assert duplicates(project) == {"b"}
    assert len(hashed) >= 3 and (project.packer_dir / HASHES_FILE).is_file()
    hashed.clear()
    assert duplicates(project) == {"b"}
    assert hashed == []


def test_a_changed_file_is_hashed_again(tmp_path: Path, hashed: list[str]) -> None:
    project = three_same_size(tmp_path)
    duplicates(project)
    hashed.clear()
    (project.assets_dir / "c/data.bin").write_bytes(b"AAAA")  # same size, now a copy of a
    assert duplicates(project) == {"b", "c"}
    assert hashed == ["data.bin"]


def test_hashes_inside_the_racy_window_are_not_trusted(
    tmp_path: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = three_same_size(tmp_path)
    monkeypatch.setattr(hygiene, "hash_now_ns", hash_cache.now_ns)
    duplicates(project)
    hashed.clear()
    duplicates(project)
    assert len(hashed) >= 3


@pytest.mark.parametrize("content", [b"{oops", b"[]", b'{"schema_version": 1, "hashes": 3}',
                                     b'{"schema_version": 1, "hashes": {"a": [1, 2]}}',
                                     b'{"schema_version": 1, "hashes": {"a": [1, 2, 3, 4, 5, 6]}}',
                                     b'{"schema_version": 1, "hashes": {"a": ["1", 2, 3, 4, 5, '
                                     b'"h"]}}'])
def test_an_unusable_hash_file_is_replaced(tmp_path: Path, hashed: list[str],
                                           content: bytes) -> None:
    project = three_same_size(tmp_path)
    (project.packer_dir / HASHES_FILE).write_bytes(content)
    assert duplicates(project) == {"b"}
    hashed.clear()
    assert duplicates(project) == {"b"} and hashed == []



def test_a_cache_write_never_makes_a_deleted_folder_again(tmp_path: Path) -> None:
    """The caches are written after a read, which may race the user deleting the project: the
    write fails quietly rather than bring assets/.prometeu/ back as a ghost."""
    gone = tmp_path / "game" / "assets" / ".prometeu"
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(gone / HASHES_FILE, b"{}", create_parent=False)
    assert not (tmp_path / "game").exists()
