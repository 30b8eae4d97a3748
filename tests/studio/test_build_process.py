"""A Studio build runs the packer's command line in a child process and relays its events."""

from __future__ import annotations

import itertools
import os
import queue
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from packer.build.faults import ENV_VAR
from packer.lane.events import (
    ActionFailedDetail,
    BuildStartedDetail,
    EventKind,
    Outcome,
    PackerEvent,
)
from studio.app import StudioApp
from studio.panels.activity.records import OperationStatus
from studio.services.build_process import read_line_batches
from studio.services.workers import JobFailed
from tests.studio.helpers import open_and_list
from tests.studio.synthetic import make_raw_project


def _build(qtbot: QtBot, studio: StudioApp) -> PackerEvent:
    assert studio.session is not None
    with qtbot.waitSignal(studio.build_ended, timeout=30_000) as ended:
        studio.session.build()
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=30_000)
    event = ended.args[0]
    assert isinstance(event, PackerEvent)
    return event


def test_the_build_s_events_reach_the_activity_from_its_process(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_raw_project(tmp_path / "game", registered=3, unregistered=0)
    open_and_list(qtbot, studio, project.root)

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Studio built in its own process")

    monkeypatch.setattr("packer.build.build", not_here)
    monkeypatch.setattr("packer.build.runner.build", not_here)
    terminal = _build(qtbot, studio)
    assert terminal.kind is EventKind.BUILD_FINISHED and terminal.outcome is Outcome.SUCCEEDED
    assert (project.build_dir / "assets.pa").is_file()
    model = studio.activity_model
    assert model is not None
    rec = model.operation(terminal.operation_id)
    assert rec is not None and rec.status is OperationStatus.SUCCEEDED
    assert rec.cache_misses == 3  # one cache_miss event per asset, relayed line by line
    assert rec.kind_counts.get(EventKind.BUILD_STARTED) == 1


def test_cancelling_a_studio_build_cancels_its_process_and_keeps_build_unchanged(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_raw_project(tmp_path / "game", registered=3, unregistered=0)
    open_and_list(qtbot, studio, project.root)
    monkeypatch.setenv(ENV_VAR, "encode:stall")  # the child waits there until it is cancelled
    session = studio.session
    assert session is not None
    with qtbot.waitSignal(studio.build_ended, timeout=30_000) as ended:
        session.build()
        model = studio.activity_model
        assert model is not None
        qtbot.waitUntil(lambda: any(r.operation == "build" and r.running
                                    for r in model.operations()), timeout=30_000)
        session.cancel_build()
    terminal = ended.args[0]
    assert terminal.outcome is Outcome.CANCELLED
    assert "SIGTERM" in terminal.summary  # the packer's own words: it was asked, and stopped
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=30_000)
    assert not project.build_dir.exists()


def test_a_build_process_that_dies_fails_the_build_visibly(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    open_and_list(qtbot, studio, project.root)
    monkeypatch.setenv(ENV_VAR, "encode:kill")  # SIGKILL: no terminal event, no stderr
    failures: list[JobFailed] = []
    studio.pool.job_failed.connect(failures.append)
    terminal = _build(qtbot, studio)
    assert terminal.outcome is Outcome.FAILED and terminal.kind is EventKind.ACTION_FAILED
    assert isinstance(terminal.detail, ActionFailedDetail)
    assert "without finishing its build" in terminal.detail.error
    assert [f.error_type for f in failures] == ["BuildProcessFailed"]
    assert not project.build_dir.exists() or not (project.build_dir / "assets.pa").exists()


def test_a_line_that_is_not_an_event_fails_the_build_with_the_line_shown(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    open_and_list(qtbot, studio, project.root)
    assert studio.session is not None and studio.session.listing is not None
    started = PackerEvent(
        project_id=studio.session.listing.project_id, operation_id="b1", operation="build",
        sequence=1, kind=EventKind.BUILD_STARTED, timestamp=datetime.now(UTC),
        summary="Build started", detail=BuildStartedDetail(asset_count=2, input_bytes=8))
    # After its first event, something else on the child's stdout (a stray print): no
    # traceback; the build fails visibly and says what it read.
    script = f"import sys; sys.stdout.write({started.to_json_line() + 'Building stuff...'!r})"
    monkeypatch.setattr("studio.services.build_process.build_command",
                        lambda root: [sys.executable, "-c", script])
    failures: list[JobFailed] = []
    studio.pool.job_failed.connect(failures.append)
    terminal = _build(qtbot, studio)
    assert terminal.operation_id == "b1" and terminal.outcome is Outcome.FAILED
    assert [f.error_type for f in failures] == ["BuildProcessFailed"]
    assert isinstance(terminal.detail, ActionFailedDetail)
    assert "not a packer event" in terminal.detail.error
    assert "'Building stuff...'" in terminal.detail.error


def test_the_child_s_lines_are_read_in_batches_whole() -> None:
    read_end, write_end = os.pipe()
    batches: queue.Queue[tuple[float, list[bytes]]] = queue.Queue()

    def reader() -> None:
        for lines in read_line_batches(read_end, every_s=0.1):
            batches.put((time.monotonic(), lines))
        batches.put((time.monotonic(), []))
        os.close(read_end)

    thread = threading.Thread(target=reader)
    thread.start()
    os.write(write_end, b'{"first": 1}\n')
    got = [batches.get(timeout=10)]
    # Then one line per write, as the packer flushes each event, a line cut across writes,
    # and a last line without its newline.
    for n in range(50):
        os.write(write_end, b'{"n": %d}\n' % n)
    os.write(write_end, b'{"cut": ')
    os.write(write_end, b'"across"}\n{"last": true}')
    os.close(write_end)
    while got[-1][1]:
        got.append(batches.get(timeout=10))
    thread.join()
    lines = [line for _at, batch in got for line in batch]
    assert lines == [b'{"first": 1}', *(b'{"n": %d}' % n for n in range(50)),
                     b'{"cut": "across"}', b'{"last": true}']
    times = [at for at, batch in got if batch]
    # A read at most every 0.1 s: the 52 lines written after the first did not each wake it.
    assert all(later - earlier >= 0.1 for earlier, later in itertools.pairwise(times))
    assert len(got) <= 5
