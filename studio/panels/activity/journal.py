"""Activity history on disk: `<project>/.studio/activity.jsonl` (docs/activity.md: its bound).

History is kept per *operation*, not per event: the newest `CAP` operations, plus every failure
nobody has acknowledged (never trimmed). For each operation the file holds a bounded sample of its
lifecycle events (the first `HEAD` and the last `TAIL`) and its terminal, which carries the
operation's exact totals (events per kind, assets, cache, last progress), so a build of 30,000
assets reopens as it ended: same duration (first event to terminal), same counts.

Lines are JSON objects, appended (one write and one fsync per flush); a crash can at worst tear
the last line, which loading skips with a warning. Two shapes:
- an event: the packer envelope plus the Studio keys `acknowledged`, `made_by_lane` and, on a
  terminal, `totals`;
- an acknowledgement: `{"acknowledged_operations": [operation ids]}`, appended when the user
  acknowledges (nothing is rewritten for it).
Compaction (an atomic rewrite: temp file, fsync, rename) happens only when the file holds more
than `CAP + SLACK` operations, or on load after malformed lines: rarely, and on the writer thread
or the project's opening job, never on the GUI thread. Progress updates are not journalled one by
one; an operation's last progress is in its totals.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from packer.files.atomic import atomic_write_bytes
from packer.lane.events import Outcome, PackerEvent, Progress

log = logging.getLogger(__name__)

CAP = 500  # operations kept (unacknowledged failures on top of these)
SLACK = 250  # operations the file may gain beyond the kept ones before it is compacted
HEAD = 200  # first lifecycle events of an operation kept on disk
TAIL = 200  # last lifecycle events kept before its terminal
ASSETS_PER_LINE = 100  # affected assets kept per event line (a build's terminal names every
# asset it encoded: 30,000 would make one line of ~2 MB); the rest are counted, not listed
JOURNAL_NAME = "activity.jsonl"
ACK_KEY = "acknowledged_operations"
_PINNED_OUTCOMES = frozenset({Outcome.FAILED, Outcome.BLOCKED})


# Operations that change nothing: a `blocked` outcome of theirs answers the question asked.
_READS = frozenset({"doctor", "list", "details", "scan"})


def needs_acknowledgement(operation: str, outcome: Outcome | None) -> bool:
    """A failure, or work refused as blocked. Not a blocked *preview* or read: it answered the
    question asked ("this would be blocked": the folder picked exists, the project has errors
    that block a build, which the Problems view lists); nothing went wrong. Pinning those made
    a project with errors open on "Activity (1)" every time (its background validation)."""
    if outcome not in _PINNED_OUTCOMES:
        return False
    return outcome is Outcome.FAILED or not blocked_is_an_answer(operation)


def blocked_is_an_answer(operation: str) -> bool:
    return operation in _READS or operation.endswith(".preview")


@dataclass(frozen=True, slots=True)
class OperationTotals:
    """What a whole operation counted, written on its terminal line (exact, never sampled)."""

    events: int  # lifecycle events, terminal included
    kinds: dict[str, int] = field(default_factory=dict)  # lifecycle events per kind
    assets: int = 0  # distinct affected asset roots
    cache_hits: int = 0
    cache_misses: int = 0
    progress_updates: int = 0
    progress: Progress | None = None  # the last progress value

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events, "kinds": self.kinds, "assets": self.assets,
            "cache_hits": self.cache_hits, "cache_misses": self.cache_misses,
            "progress_updates": self.progress_updates,
            "progress": self.progress.model_dump(mode="json") if self.progress else None,
        }

    @classmethod
    def from_json(cls, data: Any) -> OperationTotals:
        if not isinstance(data, dict):
            raise ValueError("totals is not an object")
        progress = data.get("progress")
        kinds = data.get("kinds") or {}
        if not isinstance(kinds, dict):
            raise ValueError("totals.kinds is not an object")
        return cls(
            events=int(data["events"]), kinds={str(k): int(v) for k, v in kinds.items()},
            assets=int(data.get("assets", 0)), cache_hits=int(data.get("cache_hits", 0)),
            cache_misses=int(data.get("cache_misses", 0)),
            progress_updates=int(data.get("progress_updates", 0)),
            progress=Progress.model_validate(progress) if progress is not None else None,
        )


@dataclass(frozen=True, slots=True)
class JournalEntry:
    event: PackerEvent
    acknowledged: bool = False
    made_by_lane: bool = False
    totals: OperationTotals | None = None  # on a terminal written by this Studio
    assets_not_kept: int = 0  # affected assets left out of the line (ASSETS_PER_LINE)

    def to_line(self) -> bytes:
        event, not_kept = self.event, self.assets_not_kept
        if len(event.affected_assets) > ASSETS_PER_LINE:
            not_kept += len(event.affected_assets) - ASSETS_PER_LINE
            event = event.model_copy(
                update={"affected_assets": event.affected_assets[:ASSETS_PER_LINE]})
        envelope = event.model_dump_json()
        extra = (
            f',"acknowledged":{"true" if self.acknowledged else "false"},'
            f'"made_by_lane":{"true" if self.made_by_lane else "false"}'
        )
        if not_kept:
            extra += f',"assets_not_kept":{not_kept}'
        if self.totals is not None:
            extra += ',"totals":' + json.dumps(self.totals.to_json(), separators=(",", ":"))
        return (envelope[:-1] + extra + "}\n").encode("utf-8")

    @property
    def pinned(self) -> bool:
        """A terminal failure not acknowledged: the compaction never drops its operation."""
        event = self.event
        return (event.terminal and not self.acknowledged
                and needs_acknowledgement(event.operation, event.outcome))


def parse_line(line: bytes | str) -> JournalEntry | frozenset[str]:
    """One line back into an entry, or the operation ids an acknowledgement line names.
    Raises ValueError on anything malformed."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if ACK_KEY in data:
            ids = data[ACK_KEY]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ValueError(f"{ACK_KEY} is not a list of operation ids")
            return frozenset(ids)
        acknowledged = bool(data.pop("acknowledged", False))
        made_by_lane = bool(data.pop("made_by_lane", False))
        totals_data = data.pop("totals", None)
        assets_not_kept = int(data.pop("assets_not_kept", 0))
        event = PackerEvent.model_validate(data)
        totals = OperationTotals.from_json(totals_data) if totals_data is not None else None
    except (json.JSONDecodeError, ValidationError, UnicodeDecodeError, KeyError,
            TypeError) as exc:
        raise ValueError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    return JournalEntry(event, acknowledged, made_by_lane, totals, assets_not_kept)


