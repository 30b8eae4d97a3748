"""A Studio build runs `prometeu-packer build --events jsonl` in a child process.

Why a process and not the worker thread itself: a build is pure Python for most of its time, and
one interpreter's GIL is shared by the build and the GUI thread. In process, a 10k build from the
Studio took 1.2–1.4× the command line's, its garbage collections and long C calls stalled the
GUI, and a click's details read ran at a quarter speed beside it (docs/benchmarks.md, "Studio at
scale"). In a child, the build has its own interpreter (and the machine's other core), and the
Studio keeps the GUI and its reads. The events are the packer's own, the same JSON lines a
terminal or CI gets: the worker thread running this job parses each line back into a
`PackerEvent` and publishes it to the job's sink, so the event lane, the Activity and the panels
see exactly what an in-process build would publish. It reads the child's output in batches, at
most every READ_EVERY_S (the child flushes each event; a reader waiting on the pipe woke for each,
and took the GIL from the GUI thread each time), through a pipe widened to hold what gathers
between reads. A line that is not an event fails the job, and shows the line.

Cancellation: the job's token is watched by a small thread that asks the child to cancel
(SIGTERM: the packer's CLI cancels the operation cleanly and publishes its `cancelled` terminal)
and kills it only if it has not ended KILL_AFTER_S later. The signal waits for the child's first
event: until then the child is still importing and has no handler, and SIGTERM would kill it. A
child that ends without a terminal event (it crashed, or could not start) fails the job with the
tail of what it wrote on stderr; the lane then closes the operation as failed.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from packer.files.project import Project
from packer.lane.cancellation import CancellationToken, OperationCancelled
from packer.lane.events import PackerEvent, parse_event_line
from packer.lane.sinks import EventSink

if sys.platform != "win32":  # as packer.files.lock: no fcntl there
    import fcntl

KILL_AFTER_S = 20.0  # a cancelled child that has not ended by then is killed
WATCH_EVERY_S = 0.25  # how often the watcher looks whether the child ended on its own
STDERR_TAIL_BYTES = 4000
READ_EVERY_S = 0.01  # the child's stdout is read at most this often (its lines gather between)
READ_SIZE = 1 << 20
PIPE_SIZE = 1 << 20  # the pipe's capacity asked for: Linux's default cap for unprivileged users
LINE_SHOWN = 200  # characters of a malformed line shown in the error


class BuildProcessFailed(RuntimeError):
    """The child ended without a terminal event: it crashed, was killed, or could not start."""


def build_command(root: Path) -> list[str]:
    return [sys.executable, "-m", "packer.cli.main", "build", "--events", "jsonl", str(root)]


def build_in_child(project: Project, sink: EventSink, token: CancellationToken) -> PackerEvent:
    """Build `project` in a child process, publishing its events to `sink` as they arrive.

    Returns the build's terminal event; raises BuildProcessFailed when there was none."""
    env = dict(os.environ, PYTHONUTF8="1", PYTHONIOENCODING="utf-8")
    with (tempfile.TemporaryFile() as stderr,  # a file, not a pipe: it never fills and blocks
          subprocess.Popen(build_command(project.root),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                           env=env) as child):
        watcher = _Watcher(child, token)
        watcher.start()
        terminal: PackerEvent | None = None
        try:
            assert child.stdout is not None
            _widen_pipe(child.stdout.fileno())
            listening = watcher.listening
            for lines in read_line_batches(child.stdout.fileno()):
                for line in lines:
                    if not line.strip():
                        continue
                    event = _parse(line)
                    if not listening.is_set():
                        listening.set()
                    sink.publish(event)
                    if event.terminal:
                        terminal = event
            code = child.wait()
        finally:
            if child.poll() is None:  # this thread is leaving early (e.g. a malformed line)
                child.kill()
            watcher.stop()
        if terminal is None and token.cancelled:
            raise OperationCancelled(f"the build was cancelled (its process ended, exit code "
                                     f"{code}, before it could say so){_tail(stderr)}")
        if terminal is None:
            raise BuildProcessFailed(
                f"the build process ended (exit code {code}) without finishing its build"
                + _tail(stderr))
        return terminal


def read_line_batches(fd: int, every_s: float = READ_EVERY_S) -> Iterator[list[bytes]]:
    """The lines written to `fd` until its end, in batches: one read of whatever the pipe holds
    at most every `every_s` (a read after a quiet spell is immediate). The child flushes each
    event as it happens, so a reader blocked on the pipe wakes (and takes the GIL from the GUI
    thread) once per event, 10k times in a 10k build; a pause between reads lets them gather.
    The last line may lack its newline."""
    rest = b""
    last_read = -math.inf
    while True:
        wait = every_s - (time.monotonic() - last_read)
        if wait > 0:
            time.sleep(wait)  # the child's lines gather in the pipe meanwhile
        chunk = os.read(fd, READ_SIZE)
        last_read = time.monotonic()
        if not chunk:
            break
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield lines
    if rest:
        yield [rest]


def _widen_pipe(fd: int) -> None:
    """Room for the lines that gather between two reads (a Linux pipe holds 64 KB, ≈ 125 of a
    build's events), so the child never waits for the reader; best effort."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if sys.platform != "win32" else None
    if set_size is None:
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, set_size, PIPE_SIZE)


def _parse(line: bytes) -> PackerEvent:
    try:
        return parse_event_line(line)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        shown = line[:LINE_SHOWN].decode("utf-8", "replace")
        raise BuildProcessFailed(
            f"the build process wrote a line that is not a packer event ({_first_line(exc)}): "
            f"{shown!r}") from None


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return " ".join(line.strip() for line in lines[:2]) if lines else type(exc).__name__


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - STDERR_TAIL_BYTES))
    text = stream.read().decode("utf-8", "replace").strip()
    return f": {text}" if text else ""


class _Watcher(threading.Thread):
    """Turns the job's cancellation into a signal to the child (and a kill if it lingers)."""

    def __init__(self, child: subprocess.Popen[bytes], token: CancellationToken) -> None:
        super().__init__(name="build-process-watcher", daemon=True)
        self.child = child
        self.token = token
        self.listening = threading.Event()  # the child published: its SIGTERM handler is on
        self._ended = threading.Event()

    def run(self) -> None:
        while not self._ended.is_set():
            if self.token.wait(WATCH_EVERY_S):
                break
        else:
            return
        deadline = time.monotonic() + KILL_AFTER_S
        while not self.listening.wait(WATCH_EVERY_S):
            if self._ended.is_set() or time.monotonic() > deadline:
                break
        if self.child.poll() is None:
            self.child.terminate()  # the packer cancels at its next check
            if not self._ended.wait(KILL_AFTER_S) and self.child.poll() is None:
                self.child.kill()

    def stop(self) -> None:
        self._ended.set()
        self.join()
