"""The up-to-date check's stats shared among forked processes (a build that may fork): the same
answer as one process, whatever share a change falls in, a failed child included."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from typing import Any

import pytest

from packer.build import build, forking, manifest_file, runner, statpass, uptodate
from packer.build.check import PACKER_VERSION
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken, OperationCancelled
from tests.packer.build_support import add_raw, copy_project, new_project, snapshot_build


@pytest.fixture(autouse=True)
def _every_manifest_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statpass, "PARALLEL_STAT_MIN_ROWS", 1)


def _project(tmp_path: Path) -> Project:
    project = new_project(tmp_path / "work")
    for number in range(1, 7):
        add_raw(project, f"raw/a{number}", b"x" * number * 10, number=number)
    assert build(project).succeeded
    return project


def _check(project: Project, processes: int, token: CancellationToken | None = None,
           ) -> tuple[bool, list[str], list[str], dict[str, statpass.Fingerprint | None]]:
    seen = statpass.SeenStats()
    difference = uptodate.Difference()
    manifest = uptodate.check(project, token or CancellationToken(),
                              packer_version=PACKER_VERSION,
                              pipelines=runner._pipeline_versions(), seen=seen,
                              difference=difference, processes=processes)
    seen.get("prometeu.json")  # enters every deferred fingerprint
    return manifest is not None, difference.changed, difference.racy, dict(seen)


def _rows(project: Project) -> list[str]:
    manifest = manifest_file.load(project)
    assert manifest is not None
    return [row[0] for row in manifest.files]


def _one_input_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                       ) -> tuple[Project, tuple[bool, list[str], list[str],
                                                 dict[str, statpass.Fingerprint | None]]]:
    """A built project whose last input changed, and what one process's check says of it."""
    project = _project(tmp_path)
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)
    rows = _rows(project)
    (project.root / [p for p in rows if p.endswith("data.bin")][-1]).write_bytes(b"changed")
    return project, _check(project, 1)


@pytest.mark.parametrize("processes", [2, 3, 5])
def test_shared_stats_answer_as_one_process_does(tmp_path: Path, processes: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)
    _check(project, 1)  # checks the racy outputs by content once: later checks need no content
    unchanged = _check(project, 1)
    assert unchanged[0] and not unchanged[2] and _check(project, processes) == unchanged
    rows = _rows(project)
    inputs = [path for path in rows if path.endswith("data.bin")]
    # one change in the first process's share, one in the last child's, one file gone, one
    # rewritten with as many bytes (only its times and ctime tell)
    (project.root / inputs[0]).write_bytes(b"changed")
    (project.root / inputs[-1]).write_bytes(b"changed too")
    (project.root / inputs[2]).unlink()
    same_size = project.root / inputs[3]
    same_size.write_bytes(bytes(len(same_size.read_bytes())))
    alone = _check(project, 1)
    assert not alone[0] and set(alone[1]) >= {inputs[0], inputs[-1], inputs[2], inputs[3]}
    assert _check(project, processes) == alone
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every child was reaped
    assert alone[3][inputs[2]] is None and len(alone[3]) == len(rows)
    assert alone[3][inputs[3]] == statpass.fingerprint(str(same_size))


def test_racy_rows_are_found_in_every_share(tmp_path: Path) -> None:
    project = _project(tmp_path)  # just built: its files sit in the racy window
    alone = _check(project, 1)
    assert len(alone[2]) > 3
    assert _check(project, 3) == alone