def journal_path(project_root: Path) -> Path:
    return project_root / ".studio" / JOURNAL_NAME


def keep(entries: list[JournalEntry], acknowledged: Iterable[str], cap: int = CAP
         ) -> list[JournalEntry]:
    """Entries of the newest `cap` operations (by first appearance) and of every older one
    that ended in an unacknowledged failure; acknowledgements folded into the terminals."""
    acked = set(acknowledged)
    if acked:
        entries = [replace(e, acknowledged=True)
                   if e.event.terminal and e.event.operation_id in acked else e
                   for e in entries]
    order: dict[str, None] = {}
    pinned: set[str] = set()
    for entry in entries:
        order.setdefault(entry.event.operation_id)
        if entry.pinned:
            pinned.add(entry.event.operation_id)
    ids = list(order)
    kept = set(ids[-cap:]) if cap > 0 else set()
    kept.update(pinned)
    if len(kept) == len(ids):
        return entries
    return [e for e in entries if e.event.operation_id in kept]


@dataclass(slots=True)
class _Sampling:
    """An operation still running, as the journal writes it: its head, then a rolling tail."""

    written: int = 0
    # Entries, serialised only if they are still in the window at the end (most are not).
    tail: deque[JournalEntry] = field(default_factory=lambda: deque(maxlen=TAIL))


