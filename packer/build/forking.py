"""Forking a child for a share of a build's work, from a process that may fork at all.

Only a caller whose other threads hold no lock a child could need may fork (the command line,
not the Studio's process): see packer.build.parallel. A child reports through a pipe and never
outlives its parent's operation; the parent kills and reaps it on every way out.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import IO

if sys.platform != "win32":  # as packer.files.lock: Windows has none, and builds there in
    import fcntl  # one process (no fork)


def fork_child(body: Callable[[IO[bytes]], object], *, pipe_bytes: int | None = None
               ) -> tuple[int, IO[bytes]]:
    """Fork a child that runs `body(pipe)` and exits (0 when it returned); the parent gets its
    pid and the pipe's reading end. What the child raises is printed on its stderr."""
    read_fd, write_fd = os.pipe()
    if pipe_bytes is not None:
        grow_pipe(write_fd, pipe_bytes)
    try:
        pid = os.fork()
    except OSError:  # the caller goes on without this child: no pipe left open
        os.close(read_fd)
        os.close(write_fd)
        raise
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        code = 1
        try:
            enter_child()
            with os.fdopen(write_fd, "wb", buffering=0) as pipe:
                body(pipe)
            code = 0
        except BrokenPipeError:
            code = 0  # the parent is gone: nobody wants the rest
        except BaseException:  # reported here; the exit status tells the parent
            traceback.print_exc(file=sys.stderr)
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, os.fdopen(read_fd, "rb")


def grow_pipe(fd: int, size: int) -> None:
    """Room for what waits in the pipe where the system allows it (Linux); else its default."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: the default
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)


def enter_child() -> None:
    """A forked child's first step: the parent handles Ctrl+C, a SIGTERM ends the child, and
    no collection walks (and so copies) the inherited heap."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _leave_stdout()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc.freeze()


def _leave_stdout() -> None:
    """The parent's stdout may be a pipe someone reads to its end (the Studio reads the event
    stream so): a child must not hold it open. Its stderr stays, for what goes wrong."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
