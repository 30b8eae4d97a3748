"""The `prometeu-packer` console script.

Ctrl+C while Python is still importing the command line ends it quietly with 130, as Ctrl+C does
later (packer.cli.interrupts), instead of a traceback from whichever import it interrupted.

A finished command exits without the interpreter's teardown (`exit_without_teardown`): freeing a
10k build's heap object by object took 0.3–0.4 s after its last output, which the user (or the
Studio, waiting for its build process to end) only waited for. Every file the packer writes is
closed and synced by then; the output streams are flushed here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import NoReturn


def _interrupted_while_starting(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main() -> NoReturn:
    previous = signal.signal(signal.SIGINT, _interrupted_while_starting)
    from packer.cli.main import main as run

    signal.signal(signal.SIGINT, previous)
    run_and_exit(run)


def run_and_exit(run: Callable[[], int]) -> NoReturn:
    """Run the command, then end the process with its code and without the teardown; what
    its operation releases meanwhile is kept (nothing is freed for nothing)."""
    from packer.lane.release import keep_released_until_exit

    keep_released_until_exit()
    exit_without_teardown(run())


def exit_without_teardown(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process with `code` at once."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)
