"""A build whose child encodes ahead while the scan runs (packer.build.headstart) gives the
one-process build's outputs and events, takes only what the scan saw as the child did, and
leaves no child, spool or staging folder behind on any way out."""

from __future__ import annotations

import errno
import json
import os
import pickle
import signal
from pathlib import Path
from typing import Any

import pytest

from packer.build import build, headstart, parallel, runner
from packer.build.artifact import PayloadStore
from packer.build.headstart import HeadStart
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import Outcome
from packer.lane.sinks import ListSink
from tests.packer.build_support import copy_project, snapshot_build
from tests.packer.test_build_parallel import (
    cache_without_clock,
    children_left,
    manifest_less_stats,
    mixed,
    published,
)


@pytest.fixture(autouse=True)
def small_head_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A head start for a 20-asset project, trusting files made just before the build (the
    fixtures' ctimes are seconds old), and forks for a handful of misses."""
    monkeypatch.setattr(headstart, "HEAD_START_MIN_ASSETS", 2)
    monkeypatch.setattr(headstart, "RACY_WINDOW_NS", 0)
    # at its real priority: on a busy machine an idle-priority child waits for a free core
    monkeypatch.setattr(headstart, "idle_priority", lambda: None)
    monkeypatch.setattr(parallel, "MIN_SHARE", 2)
    monkeypatch.setattr(parallel, "TURN", 3)
    monkeypatch.setattr(runner, "SIDE_WRITE_MIN_ASSETS", 2)


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many misses each build took from its head start."""
    counts: list[int] = []
    real = headstart.EncodedAhead.usable

    def noting(self: headstart.EncodedAhead, works: Any) -> dict[int, bytes]:
        found = real(self, works)
        counts.append(len(found))
        return found

    monkeypatch.setattr(headstart.EncodedAhead, "usable", noting)
    return counts


@pytest.fixture
def child_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent waits for the child to encode everything before it stops it (else how
    much it encoded depends on the race)."""

    def wait_first(self: HeadStart) -> None:
        if not self._reaped:
            _pid, status = os.waitpid(self.pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            self._reaped = True
        self._killed = True

    monkeypatch.setattr(HeadStart, "_kill", wait_first)


def two_copies(tmp_path: Path) -> tuple[Project, Project]:
    one = mixed(tmp_path / "one")
    return one, copy_project(one, tmp_path / "many" / "game")


def assert_same_build(one: Project, many: Project, one_sink: ListSink,
                      many_sink: ListSink) -> None:
    assert snapshot_build(many) == snapshot_build(one)
    assert cache_without_clock(many) == cache_without_clock(one)
    assert manifest_less_stats(many) == manifest_less_stats(one)
    assert published(many_sink) == published(one_sink)
    assert not list(many.build_dir.glob(".staging"))
    assert children_left() == []


@pytest.mark.usefixtures("child_finishes")
def test_what_the_child_encoded_ahead_makes_the_sequential_build(
    tmp_path: Path, forks: list[int], taken: list[int]
) -> None:
    one, many = two_copies(tmp_path)
    one_sink, many_sink = ListSink(), ListSink()

    assert build(one, sink=one_sink, use_cache=False).outcome is Outcome.SUCCEEDED
    assert build(many, sink=many_sink, use_cache=False, processes=2).outcome is (
        Outcome.SUCCEEDED)

    assert taken == [20]  # every asset: no encoder is forked after the scan
    assert len(forks) == 1 + 3  # the head start and the tail's three writers
    assert_same_build(one, many, one_sink, many_sink)


def test_a_head_start_stopped_at_any_point_makes_the_sequential_build(
    tmp_path: Path, taken: list[int]
) -> None:
    one, many = two_copies(tmp_path)
    one_sink, many_sink = ListSink(), ListSink()

    build(one, sink=one_sink, use_cache=False)
    result = build(many, sink=many_sink, use_cache=False, processes=2)

    assert result.outcome is Outcome.SUCCEEDED
    assert len(taken) == 1  # however many the race gave it
    assert_same_build(one, many, one_sink, many_sink)


@pytest.mark.usefixtures("child_finishes")
def test_a_first_build_with_the_cache_on_has_a_head_start(
    tmp_path: Path, taken: list[int]
) -> None:
    one, many = two_copies(tmp_path)
    one_sink, many_sink = ListSink(), ListSink()

    build(one, sink=one_sink)
    assert build(many, sink=many_sink, processes=2).outcome is Outcome.SUCCEEDED

    assert taken == [20]
    assert_same_build(one, many, one_sink, many_sink)
    assert build(many, processes=2).up_to_date


def test_a_build_with_a_cache_has_no_head_start(tmp_path: Path, taken: list[int]) -> None:
    project = mixed(tmp_path)
    build(project)
    (project.assets_dir / "raw/r00/data.bin").write_bytes(b"new")
    (project.assets_dir / "raw/r03/data.bin").write_bytes(b"newer")

    assert build(project, processes=2).outcome is Outcome.SUCCEEDED
    assert taken == []


@pytest.mark.usefixtures("child_finishes")
def test_files_changed_within_the_racy_window_are_encoded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[int]
) -> None:
    monkeypatch.setattr(headstart, "RACY_WINDOW_NS", 10**15)  # every file: just changed
    one, many = two_copies(tmp_path)
    one_sink, many_sink = ListSink(), ListSink()

    build(one, sink=one_sink, use_cache=False)
    assert build(many, sink=many_sink, use_cache=False, processes=2).outcome is (
        Outcome.SUCCEEDED)

    assert taken == [0]
    assert_same_build(one, many, one_sink, many_sink)


@pytest.mark.parametrize("differs", ["root", "anchor", "input"])
@pytest.mark.usefixtures("child_finishes")
def test_an_asset_the_child_saw_otherwise_is_encoded_by_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[int], differs: str
) -> None:
    one, many = two_copies(tmp_path)
    one_sink, many_sink = ListSink(), ListSink()
    real_encode = headstart._Encoder.encode
    parent = os.getpid()

    def seen_otherwise(self: Any, asset_id: int, root: str, store: Any) -> Any:
        fields = real_encode(self, asset_id, root, store)
        # the child's view of two assets differs from what the scan will see; their
        # payloads in its spool are wrong too, so taking them would change the artifact
        if os.getpid() != parent and fields is not None and asset_id in (4, 9):
            _id, seen_root, anchor, stats, body = fields
            wrong = store.add(b"not this asset's payload")
            _offset, _size, *rest = pickle.loads(body)
            body = pickle.dumps((wrong.offset, wrong.size, *rest))
            if differs == "root":
                seen_root += "-elsewhere"
            elif differs == "anchor":
                anchor = (anchor[0] + 1, *anchor[1:])
            else:
                stats = ((stats[0][0] + 1, *stats[0][1:]), *stats[1:])
            fields = (asset_id, seen_root, anchor, stats, body)
        return fields

    monkeypatch.setattr(headstart._Encoder, "encode", seen_otherwise)
    build(one, sink=one_sink, use_cache=False)
    assert build(many, sink=many_sink, use_cache=False, processes=2).outcome is (
        Outcome.SUCCEEDED)

    assert taken == [18]
    assert_same_build(one, many, one_sink, many_sink)


