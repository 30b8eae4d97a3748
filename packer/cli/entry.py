"""The `prometeu-packer` console script.

Ctrl+C while Python is still importing the command line ends it quietly with 130, as Ctrl+C does
later (packer.cli.interrupts), instead of a traceback from whichever import it interrupted.
"""

from __future__ import annotations

import signal
from types import FrameType


def _interrupted_while_starting(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    previous = signal.signal(signal.SIGINT, _interrupted_while_starting)
    from packer.cli.main import main as run

    signal.signal(signal.SIGINT, previous)
    return run()
