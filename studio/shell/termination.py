"""Ending the Studio from outside (SIGTERM from a session manager, Ctrl+C in a terminal).

A Python signal handler only runs when the interpreter gets control, which a Qt event loop idling
in C++ never gives it; and a default SIGTERM kills the process before the window state and the
Activity history are written. So the signal's number is written to a socket (signal's wakeup fd),
a QSocketNotifier wakes the GUI thread, and `requested` is emitted there, for the composition root
to close like a user would, minus the question.
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier, Signal, Slot

_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


def _note_only(signum: int, frame: FrameType | None) -> None:
    """The real work happens on the GUI thread, woken through the wakeup fd."""


class TerminationSignals(QObject):
    """Turns SIGTERM/SIGINT into `requested(name)` on the GUI thread. Call `uninstall()` after."""

    requested = Signal(str)

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous: dict[int, _Handler] = {
            sig: signal.signal(sig, _note_only) for sig in self.SIGNALS
        }
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_readable)

    @Slot()
    def _on_readable(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            data = self._reader.recv(64)
            for number in data:
                with contextlib.suppress(ValueError):
                    self.requested.emit(signal.Signals(number).name)

    def uninstall(self) -> None:
        self._notifier.setEnabled(False)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()