@pytest.mark.usefixtures("child_finishes")
def test_excluded_and_blocked_assets_encoded_ahead_are_dropped(
    tmp_path: Path, taken: list[int]
) -> None:
    one = mixed(tmp_path / "one")
    registry_path = one.registry_path
    registry = json.loads(registry_path.read_text())
    for entry in registry["assets"]:
        if entry["asset_id"] in (2, 5):
            entry["included_in_build"] = False
    registry_path.write_text(json.dumps(registry))
    (one.assets_dir / "sound/s02/s0.wav").write_bytes(b"")  # a format error: blocks
    many = copy_project(one, tmp_path / "many" / "game")
    one_sink, many_sink = ListSink(), ListSink()

    sequential = build(one, sink=one_sink, use_cache=False)
    ahead = build(many, sink=many_sink, use_cache=False, processes=2)

    assert sequential.outcome is ahead.outcome is Outcome.BLOCKED
    assert [(d.code, d.message) for d in ahead.blocking] == [
        (d.code, d.message) for d in sequential.blocking]
    assert published(many_sink) == published(one_sink)
    assert taken == [17]  # all but the excluded and the blocked one (which the child skipped)
    assert not many.build_dir.exists()
    assert children_left() == []


def test_a_structurally_blocked_build_leaves_no_staging_and_no_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    project = mixed(tmp_path)
    (project.assets_dir / "raw/r03/data.bin").unlink()  # PK106: blocks before any encoding
    steps: list[str] = []
    real_stop, real_discard = HeadStart.stop, runner.discard  # type: ignore[attr-defined]

    def stop(self: HeadStart) -> None:
        steps.append("stop")
        real_stop(self)

    def discard(staging: Path) -> None:
        steps.append("discard")
        real_discard(staging)

    monkeypatch.setattr(HeadStart, "stop", stop)
    monkeypatch.setattr(runner, "discard", discard)
    result = build(project, use_cache=False, processes=2)

    assert result.outcome is Outcome.BLOCKED
    assert len(forks) == 1  # the head start, while the scan ran
    # the child writes into the staging folder until it is stopped: never after it is gone
    assert steps[:2] == ["stop", "discard"]
    assert not project.build_dir.exists()
    assert children_left() == []