def test_a_row_racy_by_its_ctime_alone_is_racy(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)
    _check(project, 1)  # the outputs checked by content: nothing racy any more
    rows = _rows(project)
    touched = [path for path in rows if path.endswith("data.bin")][-1]
    os.utime(project.root / touched, ns=(1, 1))  # an old mtime; the ctime is now
    manifest = manifest_file.load(project)
    assert manifest is not None
    manifest.files = [[row[0], *(statpass.fingerprint(str(project.root / row[0])) or [])]
                      for row in manifest.files]  # as if the build had recorded that state
    # recorded as that change happened: the row is racy by its ctime, never by its mtime
    manifest.recorded_at_ns = (project.root / touched).stat().st_ctime_ns
    manifest_file.manifest_path(project).write_bytes(manifest.to_bytes())
    for processes in (1, 3):
        assert touched in _check(project, processes)[2]
    # and one dated in the future (an archive from a skewed clock) is racy by its mtime alone
    future = project.root / touched
    os.utime(future, ns=(time.time_ns() + 10**12, time.time_ns() + 10**12))
    manifest.files = [[row[0], *(statpass.fingerprint(str(project.root / row[0])) or [])]
                      for row in manifest.files]
    manifest.recorded_at_ns = future.stat().st_ctime_ns + 1
    manifest_file.manifest_path(project).write_bytes(manifest.to_bytes())
    for processes in (1, 3):
        assert _check(project, processes)[2] == [touched]


def test_the_library_never_forks_unless_asked(tmp_path: Path, forks: list[int]) -> None:
    project = _project(tmp_path)
    uptodate.check(project, CancellationToken(), packer_version=PACKER_VERSION,
                   pipelines=runner._pipeline_versions(), seen=statpass.SeenStats(),
                   difference=uptodate.Difference())
    assert forks == []  # a thread of the Studio's process may hold a lock a child needs
    _check(project, 2)
    assert len(forks) == 1


def test_a_failed_child_s_share_is_stat_ed_by_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    project, alone = _one_input_changed(tmp_path, monkeypatch)

    def fail(self: object, pipe: object) -> None:
        raise RuntimeError("child broke")

    monkeypatch.setattr(statpass._ChildShare, "send", fail)
    assert _check(project, 2) == alone
    assert "child broke" in capfd.readouterr().err


def test_a_share_that_cannot_be_forked_is_stat_ed_by_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, alone = _one_input_changed(tmp_path, monkeypatch)
    real = forking.fork_child
    forks: list[str] = []

    def every_other_fails(body: Any, **kwargs: Any) -> Any:
        forks.append("tried")
        if len(forks) % 2:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        return real(body, **kwargs)

    monkeypatch.setattr(forking, "fork_child", every_other_fails)
    assert _check(project, 4) == alone
    assert len(forks) == 3


def test_each_process_stats_its_own_share(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    rows = _rows(project)
    here: list[str] = []  # what this process stats (a child's calls stay in the child)
    real = statpass.stat_path

    def counted(path: str) -> os.stat_result:
        here.append(path)
        return real(path)

    monkeypatch.setattr(statpass, "stat_path", counted)
    _check(project, 1)
    assert len(here) >= len(rows)
    here.clear()
    _check(project, 3)
    share = -(-len(rows) // 3)
    listed = [p for p in here if p.startswith(str(project.root) + "/")]
    assert [os.path.relpath(p, project.root) for p in listed[:share]] == rows[:share]
    assert len(listed) < share + 10  # the two other shares were the children's


def test_a_cancelled_check_leaves_no_child(tmp_path: Path) -> None:
    project = _project(tmp_path)
    token = CancellationToken()
    token.cancel("test")
    with pytest.raises(OperationCancelled):
        _check(project, 3, token)
    manifest = manifest_file.load(project)
    assert manifest is not None
    for processes in (1, 3):
        with pytest.raises(OperationCancelled):  # by the stat pass itself
            statpass.stat_listed(str(project.root), manifest.files, token, racy_after=0,
                                 seen=statpass.SeenStats(), changed_paths=[],
                                 processes=processes)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every child was reaped


def test_a_patch_build_after_shared_stats_equals_one_process_s(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)
    project = _project(tmp_path)
    other = copy_project(project, tmp_path / "other")
    assert build(other).up_to_date  # the copy's own manifest
    for each in (project, other):
        (each.assets_dir / "raw/a6/data.bin").write_bytes(b"changed")
    forked, alone = build(project, processes=2), build(other, processes=1)
    assert forked.succeeded and not forked.up_to_date
    assert forked.reasons() == alone.reasons()
    assert snapshot_build(project) == snapshot_build(other)
    assert build(project, processes=2).up_to_date
