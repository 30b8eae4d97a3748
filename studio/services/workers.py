"""Every packer call runs here, off the GUI thread.

A job is a plain function `fn(sink, token) -> value` run by a QRunnable on the pool's own
QThreadPool. Its outcome crosses back as data (`JobSucceeded` / `JobFailed`) through a signal of a
composed QObject to `@Slot` methods of the `WorkerPool`, which lives on the GUI thread and then
calls the job's callbacks there. Reads may run side by side; writes (mutations, builds) go one at a
time: a second write while one runs is refused with a message rather than queued behind it, so the
user always knows what is happening. Cancellation is cooperative (packer CancellationToken).

User first: a read the user is waiting for (the details of the asset just clicked) is submitted
`interactive=True` and runs on threads of its own, so it is never queued behind background reads
or the build, whatever occupies the shared threads. Work the Studio starts on its own (the
baseline scan and the validation pass after a project opens, the focus rescan) is submitted
`background=True`: it runs one job at a time on a thread of its own, in the order submitted, is
never what makes the Studio ask "work is running" (it is simply cancelled), and its cancellation
is no failure.

Events do not travel through here: the job's `sink` comes from the event lane
(`studio.services.event_lane`), the one module that moves events across threads.
"""

from __future__ import annotations

import itertools
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from PySide6.QtCore import QDeadlineTimer, QObject, QRunnable, QThreadPool, Signal, Slot

from packer.errors import PackerError
from packer.lane.cancellation import CancellationToken, OperationCancelled
from packer.lane.events import PackerEvent
from packer.lane.sinks import EventSink


class WorkerSinkLike(Protocol):
    """What the event lane hands each job: a sink, closed once when the job ends."""

    def publish(self, event: PackerEvent) -> None: ...

    def close(self, error: Any = None) -> None: ...


class EventLaneLike(Protocol):
    def open_sink(self, label: str, token: CancellationToken) -> WorkerSinkLike: ...


class _NullWorkerSink:
    """Used when no lane is wired (tests of the pool alone): events go nowhere."""

    wants_events = False

    def publish(self, event: PackerEvent) -> None:
        return None

    def close(self, error: Any = None) -> None:
        return None


class JobClass(StrEnum):
    READ = "read"  # scans, doctor, details, previews: may run side by side
    WRITE = "write"  # mutations and builds: one at a time


JobFn = Callable[[EventSink, CancellationToken], object]


@dataclass(frozen=True, slots=True)
class JobInfo:
    job_id: int
    label: str
    job_class: JobClass
    interactive: bool = False
    background: bool = False


@dataclass(frozen=True, slots=True)
class JobSucceeded:
    job: JobInfo
    value: object


@dataclass(frozen=True, slots=True)
class JobFailed:
    """A job that raised. `expected` errors (bad input) get no traceback in the user's face."""

    job: JobInfo
    message: str
    error_type: str
    traceback: str | None
    cancelled: bool = False
    expected: bool = False

    @property
    def title(self) -> str:
        if self.cancelled:
            return f"{self.job.label} was cancelled"
        return f"{self.job.label} failed: {self.message}"


def failure_from_exception(job: JobInfo, error: BaseException) -> JobFailed:
    cancelled = isinstance(error, OperationCancelled)
    expected = cancelled or isinstance(error, PackerError)
    return JobFailed(
        job=job,
        message=str(error) or type(error).__name__,
        error_type=type(error).__name__,
        traceback=None if cancelled else "".join(traceback.format_exception(error)),
        cancelled=cancelled,
        expected=expected,
    )


class _WorkerSignals(QObject):
    # Past-tense facts; carried as data to the pool's slots on the GUI thread (queued).
    returned = Signal(object)
    errored = Signal(object)


