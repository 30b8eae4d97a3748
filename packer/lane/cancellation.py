"""Cooperative cancellation: a Python thread cannot be killed, so long loops ask politely."""

from __future__ import annotations

import threading


class OperationCancelled(Exception):
    """Raised inside an operation when its token was cancelled; the operation ends `cancelled`."""


class CancellationToken:
    """Set once from any thread; checked by the operation between units of work."""

    __slots__ = ("_event", "reason")

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None  # why, when the canceller said (e.g. "SIGTERM")

    def cancel(self, reason: str | None = None) -> None:
        if not self._event.is_set() and reason is not None:
            self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled (or `timeout` seconds); True when cancelled."""
        return self._event.wait(timeout)

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise OperationCancelled(
                f"the operation was cancelled: {self.reason}" if self.reason
                else "the operation was cancelled")
