"""Writes the Activity history on a thread of its own, so the GUI thread never touches the disk.

The model hands entries and acknowledgements to a `JournalWriter` (a queue append under a lock:
microseconds); the writer thread turns them into lines, appends them with one write + fsync per
batch (an operation's events sampled, see studio.panels.activity.journal), and appends
acknowledgements in the order they were asked; the rare compaction runs here too. Between
batches it waits `interval` seconds, so a burst of events costs one fsync, not one per event.

`flush()` blocks until everything asked so far is on disk (project switch, shutdown); `close()`
flushes and joins the thread. A disk error is logged and counted, never raised into the GUI: the
history is comfort, the packer's own files are the truth.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from studio.panels.activity.journal import ActivityJournal, JournalEntry

log = logging.getLogger(__name__)

THREAD_NAME = "activity-journal-writer"
FLUSH_INTERVAL_S = 0.25  # at most one append + fsync per quarter second under a flood


@dataclass(frozen=True, slots=True)
class _Append:
    entries: tuple[JournalEntry, ...]


@dataclass(frozen=True, slots=True)
class _Acknowledge:
    operation_ids: frozenset[str]


class JournalWriter:
    """The one owner of an ActivityJournal's file once the project is open."""

    def __init__(self, journal: ActivityJournal, interval: float = FLUSH_INTERVAL_S) -> None:
        self.journal = journal
        self.interval = interval
        self.errors = 0  # failed writes (logged); the GUI may show it, nothing raises
        self._cond = threading.Condition()
        self._commands: list[_Append | _Acknowledge] = []
        self._asked = 0  # flush tickets handed out
        self._done = 0  # flush tickets whose commands are on disk
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    # ---- any thread (the GUI thread in practice) --------------------------------------------

    def append(self, entries: Iterable[JournalEntry]) -> None:
        batch = tuple(entries)
        if batch:
            self._put(_Append(batch))

    def mark_acknowledged(self, operation_ids: Iterable[str]) -> None:
        ids = frozenset(operation_ids)
        if ids:
            self._put(_Acknowledge(ids))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything asked so far is written; False on timeout or when closed."""
        with self._cond:
            if not self._thread.is_alive():
                return not self._commands
            self._asked += 1
            ticket = self._asked
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._done >= ticket, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Write what is pending, then stop the thread. Idempotent."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _put(self, command: _Append | _Acknowledge) -> None:
        with self._cond:
            if self._closing:
                log.warning("activity history: dropped a write after close")
                return
            self._commands.append(command)
            self._cond.notify_all()

    # ---- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._commands or self._closing or self._asked > self._done
                )
                commands, self._commands = self._commands, []
                ticket, closing = self._asked, self._closing
            self._write(commands)
            if closing:
                # Operations that never ended keep what is known of them (they reopen as
                # incomplete): their held tails go out with the last write.
                self._guarded(self._spill, None)
            with self._cond:
                self._done = max(self._done, ticket)
                self._cond.notify_all()
                if closing and not self._commands:
                    return
                # Let a burst gather, unless someone waits for the disk.
                self._cond.wait_for(lambda: self._closing or self._asked > self._done,
                                    self.interval)

    def _write(self, commands: list[_Append | _Acknowledge]) -> None:
        pending: list[JournalEntry] = []
        for command in commands:
            if isinstance(command, _Append):
                pending.extend(command.entries)
                continue
            self._guarded(self._append_and_flush, pending)
            pending = []
            self._guarded(self.journal.mark_acknowledged, set(command.operation_ids))
        if pending:
            self._guarded(self._append_and_flush, pending)

    def _spill(self, _: None) -> None:
        self.journal.spill()
        self.journal.flush()

    def _append_and_flush(self, entries: list[JournalEntry]) -> None:
        self.journal.append(entries)
        self.journal.flush()

    def _guarded(self, action: Callable[[Any], None], argument: Any) -> None:
        try:
            action(argument)
        except OSError as exc:
            self.errors += 1
            log.warning("activity history %s could not be written: %s", self.journal.path, exc)
