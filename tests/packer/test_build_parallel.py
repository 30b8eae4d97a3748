"""A build that encodes in forked processes gives the sequential build's outputs and events, and
its children never outlive it (finished, blocked, failed or cancelled)."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from packer.build import (
    build,
    emit,
    forking,
    manifest_file,
    parallel,
    recording,
    runner,
    side_writer,
)
from packer.build.side_writer import SIDE_SUFFIX
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind, Outcome, PackerEvent
from packer.lane.sinks import ListSink
from tests.packer.build_support import (
    add_glyph,
    add_raw,
    add_sound,
    copy_project,
    new_project,
    snapshot_build,
)
from tests.packer.cli_support import Captured, run


@pytest.fixture(autouse=True)
def short_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forks for a handful of misses, turns of 3: a small project takes many turns."""
    monkeypatch.setattr(parallel, "MIN_SHARE", 2)
    monkeypatch.setattr(parallel, "TURN", 3)
    monkeypatch.setattr(runner, "SIDE_WRITE_MIN_ASSETS", 2)


def mixed(base: Path, name: str = "game", count: int = 20) -> Project:
    project = new_project(base, name)
    for n in range(count):
        kind = n % 3
        if kind == 0:
            add_raw(project, f"raw/r{n:02d}", bytes(range(n, n + 40 + n)))
        elif kind == 1:
            add_glyph(project, f"glyph/g{n:02d}", tiles=1 + n % 4, colour=(0, 255, 0))
        else:
            add_sound(project, f"sound/s{n:02d}", samples=1 + n % 2, frames=32 + n)
    return project


def built_then_changed(base: Path) -> Project:
    """A project built once, then one raw input changed."""
    project = mixed(base)
    assert build(project, use_cache=False).outcome is Outcome.SUCCEEDED
    (project.assets_dir / "raw/r00/data.bin").write_bytes(b"new")
    return project


def published(sink: ListSink) -> list[tuple[Any, ...]]:
    """The events as the stream carries them, less what differs by run (ids, clock, throttling
    of progress)."""
    return [(e.kind, e.summary, e.affected_assets, e.detail, e.outcome)
            for e in sink.events if e.kind != EventKind.PROGRESS_UPDATED]


def cache_assets(project: Project) -> Any:
    return json.loads(project.cache_path.read_bytes())["assets"]


def cache_without_clock(project: Project) -> Any:
    cache = json.loads(project.cache_path.read_bytes())
    del cache["started_at_ns"]
    return cache


def side_files(project: Project) -> list[str]:
    """Every file a child writes aside that is still there (none may outlive a build)."""
    return sorted(p.name for folder in (project.packer_dir, project.build_dir)
                  if folder.is_dir() for p in folder.rglob("*" + SIDE_SUFFIX))


def manifest_less_stats(project: Project) -> Any:
    """uptodate.json less what differs between two copies of a project (every fingerprint but
    the size, the clock, cache.json's hash, which holds the clock)."""
    manifest = json.loads(manifest_file.manifest_path(project).read_bytes())
    del manifest["recorded_at_ns"]
    manifest["files"] = [row[:2] for row in manifest["files"]]
    del manifest["checks"]["assets/.prometeu/cache.json"]
    return manifest


def children_left() -> list[str]:
    """This process's child processes, zombies included (none may outlive a build)."""
    found: list[str] = []
    for task in Path("/proc/self/task").iterdir():
        found += (task / "children").read_text().split()
    return found


@pytest.mark.parametrize("processes", [2, 3])
def test_parallel_build_matches_the_sequential_one(
    tmp_path: Path, forks: list[int], processes: int
) -> None:
    one = mixed(tmp_path / "one")
    many = copy_project(one, tmp_path / "many" / "game")
    one_sink, many_sink = ListSink(), ListSink()

    sequential = build(one, sink=one_sink, use_cache=False)
    assert not forks
    parallel_result = build(many, sink=many_sink, use_cache=False, processes=processes)

    # the encoders, and the children writing the tool metadata, cache.json and the manifest
    assert len(forks) == processes - 1 + 3
    assert sequential.outcome is parallel_result.outcome is Outcome.SUCCEEDED
    assert snapshot_build(many) == snapshot_build(one)
    assert cache_without_clock(many) == cache_without_clock(one)
    assert manifest_less_stats(many) == manifest_less_stats(one)
    assert side_files(many) == []
    assert published(many_sink) == published(one_sink)
    assert not list((many.build_dir / ".staging").glob("*/payload.spool*"))
    assert children_left() == []


