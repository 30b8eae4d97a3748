"""Files of a full build's tail written by forked children while the parent stages and promotes.

What a build writes once its payloads are laid out (the tool metadata, ≈ 0.13 s at 10k; the
up-to-date manifest's rows, ≈ 0.1 s) or its header made (cache.json, ≈ 0.14 s) needs only what
is final by then. A child forked then writes it to a side file beside its target
(`<target>.next`) and sends back what the parent needs of it (a content hash, lengths), while
the parent writes the artifact, commits and promotes. The parent then renames the side file
over its target, where a build has always written it, so what a reader sees, and when, is
unchanged (or, for the manifest's rows, reads the side file into the manifest it writes, and
removes it). A build that ends any other way removes the side files (one fixed name each: a
crash leaves at most one, which the next such write replaces); a child that fails, or cannot
be forked, leaves the parent to do that work itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import IO

from packer.build.forking import fork_child
from packer.build.staging import fsync_path

SIDE_SUFFIX = ".next"


class SideWriter:
    """A child writing one side file; `finish` puts it in place, `result` leaves it there."""

    def __init__(self, pid: int, reader: IO[bytes], side: Path) -> None:
        self._pid: int | None = pid
        self._reader = reader
        self.side = side

    def result(self) -> str | None:
        """Wait for the child: what it sent, or None when it failed (its side file removed)."""
        with self._reader:
            sent = self._reader.read().decode("ascii", "replace")
        assert self._pid is not None
        _pid, status = os.waitpid(self._pid, 0)
        self._pid = None
        if status != 0 or not sent:
            self.remove_side()
            return None
        return sent

    def finish(self, target: Path) -> str | None:
        """Rename the side file over `target` and return what the child sent (the content
        hash); None when the child failed, and nothing was renamed."""
        sent = self.result()
        if sent is None:
            return None
        os.replace(self.side, target)
        fsync_path(target.parent)
        return sent

    def abandon(self) -> None:
        """Stop the child if it still runs, and remove what it wrote."""
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = None
        self._reader.close()
        self.remove_side()

    def remove_side(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.side.unlink()


def start_side_writer(write: Callable[[Path], str], target: Path) -> SideWriter | None:
    """Fork a child that runs `write(side)` (it writes the side file, returns what the parent
    is to know of it: ASCII text, never empty); None when none can be forked."""
    if not hasattr(os, "fork"):
        return None
    side = target.with_name(target.name + SIDE_SUFFIX)
    try:
        pid, reader = fork_child(lambda pipe: pipe.write(write(side).encode("ascii")))
    except OSError:  # EAGAIN, ENOMEM: no process to spare; the parent writes it itself
        return None
    return SideWriter(pid, reader, side)