def test_a_build_cancelled_during_its_scan_stops_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    project = mixed(tmp_path)
    token = CancellationToken()
    real_scan = runner.build_snapshot_and_walk  # type: ignore[attr-defined]

    def cancelled_while_scanning(*args: Any, **kwargs: Any) -> Any:
        token.cancel("test")
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(runner, "build_snapshot_and_walk", cancelled_while_scanning)
    result = build(project, token=token, use_cache=False, processes=2)

    assert result.outcome is Outcome.CANCELLED
    assert len(forks) == 1
    assert not project.build_dir.exists()
    assert children_left() == []


def test_a_head_start_that_cannot_be_forked_leaves_the_build_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[int]
) -> None:
    one, many = two_copies(tmp_path)
    one_sink, many_sink = ListSink(), ListSink()

    def no_process_to_spare(body: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(headstart, "fork_child", no_process_to_spare)
    fds_before = len(os.listdir("/proc/self/fd"))
    build(one, sink=one_sink, use_cache=False)
    assert build(many, sink=many_sink, use_cache=False, processes=2).outcome is (
        Outcome.SUCCEEDED)

    assert taken == []
    assert_same_build(one, many, one_sink, many_sink)
    assert len(os.listdir("/proc/self/fd")) == fds_before


def test_a_child_killed_midway_leaves_the_rest_to_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[int]
) -> None:
    one, many = two_copies(tmp_path)
    one_sink, many_sink = ListSink(), ListSink()
    real_encode = headstart._Encoder.encode
    parent = os.getpid()

    def killed_at_the_sixth(self: Any, asset_id: int, root: str, store: Any) -> Any:
        if os.getpid() != parent and asset_id == 6:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_encode(self, asset_id, root, store)

    monkeypatch.setattr(headstart._Encoder, "encode", killed_at_the_sixth)
    monkeypatch.setattr(HeadStart, "_kill", _reap_killed)
    monkeypatch.setattr(headstart, "BATCH", 2)  # the fifth is encoded, its record unwritten
    build(one, sink=one_sink, use_cache=False)
    assert build(many, sink=many_sink, use_cache=False, processes=2).outcome is (
        Outcome.SUCCEEDED)

    assert taken == [4]
    assert_same_build(one, many, one_sink, many_sink)


def _reap_killed(self: HeadStart) -> None:
    if not self._reaped:
        _pid, status = os.waitpid(self.pid, 0)
        assert os.WIFSIGNALED(status)
        self._reaped = True
    self._killed = True