def test_parallel_cached_build_encodes_only_the_misses(tmp_path: Path, forks: list[int]) -> None:
    project = mixed(tmp_path)
    assert build(project, use_cache=False).outcome is Outcome.SUCCEEDED
    for n in (0, 3, 6, 9, 12, 15, 18):  # raw assets: new bytes, same size order
        (project.assets_dir / f"raw/r{n:02d}/data.bin").write_bytes(b"changed %d" % n)
    reference = copy_project(project, tmp_path / "reference" / "game")
    ref_sink, sink = ListSink(), ListSink()

    assert build(reference, sink=ref_sink).outcome is Outcome.SUCCEEDED
    assert build(project, sink=sink, processes=2).outcome is Outcome.SUCCEEDED

    assert len(forks) == 4  # an encoder, and the writers of the tool metadata, cache, manifest
    assert snapshot_build(project) == snapshot_build(reference)
    assert published(sink) == published(ref_sink)
    assert [e.kind for e in sink.events].count(EventKind.CACHE_MISS) == 7


def test_a_format_error_in_a_childs_turn_blocks_as_sequentially(
    tmp_path: Path, forks: list[int]
) -> None:
    one = mixed(tmp_path / "one")
    # position 11 is in the child's second turn of 3 (9-11), and so is 17 (15-17)
    for n in (11, 17):
        wav = one.assets_dir / f"sound/s{n:02d}/s0.wav"
        wav.write_bytes(b"")
    many = copy_project(one, tmp_path / "many" / "game")
    build_files = snapshot_build(many)

    sequential = build(one, use_cache=False)
    parallel_result = build(many, use_cache=False, processes=2)

    assert len(forks) == 1
    assert sequential.outcome is parallel_result.outcome is Outcome.BLOCKED
    assert [(d.code, d.message) for d in parallel_result.blocking] == [
        (d.code, d.message) for d in sequential.blocking]
    assert len(parallel_result.blocking) >= 2
    assert snapshot_build(many) == build_files
    assert children_left() == []


