"""Ctrl+C and SIGTERM during a command: the operation is cancelled, never torn.

While a command runs, the first SIGINT or SIGTERM cancels the command's CancellationToken with the
signal's name as the reason: the operation stops at its next check, publishes a `cancelled`
terminal, and removes what it had staged (a build past its commit point completes instead, and
says so). A second signal stops at once (KeyboardInterrupt): the operation did not answer. The
exit code is 130 for SIGINT and 143 for SIGTERM (128 + the signal), as shells report them.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any, Self

from packer.lane.cancellation import CancellationToken

SIGNAL_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupts:
    """Routes SIGINT and SIGTERM to `token` while active (main thread only: elsewhere Python
    cannot install handlers, and the caller's own handling stays)."""

    def __init__(self, token: CancellationToken) -> None:
        self.token = token
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}

    @property
    def exit_code(self) -> int | None:
        return None if self.received is None else SIGNAL_EXIT_CODES[self.received]

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNAL_EXIT_CODES:
                self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise KeyboardInterrupt  # the second one: stop now
        self.received = signal.Signals(signum)
        self.token.cancel(f"interrupted by {self.received.name}")
