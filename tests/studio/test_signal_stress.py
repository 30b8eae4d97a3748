"""A million cross-thread Signal emits must survive (guards any PySide6 upgrade).

PySide6 6.12.0 on CPython 3.11 drops one reference to `True` per `Signal.emit` and aborts the
process (`Fatal Python error: bool_dealloc`) after a few hundred emits; see docs/dependencies.md.
This test emits from a plain worker thread to a `@Slot` of a GUI-thread QObject, a million
times, and also checks that the refcount of `True` did not drain, which catches the leak on
interpreters where it would not (yet) crash.
"""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QObject, QThread, Signal, Slot
from pytestqt.qtbot import QtBot

EMITS = 1_000_000
WINDOW = 20_000  # emits in flight at most, so Qt's posted-event queue stays small


class Emitter(QObject):
    ticked = Signal(object)


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.total = 0
        self.wrong_thread = 0
        self.gui_thread = QThread.currentThread()
        self.target = 0
        self.caught_up = threading.Event()

    @Slot(object)
    def on_tick(self, value: object) -> None:
        self.count += 1
        self.total += value  # type: ignore[operator]
        if QThread.currentThread() is not self.gui_thread:
            self.wrong_thread += 1
        if self.count >= self.target:
            self.caught_up.set()


@pytest.mark.stress
def test_a_million_cross_thread_emits_survive(qtbot: QtBot) -> None:
    receiver = Receiver()
    emitter = Emitter()  # lives on the GUI thread; emitted from the worker: a queued connection
    emitter.ticked.connect(receiver.on_tick)
    true_refs_before = sys.getrefcount(True)
    failures: list[BaseException] = []

    def produce() -> None:
        try:
            sent = 0
            while sent < EMITS:
                batch = min(WINDOW, EMITS - sent)
                receiver.caught_up.clear()
                receiver.target = sent + batch
                for value in range(sent, sent + batch):
                    emitter.ticked.emit(value)
                sent += batch
                if not receiver.caught_up.wait(60):
                    raise TimeoutError(f"GUI thread stuck at {receiver.count} of {sent}")
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=produce)
    worker.start()
    qtbot.waitUntil(lambda: receiver.count == EMITS or bool(failures), timeout=240_000)
    worker.join()
    assert not failures
    assert receiver.count == EMITS
    assert receiver.total == EMITS * (EMITS - 1) // 2  # every value arrived exactly once
    assert receiver.wrong_thread == 0
    # 6.12.0 on 3.11 loses one reference to True per emit; allow only incidental noise.
    assert sys.getrefcount(True) - true_refs_before > -1000