def test_a_child_that_dies_fails_the_build_and_leaves_build_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = built_then_changed(tmp_path)
    before = snapshot_build(project)
    parent = os.getpid()
    real_encode = emit.encode_miss

    def dying_child(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(emit, "encode_miss", dying_child)
    result = build(project, use_cache=False, processes=2)

    assert result.outcome is Outcome.FAILED
    assert result.error is not None
    assert "an encoding process ended early (killed by signal 9)" in result.error
    assert "--jobs 1" in result.error
    assert snapshot_build(project) == before
    assert children_left() == []


def test_a_child_that_cannot_be_forked_leaves_the_build_to_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = mixed(tmp_path / "one")
    many = copy_project(one, tmp_path / "many" / "game")
    real = forking.fork_child
    forked: list[int] = []

    def second_fails(body: Any, **kwargs: Any) -> Any:
        if forked:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        pid, reader = real(body, **kwargs)
        forked.append(pid)
        return pid, reader

    monkeypatch.setattr(parallel, "fork_child", second_fails)
    sequential = build(one, use_cache=False)
    parallel_result = build(many, use_cache=False, processes=3)

    assert len(forked) == 1  # one child made, then stopped when the next could not be
    assert parallel_result.outcome is sequential.outcome is Outcome.SUCCEEDED
    assert parallel_result.reasons() == sequential.reasons()
    assert snapshot_build(many) == snapshot_build(one)
    assert children_left() == []


def test_tail_writers_that_cannot_be_forked_leave_their_files_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = mixed(tmp_path / "one")
    many = copy_project(one, tmp_path / "many" / "game")
    refused: list[str] = []

    def no_process_to_spare(body: Any, **kwargs: Any) -> Any:
        refused.append("fork")
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(side_writer, "fork_child", no_process_to_spare)
    fds_before = len(os.listdir("/proc/self/fd"))
    assert build(one, use_cache=False).outcome is Outcome.SUCCEEDED
    assert build(many, use_cache=False, processes=2).outcome is Outcome.SUCCEEDED

    assert len(refused) == 3  # the tool metadata's, the manifest's and the cache's writers
    assert snapshot_build(many) == snapshot_build(one)
    assert cache_without_clock(many) == cache_without_clock(one)
    assert manifest_less_stats(many) == manifest_less_stats(one)
    assert side_files(many) == []
    assert children_left() == []
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert build(many).up_to_date


def test_a_fork_that_fails_leaves_no_pipe_open(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_fork() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", failing_fork)
    fds_before = sorted(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError):
        forking.fork_child(lambda pipe: None)
    assert sorted(os.listdir("/proc/self/fd")) == fds_before


def test_a_cancelled_parallel_build_stops_its_children(tmp_path: Path) -> None:
    project = mixed(tmp_path)
    token = CancellationToken()

    class CancelAtSecondMiss(ListSink):
        def publish(self, event: PackerEvent) -> None:
            super().publish(event)
            if [e.kind for e in self.events].count(EventKind.CACHE_MISS) == 2:
                token.cancel("test")

    result = build(project, sink=CancelAtSecondMiss(), token=token, use_cache=False,
                   processes=2)

    assert result.outcome is Outcome.CANCELLED
    assert not (project.build_dir / "assets.pa").exists()
    assert children_left() == []


def test_cli_jobs_must_be_a_positive_number(tmp_path: Path, capsys: Captured) -> None:
    project = mixed(tmp_path, count=3)

    refused, _out, err = run(capsys, "build", "--jobs", "0", str(project.root))
    built, _out, _err = run(capsys, "build", "-j", "2", str(project.root))

    assert refused == 2
    assert "'0' is not a positive number of processes" in err
    assert built == 0


def test_a_child_leaves_the_parents_stdout_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Studio reads a build's event stream to its end: a child holding that pipe open would
    # keep the stream from ending while it lives.
    project = mixed(tmp_path)
    seen = tmp_path / "stdout-of-child.txt"
    parent = os.getpid()
    real_encode = emit.encode_miss

    def noting_stdout(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent and not seen.exists():
            seen.write_text(os.readlink("/proc/self/fd/1"))
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(emit, "encode_miss", noting_stdout)
    assert build(project, use_cache=False, processes=2).outcome is Outcome.SUCCEEDED

    assert seen.read_text() == os.devnull


def test_a_cache_writer_that_fails_leaves_the_parent_to_write_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = mixed(tmp_path / "one")
    many = copy_project(one, tmp_path / "many" / "game")
    parent = os.getpid()
    real_save = runner.save_cache  # type: ignore[attr-defined]

    def failing_in_the_child(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            raise OSError(28, "No space left on device")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(runner, "save_cache", failing_in_the_child)
    assert build(one, use_cache=False).outcome is Outcome.SUCCEEDED
    assert build(many, use_cache=False, processes=2).outcome is Outcome.SUCCEEDED

    assert cache_without_clock(many) == cache_without_clock(one)
    assert side_files(many) == []
    assert children_left() == []
    assert build(many).up_to_date  # the manifest vouches for the cache the parent wrote


def test_a_build_that_fails_while_the_cache_is_written_aside_leaves_it_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = built_then_changed(tmp_path)
    cache_before = project.cache_path.read_bytes()
    build_before = snapshot_build(project)
    monkeypatch.setenv("PROMETEU_PACKER_FAULT", "write:raise")

    result = build(project, use_cache=False, processes=2)

    assert result.outcome is Outcome.FAILED
    assert project.cache_path.read_bytes() == cache_before
    assert snapshot_build(project) == build_before
    assert side_files(project) == []
    assert children_left() == []


def without_promoted_stats(project: Project, manifest: bytes) -> bytes:
    """A manifest's bytes less the fingerprints of the files a build replaces (cache.json and
    build/'s), which differ from one build to the next of the same inputs."""
    for name in ("assets/.prometeu/cache.json", "build/assets.pa", "build/asset_table.json",
                 "build/preload.json", "build/asset_table_metadata.json"):
        path = re.escape(name.encode())
        manifest, count = re.subn(rb'\["' + path + rb'"(,-?[0-9]+)*\]',
                                  b'["' + name.encode() + b'"]', manifest)
        assert count == 1
    return manifest


def test_the_manifest_made_aside_is_byte_for_byte_the_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = mixed(tmp_path)
    # one clock for both builds: the same cache.json, and so the same manifest
    monkeypatch.setattr(runner, "time", SimpleNamespace(time_ns=lambda: 1_765_000_000 * 10**9))
    used: list[recording.RowsAside | None] = []
    real_sent = recording.RowsAside.sent

    def noting(path: Path, text: str) -> recording.RowsAside | None:
        used.append(real_sent(path, text))
        return used[-1]

    monkeypatch.setattr(recording.RowsAside, "sent", noting)

    assert build(project, use_cache=False, processes=2).outcome is Outcome.SUCCEEDED
    aside = manifest_file.manifest_path(project).read_bytes()
    assert build(project, use_cache=False).outcome is Outcome.SUCCEEDED  # made by the parent
    alone = manifest_file.manifest_path(project).read_bytes()

    assert len(used) == 1 and used[0] is not None  # the first build's rows came from a child
    assert without_promoted_stats(project, aside) == without_promoted_stats(project, alone)


@pytest.mark.parametrize(("writer", "how"), [
    ("tool metadata", "raise"), ("tool metadata", "kill"),
    ("manifest rows", "raise"), ("manifest rows", "kill"),
    ("manifest rows", "lie"),  # lengths that do not match its file
])
def test_a_tail_writer_that_fails_leaves_its_file_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str, how: str
) -> None:
    one = mixed(tmp_path / "one")
    many = copy_project(one, tmp_path / "many" / "game")
    parent = os.getpid()
    module: Any = runner if writer == "tool metadata" else recording
    name = "write_tool_metadata" if writer == "tool metadata" else "write_rows_aside"
    real_write = getattr(module, name)

    def failing_in_the_child(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if how == "raise":
                raise OSError(28, "No space left on device")
            real_write(*args, **kwargs)
            return "1 2 3"  # not what it wrote: the parent must not trust it
        return real_write(*args, **kwargs)

    monkeypatch.setattr(module, name, failing_in_the_child)
    assert build(one, use_cache=False).outcome is Outcome.SUCCEEDED
    assert build(many, use_cache=False, processes=2).outcome is Outcome.SUCCEEDED

    assert snapshot_build(many) == snapshot_build(one)
    assert manifest_less_stats(many) == manifest_less_stats(one)
    assert side_files(many) == []
    assert children_left() == []
    assert build(many).up_to_date  # the manifest vouches for what the parent wrote


def test_rows_aside_that_end_early_leave_no_manifest_and_a_succeeded_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = mixed(tmp_path)
    real_sent = recording.RowsAside.sent

    def longer_than_written(path: Path, text: str) -> recording.RowsAside | None:
        found = real_sent(path, text)
        assert found is not None
        first, second, third = found.lengths
        return recording.RowsAside(path, (first, second, third + 10))

    monkeypatch.setattr(recording.RowsAside, "sent", longer_than_written)
    result = build(project, use_cache=False, processes=2)

    assert result.outcome is Outcome.SUCCEEDED
    assert not manifest_file.manifest_path(project).exists()
    assert side_files(project) == []
    monkeypatch.undo()
    # no manifest vouches: the normal path, which finds build/ current and records one
    assert build(project).outcome is Outcome.SUCCEEDED
    assert manifest_file.manifest_path(project).exists()


def test_a_build_cancelled_while_its_tail_is_written_aside_stops_those_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    project = built_then_changed(tmp_path)
    cache_before = project.cache_path.read_bytes()
    build_before = snapshot_build(project)
    token = CancellationToken()
    real_write = runner.write_artifact  # type: ignore[attr-defined]

    def cancelling(*args: Any, **kwargs: Any) -> Any:
        token.cancel("test")  # the tail's writers are running by now
        return real_write(*args, **kwargs)

    monkeypatch.setattr(runner, "write_artifact", cancelling)
    result = build(project, token=token, use_cache=False, processes=2)

    assert result.outcome is Outcome.CANCELLED
    assert len(forks) == 4
    assert project.cache_path.read_bytes() == cache_before
    assert snapshot_build(project) == build_before
    assert side_files(project) == []
    assert children_left() == []


def test_a_childs_pipe_holds_a_few_turns_of_records() -> None:
    # 64 KB, Linux's default, holds ~100 records: a child ahead of the parent would wait
    import fcntl

    read_fd, write_fd = os.pipe()
    try:
        forking.grow_pipe(write_fd, parallel.PIPE_BYTES)
        assert fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ) == parallel.PIPE_BYTES
    finally:
        os.close(read_fd)
        os.close(write_fd)
