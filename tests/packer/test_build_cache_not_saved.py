"""A build whose cache.json cannot be written once build/ is promoted (a full disk, a read-only
assets/.prometeu/) still succeeded: it says so with a PK211 warning, leaves no up-to-date
manifest, and the next build that can write the cache does. One process, the cache written
aside by a child, and a patch build alike."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from packer.build import BuildResult, build, manifest_file, patch, runner, side_writer, uptodate
from packer.build.side_writer import SIDE_SUFFIX
from packer.files.project import Project
from packer.lane.events import EventKind
from packer.lane.sinks import ListSink
from tests.packer.build_support import add_raw, copy_project, new_project, snapshot_build


def _disk_full(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


def _project(tmp_path: Path) -> Project:
    project = new_project(tmp_path / "work")
    for number in range(1, 6):
        add_raw(project, f"raw/a{number}", bytes([number]) * 40, number=number)
    return project


def _says_cache_not_saved(result: BuildResult, sink: ListSink) -> None:
    assert result.succeeded, result.error
    [found] = [d for d in result.diagnostics if d.code == "PK211"]
    assert found.message == "build cache not saved: No space left on device"
    assert not found.blocking
    kinds = sink.kinds()
    assert kinds.index(EventKind.DIAGNOSTICS_UPDATED.value) < kinds.index(
        EventKind.BUILD_FINISHED.value)


def _reference(project: Project, tmp_path: Path) -> dict[str, bytes]:
    """build/ as a build that could write its cache leaves it, for the same inputs."""
    other = copy_project(project, tmp_path / "reference")
    assert build(other, use_cache=False).succeeded
    return snapshot_build(other)


@pytest.mark.parametrize("processes", [1, 2])
def test_a_cache_that_cannot_be_written_leaves_the_build_standing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    project = _project(tmp_path)
    expected = _reference(project, tmp_path)
    monkeypatch.setattr(runner, "SIDE_WRITE_MIN_ASSETS", 1)
    monkeypatch.setattr(runner, "save_cache", _disk_full)
    if processes > 1:  # the child wrote it aside; putting it in place fails
        real_finish = side_writer.SideWriter.finish

        def finish(writer: side_writer.SideWriter, target: Path) -> str | None:
            if target == project.cache_path:
                _disk_full()
            return real_finish(writer, target)

        monkeypatch.setattr(side_writer.SideWriter, "finish", finish)
    sink = ListSink()
    result = build(project, sink, processes=processes)

    _says_cache_not_saved(result, sink)
    assert snapshot_build(project) == expected  # the new build is in place
    assert not project.cache_path.exists()
    assert not project.cache_path.with_name(project.cache_path.name + SIDE_SUFFIX).exists()
    assert not manifest_file.manifest_path(project).exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)

    monkeypatch.undo()  # the disk has room again
    again = build(project)
    assert again.succeeded and project.cache_path.is_file()
    assert [d.code for d in again.diagnostics] == ["PK206"]  # "cache.json does not exist yet"
    assert again.cache_hits == 0  # nothing was cached to reuse
    assert build(project).up_to_date


def test_a_patch_build_whose_cache_cannot_be_written_still_succeeded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)
    project = _project(tmp_path)
    assert build(project).succeeded
    assert build(project).up_to_date  # the manifest is settled: the next change is patched
    (project.assets_dir / "raw/a3/data.bin").write_bytes(b"changed")
    expected = _reference(project, tmp_path)
    before = project.cache_path.read_bytes()
    patched: list[bool] = []
    real = patch.attempt

    def attempt(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        patched.append(result is not None)
        return result

    def cache_full(path: Path, data: bytes) -> None:
        if path == project.cache_path:
            _disk_full()
        raise AssertionError(f"the patch build wrote {path} through this function")

    monkeypatch.setattr(patch, "attempt", attempt)
    monkeypatch.setattr(patch, "atomic_write_bytes", cache_full)
    sink = ListSink()
    result = build(project, sink)

    assert patched == [True]
    _says_cache_not_saved(result, sink)
    assert result.cache_misses == 1
    assert snapshot_build(project) == expected
    assert project.cache_path.read_bytes() == before  # the previous one, untouched
    assert not manifest_file.manifest_path(project).exists()

    monkeypatch.undo()
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)
    again = build(project)  # the stale cache still has a3's old entry: a3 is encoded again
    assert again.succeeded and not again.diagnostics
    assert again.reasons()[3] is not None
    assert snapshot_build(project) == expected
