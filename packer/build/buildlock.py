"""One build at a time per project: an exclusive `flock` on `assets/.prometeu/build.lock`.

Separate from the project writer lock (packer.files.lock) on purpose: a build only reads the
workspace (its snapshot is taken under the shared read lock) and writes `build/` and `cache.json`,
which no mutation touches, so a long build must not hold back scans and mutations. Two builds,
however, would delete each other's staging folders.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from packer.errors import PackerError

if sys.platform != "win32":
    import fcntl

LOCK_NAME = "build.lock"


class BuildRunningError(PackerError):
    """Another build of this project is running."""


@contextlib.contextmanager
def build_lock(packer_dir: Path) -> Iterator[None]:
    if sys.platform == "win32" or not packer_dir.is_dir():
        yield  # no flock on Windows; an uninitialised workspace has nothing to build
        return
    fd = os.open(packer_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildRunningError(
                f"another build of this project is running (it holds {packer_dir / LOCK_NAME}); "
                "try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def build_running(packer_dir: Path) -> bool:
    """True when a build of this project holds the build lock now (a non-blocking probe).

    Creates nothing: with no lock file, no build has ever run here.
    """
    if sys.platform == "win32":
        return False
    try:
        fd = os.open(packer_dir / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
