"""Activity history on disk: `<project>/.studio/activity.jsonl`.

One JSON object per line: the packer event envelope plus two Studio keys, `acknowledged` and
`made_by_lane`. Lines are appended (one write and one fsync per flush), so a crash can at worst
tear the last line, which loading skips with a warning. Trimming to the newest `CAP` entries and
acknowledgements rewrite the file atomically (temp file, fsync, rename): the file is never left
half-written. Progress updates are not journalled (only the lifecycle lane is history).

This class does the file work synchronously; in the Studio only the history writer thread
(studio.panels.activity.journal_writer) calls its writing methods, and `load` runs in the project's
opening job on a worker, so the GUI thread never touches the file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from packer.files.atomic import atomic_write_bytes
from packer.lane.events import PackerEvent

log = logging.getLogger(__name__)

CAP = 500  # entries kept; the file may grow to CAP + SLACK between trims
SLACK = 250
JOURNAL_NAME = "activity.jsonl"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    event: PackerEvent
    acknowledged: bool = False
    made_by_lane: bool = False

    def to_line(self) -> bytes:
        envelope = self.event.model_dump_json()
        extra = (
            f',"acknowledged":{"true" if self.acknowledged else "false"},'
            f'"made_by_lane":{"true" if self.made_by_lane else "false"}}}'
        )
        return (envelope[:-1] + extra + "\n").encode("utf-8")


def parse_entry(line: bytes | str) -> JournalEntry:
    """One line back into an entry; raises ValueError on anything malformed."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        acknowledged = bool(data.pop("acknowledged", False))
        made_by_lane = bool(data.pop("made_by_lane", False))
        event = PackerEvent.model_validate(data)
    except (json.JSONDecodeError, ValidationError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc).splitlines()[0]) from exc
    return JournalEntry(event, acknowledged, made_by_lane)


def journal_path(project_root: Path) -> Path:
    return project_root / ".studio" / JOURNAL_NAME


class ActivityJournal:
    """Appends entries in batches; `flush()` writes them (on the writer thread)."""

    def __init__(self, path: Path, cap: int = CAP) -> None:
        self.path = path
        self.cap = cap
        self._pending: list[bytes] = []
        self._lines_on_disk = 0
        self.skipped_on_load = 0

    def load(self) -> list[JournalEntry]:
        """The newest `cap` entries. Malformed lines (a torn last line) are skipped, warned."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("activity history %s could not be read: %s", self.path, exc)
            return []
        lines = raw.split(b"\n")
        entries: list[JournalEntry] = []
        self.skipped_on_load = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entries.append(parse_entry(line))
            except ValueError as exc:
                self.skipped_on_load += 1
                torn = number == len(lines) and not raw.endswith(b"\n")
                log.warning(
                    "activity history %s: skipped %s line %d (%s)", self.path,
                    "torn last" if torn else "malformed", number, exc,
                )
        kept = entries[-self.cap:]
        if self.skipped_on_load or len(entries) > self.cap:
            self._rewrite(kept)  # heal the file so the next append starts on a clean line
        else:
            self._lines_on_disk = len(entries)
        return kept

    def append(self, entries: Iterable[JournalEntry]) -> None:
        self._pending.extend(entry.to_line() for entry in entries)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        if not self._pending:
            return
        data, self._pending = b"".join(self._pending), []
        count = data.count(b"\n")
        # Not parents=True: a project folder deleted while open must not come back as a ghost
        # holding only .studio/ (the write fails, the writer logs it and carries on).
        self.path.parent.mkdir(exist_ok=True)
        with open(self.path, "ab") as handle:
            if handle.tell() > 0 and not self._ends_with_newline():
                data = b"\n" + data  # never glue a new entry onto a torn line
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self._lines_on_disk += count
        if self._lines_on_disk > self.cap + SLACK:
            self.trim()

    def trim(self) -> None:
        self.flush()
        self._rewrite(self._read_all()[-self.cap:])

    def mark_acknowledged(self, operation_ids: set[str]) -> None:
        self.flush()
        entries = [
            JournalEntry(e.event, True, e.made_by_lane)
            if e.event.operation_id in operation_ids and e.event.terminal else e
            for e in self._read_all()
        ]
        self._rewrite(entries[-self.cap:])

    def _read_all(self) -> list[JournalEntry]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        entries = []
        for line in raw.split(b"\n"):
            if line.strip():
                try:
                    entries.append(parse_entry(line))
                except ValueError:
                    continue  # already reported by load(); the rewrite drops it
        return entries

    def _rewrite(self, entries: list[JournalEntry]) -> None:
        atomic_write_bytes(self.path, b"".join(e.to_line() for e in entries))
        self._lines_on_disk = len(entries)

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
