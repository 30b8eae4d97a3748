"""The worker pool: outcomes cross to the GUI thread as data; writes one at a time; cancel."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from packer.errors import NotAProjectError
from packer.lane.cancellation import CancellationToken, OperationCancelled
from packer.lane.sinks import EventSink
from studio.services.workers import JobClass, JobFailed, JobSucceeded, WorkerPool


class RecordingLane:
    """Stands in for the event lane: records every sink it opens and how each was closed."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.closed: list[tuple[str, Any]] = []

    def open_sink(self, label: str, token: CancellationToken) -> RecordingLane.Sink:
        self.opened.append(label)
        return RecordingLane.Sink(self, label)

    class Sink:
        def __init__(self, lane: RecordingLane, label: str) -> None:
            self.lane, self.label = lane, label

        def publish(self, event: object) -> None:
            return None

        def close(self, error: Any = None) -> None:
            self.lane.closed.append((self.label, error))


@pytest.fixture
def pool(qtbot: QtBot) -> WorkerPool:
    return WorkerPool(RecordingLane())


def test_result_runs_on_a_worker_and_arrives_on_the_gui_thread(qtbot: QtBot) -> None:
    lane = RecordingLane()
    pool = WorkerPool(lane)
    gui = QThread.currentThread()
    ran_on: list[bool] = []
    delivered_on: list[bool] = []

    def job(sink: EventSink, token: CancellationToken) -> int:
        ran_on.append(QThread.currentThread() is gui)
        return 42

    def on_result(value: int) -> None:
        delivered_on.append(QThread.currentThread() is gui)
        assert value == 42

    with qtbot.waitSignal(pool.job_succeeded) as blocker:
        info = pool.submit("answer", job, on_result=on_result)
    assert info is not None
    outcome = blocker.args[0]
    assert isinstance(outcome, JobSucceeded) and outcome.value == 42
    assert ran_on == [False] and delivered_on == [True]
    assert lane.opened == ["answer"] and lane.closed == [("answer", None)]
    qtbot.waitUntil(lambda: pool.active_thread_count() == 0)


def test_an_exception_becomes_a_visible_failure_with_traceback(qtbot: QtBot) -> None:
    lane = RecordingLane()
    pool = WorkerPool(lane)
    seen: list[JobFailed] = []

    def job(sink: EventSink, token: CancellationToken) -> None:
        raise ZeroDivisionError("boom")

    with qtbot.waitSignal(pool.job_failed) as blocker:
        pool.submit("explode", job, on_failure=seen.append)
    failure = blocker.args[0]
    assert isinstance(failure, JobFailed)
    assert failure.title == "explode failed: boom"
    assert failure.traceback is not None and "ZeroDivisionError" in failure.traceback
    assert not failure.cancelled and not failure.expected
    assert seen == [failure]
    assert isinstance(lane.closed[0][1], ZeroDivisionError)
    assert not pool.busy
    qtbot.waitUntil(lambda: pool.active_thread_count() == 0)


def test_a_packer_error_is_expected_and_a_broken_callback_still_fails_visibly(
    qtbot: QtBot, pool: WorkerPool
) -> None:
    def job(sink: EventSink, token: CancellationToken) -> None:
        raise NotAProjectError("/x has no prometeu.json")

    with qtbot.waitSignal(pool.job_failed) as blocker:
        pool.submit("open", job)
    assert blocker.args[0].expected

    def bad_callback(value: object) -> None:
        raise KeyError("bug in the GUI")

    succeeded: list[JobSucceeded] = []
    pool.job_succeeded.connect(succeeded.append)
    with qtbot.waitSignal(pool.job_failed) as callback_failure:
        pool.submit("fine", lambda s, t: 1, on_result=bad_callback)
    assert len(succeeded) == 1  # the job itself succeeded; its callback then failed visibly
    assert "KeyError" in (callback_failure.args[0].traceback or "")
    qtbot.waitUntil(lambda: pool.active_thread_count() == 0)


