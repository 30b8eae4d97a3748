"""One writer at a time per project, across threads and processes; readers never see a torn state.

The lock is `assets/.prometeu/lock`, taken with `flock`: a mutation holds it exclusively
(`write_lock`), a scan holds it shared (`read_lock`, used by
packer.workspace.scan.build_snapshot), so a scan waits for an apply in progress and never reads a
half-moved root or a registry out of step with the disk. `flock` belongs to an open file
description, so two threads of one process that each open the file exclude each other exactly like
two processes do; an in-process `threading.Lock` per project still serialises writer threads first,
so they queue in the process instead of spinning on flock.

The writer writes who it is (pid, host, command, start time) into the lock file, so the one that has
to wait can say who holds it. A process that dies releases its flock; the apply it left half done is
rolled back from its journal by the next writer (and by a reader that finds a journal pending).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from packer.errors import PackerError, WorkspaceNotInitialisedError
from packer.files.project import Project
from packer.files.safe_read import read_regular

if sys.platform != "win32":
    import fcntl

LOCK_FILE = "lock"
DEFAULT_READ_TIMEOUT_S = 30.0
_POLL_S = 0.01


class LockHeldError(PackerError):
    """Another writer (or, past the timeout, a long reader) holds the project lock."""

    def __init__(self, message: str, holder: LockHolder | None = None) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    command: str
    started_at: str  # ISO 8601, UTC

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} ({self.command}) since {self.started_at}"


@dataclass
class WriteLockHandle:
    """What the writer gets: the holder it wrote, and what recovery did before it could start."""

    holder: LockHolder
    recovered: list[str] = field(default_factory=list)


# Process-wide by nature: which thread of this process holds each project's write lock, so that a
# scan made by the writer itself (re-validating, reporting) does not wait for its own lock.
_table_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}
_owners: dict[str, int] = {}


def _key(project: Project) -> str:
    return os.path.realpath(project.packer_dir)


def _thread_lock(key: str) -> threading.Lock:
    with _table_guard:
        return _thread_locks.setdefault(key, threading.Lock())


def holds_write_lock(project: Project) -> bool:
    """True when the calling thread holds this project's write lock."""
    with _table_guard:
        return _owners.get(_key(project)) == threading.get_ident()


def _try_flock(fd: int, exclusive: bool) -> bool:
    if sys.platform == "win32":  # no flock: the in-process lock is all there is
        return True
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    try:
        fcntl.flock(fd, mode)
    except BlockingIOError:
        return False
    return True


def _unflock(fd: int) -> None:
    if sys.platform != "win32":
        fcntl.flock(fd, fcntl.LOCK_UN)


def _flock_until(fd: int, exclusive: bool, deadline: float) -> bool:
    while not _try_flock(fd, exclusive):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)  # flock has no timed wait; a short poll keeps the waiter cancellable
    return True


