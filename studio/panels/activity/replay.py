"""Replay a JSON-lines event log (`prometeu-packer … --events jsonl`) into the Activity panel.

The log goes through the same path as live events: a worker thread parses each line with
`packer.lane.events.parse_event_line` and publishes it through a `WorkerSink` of the event lane, so
the adapter's rules (ordering, coalescing, terminal barrier, missing terminals) apply unchanged.
An operation that the log leaves without a terminal (a CI job killed mid-build) is ended by the
lane (nothing spins forever) and shown as incomplete, as history without a terminal is.

Replayed events travel on a lane sink of their own whose origin is `replay_origin(path)`
("replayed from ci.jsonl"): the Activity panel marks those operations and never writes them into
the open project's history (they are another run's history, not this project's).

How the composition root wires `prometeu-studio --replay EVENTS.jsonl`:

    # with the WorkerPool (preferred: the job is tracked and cancellable):
    pool.submit(f"Replay {path.name}",
                lambda sink, token: replay_through_lane(path, lane, token))

    # or without a pool:
    thread = start_replay(path, lane)   # returns the started thread; join it on shutdown

Malformed lines are skipped (counted in the returned ReplayReport, which the Studio shows, and
logged); a missing or unreadable file raises ReplayError with a message meant for the user,
before any event reaches the lane (so it makes no rows).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError

from packer.lane.cancellation import CancellationToken
from packer.lane.events import parse_event_line
from packer.lane.sinks import EventSink
from studio.services.event_lane import EventLane

log = logging.getLogger(__name__)


class ReplayError(Exception):
    """The log cannot be replayed at all (missing, unreadable); the message says why."""


@dataclass(frozen=True, slots=True)
class ReplayReport:
    path: Path
    events: int
    skipped_lines: tuple[int, ...]  # 1-based numbers of lines that were not events
    cancelled: bool = False


def _open_log(path: Path) -> BinaryIO:
    try:
        if path.is_dir():
            raise ReplayError(f"cannot read event log {path}: it is a folder")
        return open(path, "rb")  # the caller closes it; an OSError becomes ours
    except OSError as exc:
        raise ReplayError(f"cannot read event log {path}: {exc.strerror or exc}") from exc


def replay_events(
    path: Path, sink: EventSink, token: CancellationToken | None = None
) -> ReplayReport:
    """Publish every event of the log into `sink`, in file order. Runs on a worker thread."""
    return _publish(_open_log(path), path, sink, token)


def _publish(
    handle: BinaryIO, path: Path, sink: EventSink, token: CancellationToken | None
) -> ReplayReport:
    events = 0
    skipped: list[int] = []
    with handle:
        for number, line in enumerate(handle, start=1):
            if token is not None and token.cancelled:
                return ReplayReport(path, events, tuple(skipped), cancelled=True)
            if not line.strip():
                continue
            try:
                event = parse_event_line(line)
            except (ValidationError, ValueError) as exc:
                skipped.append(number)
                log.warning("event log %s line %d is not an event: %s", path, number,
                            str(exc).splitlines()[0])
                continue
            sink.publish(event)
            events += 1
    return ReplayReport(path, events, tuple(skipped))


def replay_origin(path: Path) -> str:
    return f"replayed from {path.name}"


def replay_through_lane(
    path: Path, lane: EventLane, token: CancellationToken | None = None
) -> ReplayReport:
    """Replay into a lane sink marked with the log's origin; the sink is closed after (so an
    operation the log leaves open is reported by the lane). Runs on a worker thread."""
    handle = _open_log(path)  # before the sink: an unreadable log makes no rows at all
    sink = lane.open_sink(f"replay {path.name}", token, origin=replay_origin(path))
    try:
        report = _publish(handle, path, sink, token)
    except BaseException as exc:
        sink.close(exc)
        raise
    sink.close()
    return report


def start_replay(path: Path, lane: EventLane) -> threading.Thread:
    """Replay on a thread of its own (when no WorkerPool is at hand)."""

    def run() -> None:
        try:
            replay_through_lane(path, lane)
        except ReplayError as exc:
            log.warning("%s", exc)

    thread = threading.Thread(target=run, name=f"replay-{path.name}", daemon=True)
    thread.start()
    return thread