def test_cancel_stops_a_running_job_cooperatively(qtbot: QtBot, pool: WorkerPool) -> None:
    started = threading.Event()

    def job(sink: EventSink, token: CancellationToken) -> None:
        started.set()
        while True:  # a long loop that checks its token, like every packer loop
            token.raise_if_cancelled()
            token._event.wait(0.001)

    info = pool.submit("endless", job)
    assert info is not None
    qtbot.waitUntil(started.is_set)
    with qtbot.waitSignal(pool.job_failed) as blocker:
        pool.cancel(info.job_id)
    failure = blocker.args[0]
    assert failure.cancelled and failure.title == "endless was cancelled"
    assert failure.traceback is None
    qtbot.waitUntil(lambda: pool.active_thread_count() == 0)


def test_writes_go_one_at_a_time_and_reads_run_beside_them(qtbot: QtBot, pool: WorkerPool) -> None:
    release = threading.Event()
    both_reads_in = threading.Barrier(3)

    def slow_write(sink: EventSink, token: CancellationToken) -> str:
        release.wait(10)
        return "written"

    def read(sink: EventSink, token: CancellationToken) -> str:
        both_reads_in.wait(10)  # only passes if both reads run at the same time as the test
        return "read"

    first = pool.submit("build", slow_write, job_class=JobClass.WRITE)
    assert first is not None
    with qtbot.waitSignal(pool.job_refused) as refused:
        second = pool.submit("register", slow_write, job_class=JobClass.WRITE)
    assert second is None
    assert "build is still running" in refused.args[0]
    pool.submit("scan a", read)
    pool.submit("scan b", read)
    both_reads_in.wait(10)
    qtbot.waitUntil(lambda: len(pool.running()) == 1)
    assert pool.running_write() == first
    with qtbot.waitSignal(pool.busy_changed) as idle:
        release.set()
    assert idle.args == [False]
    qtbot.waitUntil(lambda: pool.active_thread_count() == 0)


def test_cancel_all_then_wait_leaves_no_thread(qtbot: QtBot, pool: WorkerPool) -> None:
    started = threading.Barrier(3)

    def job(sink: EventSink, token: CancellationToken) -> None:
        started.wait(10)
        while not token.cancelled:
            token._event.wait(0.01)
        raise OperationCancelled("stopped")

    pool.submit("a", job)
    pool.submit("b", job)
    started.wait(10)
    pool.cancel_all()
    assert pool.wait_for_threads(10_000)
    assert pool.active_thread_count() == 0
    qtbot.waitUntil(lambda: not pool.busy)


def test_a_tracer_set_for_new_threads_reaches_the_workers(qtbot: QtBot, pool: WorkerPool) -> None:
    # What coverage does to measure threads: Qt's pool threads must honour it too.
    traced: list[str] = []

    def tracer(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_name == "job_under_trace":
            traced.append(frame.f_code.co_name)

    def job_under_trace(sink: EventSink, token: CancellationToken) -> int:
        return 1

    threading.settrace(tracer)
    try:
        with qtbot.waitSignal(pool.job_succeeded):
            pool.submit("traced", job_under_trace)
    finally:
        threading.settrace(None)
    qtbot.waitUntil(lambda: pool.active_thread_count() == 0)
    assert traced == ["job_under_trace"]


def test_an_interactive_read_is_not_queued_behind_busy_shared_threads(qtbot: QtBot) -> None:
    pool = WorkerPool(RecordingLane(), max_threads=2)
    release = threading.Event()

    def blocking(sink: EventSink, token: CancellationToken) -> str:
        release.wait(10)
        return "background"

    pool.submit("build", blocking, job_class=JobClass.WRITE)
    pool.submit("background scan", blocking)
    pool.submit("another background scan", blocking)  # queued: both shared threads are taken
    with qtbot.waitSignal(pool.job_succeeded, timeout=5_000) as first:
        info = pool.submit("details of #3", lambda sink, token: "details", interactive=True)
    assert info is not None and info.interactive
    assert first.args[0].value == "details"  # while the build and the scans still wait
    assert len(pool.running()) == 3
    release.set()
    qtbot.waitUntil(lambda: not pool.busy)
    qtbot.waitUntil(lambda: pool.active_thread_count() == 0)


def test_only_reads_go_on_the_interactive_lane(pool: WorkerPool) -> None:
    with pytest.raises(ValueError, match="only reads"):
        pool.submit("build", lambda sink, token: None, job_class=JobClass.WRITE,
                    interactive=True)