def read_holder(lock_path: Path) -> LockHolder | None:
    """The writer named in the lock file, if one is there (a reader leaves it empty)."""
    try:
        data = json.loads(read_regular(lock_path, follow_symlinks=False, limit=1 << 16))
        return LockHolder(
            pid=int(data["pid"]), host=str(data["host"]), command=str(data["command"]),
            started_at=str(data["started_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _held_message(project: Project, waited: float, *, reading: bool = False) -> LockHeldError:
    holder = read_holder(project.lock_path)
    who = (
        f"held by {holder.describe()}" if holder is not None
        else "held by another reader or writer of this project"
    )
    what = "read" if reading else "change"
    waited_text = f" after waiting {waited:g} s" if waited > 0 else ""
    return LockHeldError(
        f"cannot {what} {project.root.name}: its lock ({project.lock_path}) is {who}{waited_text}. "
        "Try again when that operation has finished.",
        holder,
    )


def _current_command() -> str:
    argv = [os.path.basename(sys.argv[0]), *sys.argv[1:3]] if sys.argv and sys.argv[0] else []
    return " ".join(argv) or "python"


@contextlib.contextmanager
def write_lock(
    project: Project, *, timeout: float = 0.0, command: str | None = None
) -> Iterator[WriteLockHandle]:
    """Hold the project's exclusive lock; wait up to `timeout` seconds, else LockHeldError.

    On entry, an apply left half done by a crashed writer is rolled back (or, past its commit
    point, finished) from its journal before the caller may change anything.
    """
    if not project.packer_dir.is_dir():
        raise WorkspaceNotInitialisedError(
            f"{project.packer_dir} does not exist: run `prometeu-packer init` on the project first"
        )
    key = _key(project)
    if holds_write_lock(project):
        raise RuntimeError("this thread already holds the project's write lock")
    deadline = time.monotonic() + max(0.0, timeout)
    thread_lock = _thread_lock(key)
    acquired = thread_lock.acquire(timeout=timeout) if timeout > 0 else thread_lock.acquire(
        blocking=False
    )
    if not acquired:
        raise _held_message(project, timeout)
    try:
        fd = os.open(project.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        thread_lock.release()
        raise PackerError(
            f"cannot open the project lock {project.lock_path}: {exc.strerror or exc}"
        ) from exc
    try:
        if not _flock_until(fd, True, deadline):
            raise _held_message(project, timeout)
        holder = LockHolder(
            pid=os.getpid(), host=socket.gethostname(), command=command or _current_command(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        # In place, not by rename: the flock lives on this inode.
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder.__dict__, sort_keys=True).encode("utf-8"), 0)
        except OSError as exc:  # a full disk, a quota: nothing has been changed yet
            raise PackerError(
                f"cannot write the project lock {project.lock_path}: {exc.strerror or exc}"
            ) from exc
        with _table_guard:
            _owners[key] = threading.get_ident()
        try:
            handle = WriteLockHandle(holder=holder, recovered=recover_pending(project))
            yield handle
        finally:
            with _table_guard:
                _owners.pop(key, None)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        with contextlib.suppress(OSError):
            _unflock(fd)
        os.close(fd)
        thread_lock.release()


JOURNAL_DIR = "journal"  # under assets/.prometeu/ (packer.files.journal keeps it there)


def recover_pending(project: Project) -> list[str]:
    """packer.files.journal's `recover_pending`, imported only when a journal may be pending
    (the journal and its step models cost ≈ 5 ms of every command's start-up otherwise)."""
    from packer.files.journal import recover_pending as recover

    return recover(project)


def _journal_pending(project: Project) -> bool:
    try:
        return any((project.packer_dir / JOURNAL_DIR).iterdir())
    except OSError:
        return False


def _open_for_reading(path: Path) -> int | None:
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        with contextlib.suppress(OSError):
            return os.open(path, flags, 0o644)
    return None  # read-only workspace with no lock file: no writer can be working here


@contextlib.contextmanager
def read_lock(project: Project, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the project's shared lock while reading, so no apply is half done meanwhile.

    Waits up to `timeout` seconds (default DEFAULT_READ_TIMEOUT_S) for a writer to finish.

    Free when the workspace is not initialised (nothing is created then) or when the calling
    thread already holds the write lock. A journal left by a crashed writer is recovered first.
    """
    if not project.packer_dir.is_dir() or holds_write_lock(project):
        yield
        return
    timeout = DEFAULT_READ_TIMEOUT_S if timeout is None else timeout
    deadline = time.monotonic() + max(0.0, timeout)
    fd = _open_for_reading(project.lock_path)
    if fd is None:
        yield
        return
    try:
        if not _flock_until(fd, False, deadline):
            raise _held_message(project, timeout, reading=True)
        if _journal_pending(project):
            _unflock(fd)
            with contextlib.suppress(PackerError, OSError), write_lock(
                project, timeout=max(0.0, deadline - time.monotonic()), command="recovery"
            ):
                pass
            if not _flock_until(fd, False, deadline):
                raise _held_message(project, timeout, reading=True)
        yield
    finally:
        with contextlib.suppress(OSError):
            _unflock(fd)
        os.close(fd)