class _Worker(QRunnable):
    def __init__(
        self, info: JobInfo, fn: JobFn, token: CancellationToken, lane: EventLaneLike | None
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the pool keeps it until its outcome has been delivered
        self.info = info
        self.token = token
        self.signals = _WorkerSignals()
        self._fn = fn
        self._lane = lane

    def run(self) -> None:
        _follow_tracer()
        try:
            sink: WorkerSinkLike = (
                self._lane.open_sink(self.info.label, self.token) if self._lane
                else _NullWorkerSink()
            )
        except BaseException as exc:  # a lane that cannot open must still end the job visibly
            self.signals.errored.emit(failure_from_exception(self.info, exc))
            return
        try:
            value = self._fn(sink, self.token)
        except BaseException as exc:
            sink.close(error=exc)
            self.signals.errored.emit(failure_from_exception(self.info, exc))
        else:
            sink.close()
            self.signals.returned.emit(JobSucceeded(self.info, value))


def _follow_tracer() -> None:
    """Qt's pool threads are not started by `threading`, so a tracer installed for new threads
    with `threading.settrace` (coverage measuring the tests, a debugger) never reaches them:
    install it here, so work run on workers is measured too. Nothing happens without one."""
    trace = threading.gettrace()
    if trace is not None and sys.gettrace() is None:
        sys.settrace(trace)


@dataclass(slots=True)
class _Pending:
    worker: _Worker
    on_result: Callable[[Any], None] | None
    on_failure: Callable[[JobFailed], None] | None


class WorkerPool(QObject):
    """Runs jobs; tells the GUI when they start, succeed, fail and when the pool goes idle."""

    job_started = Signal(object)  # JobInfo
    job_succeeded = Signal(object)  # JobSucceeded
    job_failed = Signal(object)  # JobFailed
    job_refused = Signal(str)  # why a write was not started
    busy_changed = Signal(bool)

    def __init__(
        self, lane: EventLaneLike | None = None, parent: QObject | None = None,
        max_threads: int = 4, interactive_threads: int = 2,
    ) -> None:
        super().__init__(parent)
        self._lane = lane
        self._threads = QThreadPool(self)
        self._threads.setMaxThreadCount(max_threads)
        self._interactive = QThreadPool(self)  # the user's own lane (see the module docstring)
        self._interactive.setMaxThreadCount(interactive_threads)
        # The Studio's own work: one job at a time, so it takes at most one core from the user.
        self._background = QThreadPool(self)
        self._background.setMaxThreadCount(1)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}

    # -- queries --

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def running(self) -> list[JobInfo]:
        return [p.worker.info for p in self._pending.values()]

    @property
    def busy_for_user(self) -> bool:
        """Work the user started (or waits for) is running: background work does not count."""
        return any(not p.worker.info.background for p in self._pending.values())

    def running_write(self) -> JobInfo | None:
        return next((i for i in self.running() if i.job_class is JobClass.WRITE), None)

    # -- commands --

    def submit(
        self,
        label: str,
        fn: JobFn,
        *,
        job_class: JobClass = JobClass.READ,
        on_result: Callable[[Any], None] | None = None,
        on_failure: Callable[[JobFailed], None] | None = None,
        interactive: bool = False,
        background: bool = False,
    ) -> JobInfo | None:
        """Start a job; None (and `job_refused`) when a write is asked while another write runs.
        `interactive`: a read the user waits for, run on the interactive threads;
        `background`: a read the Studio starts on its own, run on the background thread."""
        if (interactive or background) and job_class is not JobClass.READ:
            raise ValueError("only reads run on the interactive or background lanes")
        if interactive and background:
            raise ValueError("a job is interactive or background, not both")
        if job_class is JobClass.WRITE:
            current = self.running_write()
            if current is not None:
                self.job_refused.emit(
                    f"{label} was not started: {current.label} is still running. "
                    "Wait for it to finish or cancel it."
                )
                return None
        info = JobInfo(next(self._ids), label, job_class, interactive, background)
        worker = _Worker(info, fn, CancellationToken(), self._lane)
        worker.signals.returned.connect(self._on_returned)
        worker.signals.errored.connect(self._on_errored)
        was_busy = self.busy
        self._pending[info.job_id] = _Pending(worker, on_result, on_failure)
        self.job_started.emit(info)
        if not was_busy:
            self.busy_changed.emit(True)
        threads = (self._interactive if interactive else
                   self._background if background else self._threads)
        threads.start(worker)
        return info

    def cancel(self, job_id: int) -> None:
        pending = self._pending.get(job_id)
        if pending is not None:
            pending.worker.token.cancel()

    def cancel_all(self) -> None:
        for pending in self._pending.values():
            pending.worker.token.cancel()

    def wait_for_threads(self, timeout_ms: int = 30_000) -> bool:
        """Block until no job body is running (used only when shutting down)."""
        deadline = QDeadlineTimer(timeout_ms)
        shared = self._threads.waitForDone(deadline)
        background = self._background.waitForDone(deadline)
        return bool(self._interactive.waitForDone(deadline) and shared and background)

    def active_thread_count(self) -> int:
        return int(self._threads.activeThreadCount() + self._interactive.activeThreadCount()
                   + self._background.activeThreadCount())

    # -- outcomes, on the GUI thread --

    @Slot(object)
    def _on_returned(self, outcome: JobSucceeded) -> None:
        pending = self._take(outcome.job.job_id)
        if pending is None:
            return
        self.job_succeeded.emit(outcome)
        if pending.on_result is not None:
            self._call_back(outcome.job, pending.on_result, outcome.value)
        self._emit_idle_if_done()

    @Slot(object)
    def _on_errored(self, failure: JobFailed) -> None:
        pending = self._take(failure.job.job_id)
        if pending is None:
            return
        self.job_failed.emit(failure)
        if pending.on_failure is not None:
            self._call_back(failure.job, pending.on_failure, failure)
        self._emit_idle_if_done()

    def _take(self, job_id: int) -> _Pending | None:
        pending = self._pending.pop(job_id, None)
        if pending is not None:
            pending.worker.signals.deleteLater()
        return pending

    def _call_back(self, job: JobInfo, callback: Callable[[Any], None], value: Any) -> None:
        # A bug in a callback must show up as a failure of its job, not vanish in Qt's stderr.
        try:
            callback(value)
        except Exception as exc:
            self.job_failed.emit(failure_from_exception(job, exc))

    def _emit_idle_if_done(self) -> None:
        if not self._pending:
            self.busy_changed.emit(False)
