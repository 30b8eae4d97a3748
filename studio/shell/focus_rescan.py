"""Coming back to the Studio from another program rescans the open project, so that what was
changed there shows up: when the setting is on, at most once per `interval_s`, never while a
rescan or the baseline runs, nor beside a build or a mutation (they go first)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot

from studio.services.session import ProjectSession
from studio.services.workers import WorkerPool

# Switching back and forth between programs must not keep the disk busy.
FOCUS_RESCAN_INTERVAL_S = 5.0


class FocusRescan(QObject):
    """Decides, on each return to the main window, whether the open project is rescanned."""

    def __init__(self, pool: WorkerPool, session: Callable[[], ProjectSession | None],
                 enabled: Callable[[], bool], say: Callable[[str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._session = session
        self._enabled = enabled
        self._say = say
        self.interval_s = FOCUS_RESCAN_INTERVAL_S
        self.last = -math.inf  # time.monotonic() of the last focus rescan
        # A return inside the throttle is answered when it ends (unless the user left again):
        # an edit made in another program in those seconds would otherwise wait for the next.
        self.deferred = QTimer(self)
        self.deferred.setSingleShot(True)
        self.deferred.timeout.connect(self.on_window_activated)

    @Slot()
    def on_window_activated(self) -> None:
        session = self._session()
        if not self._enabled() or session is None:
            return
        if session.rescanning or self.pool.running_write() is not None:
            self._say("focus rescan skipped: work is running")
            return
        now = time.monotonic()
        wait_s = self.last + self.interval_s - now
        if wait_s > 0:
            self._say("focus rescan deferred: throttled")
            self.deferred.start(math.ceil(wait_s * 1000.0))
            return
        self.last = now
        self._say("focus rescan")
        session.rescan(background=True)  # the Studio's own: the user's work goes first

    @Slot()
    def on_window_deactivated(self) -> None:
        self.deferred.stop()  # the next return decides again
        self._say("window inactive")