class ActivityJournal:
    """Appends entries in batches; `flush()` writes them (on the writer thread)."""

    def __init__(self, path: Path, cap: int = CAP) -> None:
        self.path = path
        self.cap = cap
        self._pending: list[bytes] = []
        self._open: dict[str, _Sampling] = {}
        self._operations_on_disk = 0  # distinct operations the file holds
        self._floor = cap  # operations the file held after the last compaction (≥ cap)
        self.skipped_on_load = 0
        self.compactions = 0

    # ---- reading (the opening job, on a worker) ------------------------------------------

    def load(self) -> list[JournalEntry]:
        """The kept operations' entries, in file order, acknowledgements applied. Malformed
        lines (a torn last line) are skipped, warned, and the file healed."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("activity history %s could not be read: %s", self.path, exc)
            return []
        lines = raw.split(b"\n")
        entries: list[JournalEntry] = []
        acknowledged: set[str] = set()
        self.skipped_on_load = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                parsed = parse_line(line)
            except ValueError as exc:
                self.skipped_on_load += 1
                torn = number == len(lines) and not raw.endswith(b"\n")
                log.warning(
                    "activity history %s: skipped %s line %d (%s)", self.path,
                    "torn last" if torn else "malformed", number, exc,
                )
                continue
            if isinstance(parsed, JournalEntry):
                entries.append(parsed)
            else:
                acknowledged.update(parsed)
        on_disk = len({e.event.operation_id for e in entries})
        kept = keep(entries, acknowledged, self.cap)
        if self.skipped_on_load or on_disk > self.cap + SLACK:
            self._rewrite(kept)  # heal the file so the next append starts on a clean line
        else:
            self._operations_on_disk = on_disk
            self._floor = max(self.cap, len({e.event.operation_id for e in kept}))
        return kept

    # ---- writing (the writer thread) -----------------------------------------------------

    def append(self, entries: Iterable[JournalEntry]) -> None:
        """Queue entries for the next flush, sampled: an operation's first HEAD lifecycle
        events go out as they come, the rest wait in a rolling window of TAIL that is written
        with its terminal."""
        pending = self._pending
        for entry in entries:
            event = entry.event
            sampling = self._open.get(event.operation_id)
            if event.terminal:
                if sampling is not None:
                    pending.extend(held.to_line() for held in sampling.tail)
                    del self._open[event.operation_id]
                pending.append(entry.to_line())
                if sampling is None:
                    self._operations_on_disk += 1  # a terminal alone: a new operation
                continue
            if sampling is None:
                sampling = self._open[event.operation_id] = _Sampling()
                self._operations_on_disk += 1
            if sampling.written < HEAD:
                sampling.written += 1
                pending.append(entry.to_line())
            else:
                sampling.tail.append(entry)

    def spill(self) -> None:
        """Queue the held tails of operations that have not ended (closing: keep what is known;
        they reopen as incomplete)."""
        for sampling in self._open.values():
            self._pending.extend(held.to_line() for held in sampling.tail)
        self._open.clear()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        if self._pending:
            data, self._pending = b"".join(self._pending), []
            self._append_bytes(data)
        # Many unacknowledged failures raise the floor, so they never cause a compaction per flush.
        if self._operations_on_disk > self._floor + SLACK:
            self.compact()

    def mark_acknowledged(self, operation_ids: set[str]) -> None:
        """Append an acknowledgement line (the next compaction folds it into the terminals)."""
        if not operation_ids:
            return
        line = json.dumps({ACK_KEY: sorted(operation_ids)}, separators=(",", ":")) + "\n"
        self._pending.append(line.encode("utf-8"))
        self.flush()

    def compact(self) -> None:
        """Rewrite the file with the kept operations only. Operations still running keep the
        lines already written; their tails follow in later appends."""
        if self._pending:
            data, self._pending = b"".join(self._pending), []
            self._append_bytes(data)
        entries, acknowledged = self._read_all()
        self._rewrite(keep(entries, acknowledged, self.cap))
        self.compactions += 1

    def _append_bytes(self, data: bytes) -> None:
        # Not parents=True: a project folder deleted while open must not come back as a ghost
        # holding only .studio/ (the write fails, the writer logs it and carries on).
        self.path.parent.mkdir(exist_ok=True)
        with open(self.path, "ab") as handle:
            if handle.tell() > 0 and not self._ends_with_newline():
                data = b"\n" + data  # never glue a new entry onto a torn line
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def _read_all(self) -> tuple[list[JournalEntry], set[str]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return [], set()
        entries: list[JournalEntry] = []
        acknowledged: set[str] = set()
        for line in raw.split(b"\n"):
            if line.strip():
                try:
                    parsed = parse_line(line)
                except ValueError:
                    continue  # already reported by load(); the rewrite drops it
                if isinstance(parsed, JournalEntry):
                    entries.append(parsed)
                else:
                    acknowledged.update(parsed)
        return entries, acknowledged

    def _rewrite(self, entries: list[JournalEntry]) -> None:
        atomic_write_bytes(self.path, b"".join(e.to_line() for e in entries))
        self._operations_on_disk = len({e.event.operation_id for e in entries})
        self._floor = max(self.cap, self._operations_on_disk)

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"
