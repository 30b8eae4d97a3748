"""cache.json written by a forked child while the parent stages and promotes the build.

Serialising cache.json (≈ 0.14 s of a 10k full build) needs only what is final once the header
is made. A child forked then writes it whole to a side file beside cache.json (atomically,
fsynced) and sends back its content hash, while the parent writes the mirrors and the artifact,
commits and promotes. The parent then renames the side file over cache.json, where a build has
always written its cache, so what a reader sees, and when, is unchanged. A build that ends any
other way removes the side file (one fixed name: a crash leaves at most one, which the next
such write replaces); a child that fails leaves the parent to write the cache itself.
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
    """A child writing one file beside its target; `finish` puts it in place."""

    def __init__(self, pid: int, reader: IO[bytes], side: Path) -> None:
        self._pid: int | None = pid
        self._reader = reader
        self._side = side

    def finish(self, target: Path) -> str | None:
        """Rename the side file over `target` and return what the child sent (the content
        hash); None when the child failed, and nothing was renamed."""
        with self._reader:
            sent = self._reader.read().decode("ascii", "replace")
        assert self._pid is not None
        _pid, status = os.waitpid(self._pid, 0)
        self._pid = None
        if status != 0 or not sent:
            self._remove_side()
            return None
        os.replace(self._side, target)
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
        self._remove_side()

    def _remove_side(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._side.unlink()


def start_side_writer(write: Callable[[Path], str], target: Path) -> SideWriter | None:
    """Fork a child that runs `write(side)` (it writes the side file, returns its hash)."""
    if not hasattr(os, "fork"):
        return None
    side = target.with_name(target.name + SIDE_SUFFIX)
    pid, reader = fork_child(lambda pipe: pipe.write(write(side).encode("ascii")))
    return SideWriter(pid, reader, side)