def test_a_record_cut_short_ends_what_is_taken() -> None:
    whole = [pickle.dumps((n, f"raw/r{n}", None, (), b"body")) for n in (1, 2, 3)]
    data = b"".join(headstart._LENGTH.pack(len(b)) + b for b in whole)

    assert [r.asset_id for r in headstart._read_records(data)] == [1, 2, 3]
    assert [r.asset_id for r in headstart._read_records(data[:-3])] == [1, 2]
    assert [r.asset_id for r in headstart._read_records(data[:2])] == []
    bad = data + headstart._LENGTH.pack(4) + b"junk"
    assert [r.asset_id for r in headstart._read_records(bad)] == [1, 2, 3]


def test_a_small_registry_forks_no_head_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    monkeypatch.setattr(headstart, "HEAD_START_MIN_ASSETS", 512)
    project = mixed(tmp_path)

    assert build(project, use_cache=False, processes=2).outcome is Outcome.SUCCEEDED
    assert len(forks) == 1 + 3  # the encoder after the scan and the tail's writers


def test_the_library_build_never_forks(tmp_path: Path, forks: list[int]) -> None:
    project = mixed(tmp_path)
    assert build(project, use_cache=False).outcome is Outcome.SUCCEEDED
    assert forks == []


def test_the_child_runs_only_on_a_core_nothing_else_wants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real idle_priority, and the real thresholds
    monkeypatch.setattr(headstart, "HEAD_START_MIN_ASSETS", 2)
    project = mixed(tmp_path)
    seen = tmp_path / "policy"
    parent = os.getpid()
    real_encode = headstart._Encoder.encode

    def noting_policy(self: Any, asset_id: int, root: str, store: Any) -> Any:
        if os.getpid() != parent and not seen.exists():
            seen.write_text(str(os.sched_getscheduler(0)))
        return real_encode(self, asset_id, root, store)

    monkeypatch.setattr(headstart._Encoder, "encode", noting_policy)
    monkeypatch.setattr(HeadStart, "_kill", _reap_finished)
    assert build(project, use_cache=False, processes=2).outcome is Outcome.SUCCEEDED

    assert seen.read_text() == str(os.SCHED_IDLE)
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the parent's is its own


def _reap_finished(self: HeadStart) -> None:
    if not self._reaped:
        os.waitpid(self.pid, 0)
        self._reaped = True
    self._killed = True


def test_the_child_reads_no_root_through_a_link(tmp_path: Path) -> None:
    project = mixed(tmp_path / "game")
    outside = tmp_path / "outside"
    (project.assets_dir / "raw/r00").rename(outside)
    (project.assets_dir / "raw/r00").symlink_to(outside)
    store = PayloadStore(tmp_path / "spool")
    encoder = headstart._Encoder(project)

    assert encoder.encode(1, "raw/r00", store) is None
    assert encoder.encode(4, "raw/r03", store) is not None
    store.close()


@pytest.mark.usefixtures("child_finishes")
def test_a_child_that_fails_ends_quietly_and_leaves_its_work_to_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
    taken: list[int],
) -> None:
    one, many = two_copies(tmp_path)
    one_sink, many_sink = ListSink(), ListSink()
    parent = os.getpid()
    real_write = headstart._write_all

    def disk_full_in_the_child(fd: int, data: Any) -> None:
        if os.getpid() != parent:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(fd, data)

    monkeypatch.setattr(headstart, "_write_all", disk_full_in_the_child)
    build(one, sink=one_sink, use_cache=False)
    assert build(many, sink=many_sink, use_cache=False, processes=2).outcome is (
        Outcome.SUCCEEDED)

    assert taken == [0]
    assert_same_build(one, many, one_sink, many_sink)
    assert capfd.readouterr().err == ""  # no traceback from the child


def test_where_no_process_can_fork_there_is_no_head_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: list[int]
) -> None:
    project = mixed(tmp_path)
    monkeypatch.delattr(os, "fork")  # as on Windows

    assert build(project, use_cache=False, processes=2).outcome is Outcome.SUCCEEDED
    assert taken == []
