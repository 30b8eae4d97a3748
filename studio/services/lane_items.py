"""What the event lane delivers, and the only events it ever makes itself.

Plain data: studio.services.event_lane (the one module that moves events across threads) builds
these; the Activity model, the progress widgets and the bus read them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from packer.lane.events import ActionFailedDetail, EventKind, Outcome, PackerEvent

LANE_ERROR_TYPE = "WorkerEndedWithoutTerminal"


class LaneEvent(NamedTuple):
    """One delivered item: a packer event as the lane received it.

    `coalesced` is the number of progress updates this one stands for (1 for lifecycle events).
    `made_by_lane` marks the lane's own missing-terminal failure. `published_at` is the
    `time.monotonic()` of the worker's publish call (for latency measurements). `origin` says
    where the events come from when not from this Studio's own work (a replayed log: "replayed
    from ci.jsonl"); it is lane metadata, never part of the packer's event. A NamedTuple
    because it is built on the worker's hot path (≈ 0.2 µs, against ≈ 1.5 µs for a frozen
    dataclass).
    """

    event: PackerEvent
    coalesced: int = 1
    made_by_lane: bool = False
    published_at: float = 0.0
    origin: str | None = None

    @property
    def operation_id(self) -> str:
        return self.event.operation_id

    @property
    def sequence(self) -> int:
        return self.event.sequence


@dataclass(frozen=True, slots=True)
class LaneStats:
    delivered: int  # items delivered (lifecycle + coalesced progress)
    progress_received: int  # progress updates published by workers
    progress_delivered: int  # coalesced progress items delivered
    dropped_after_terminal: int  # progress updates that arrived after their terminal
    late_terminals_dropped: int  # a second terminal for an operation already ended
    lane_made_failures: int
    backlog: int  # lifecycle items waiting on the GUI side
    producer_pauses: int = 0  # times a producer gave way to a starved GUI thread
    producer_paused_s: float = 0.0  # their total duration (summed over producers)


def missing_terminal(last: PackerEvent, reason: str, *, replayed: bool = False) -> PackerEvent:
    """The lane's end for an operation its producer left open. A replayed log that stops
    early is no failure of anyone here: it says only that the log ends (the Activity shows the
    operation as incomplete)."""
    if replayed:
        error = "the log ends before this operation's terminal"
        summary = f"{last.operation}: {error}"
    else:
        error = f"worker ended without a terminal: {reason}"
        summary = f"{last.operation} failed: {error}"
    return PackerEvent(
        project_id=last.project_id,
        operation_id=last.operation_id,
        operation=last.operation,
        sequence=last.sequence + 1,
        kind=EventKind.ACTION_FAILED,
        timestamp=datetime.now(UTC),
        summary=summary,
        terminal=True,
        outcome=Outcome.FAILED,
        detail=ActionFailedDetail(action=last.operation, error=error, error_type=LANE_ERROR_TYPE),
    )


def failed_before_start(label: str, reason: str) -> PackerEvent:
    return PackerEvent(
        project_id="",
        operation_id=f"lane-{time.monotonic_ns():x}",
        operation=label,
        sequence=1,
        kind=EventKind.ACTION_FAILED,
        timestamp=datetime.now(UTC),
        summary=f"{label} failed before it started an operation: {reason}",
        terminal=True,
        outcome=Outcome.FAILED,
        detail=ActionFailedDetail(action=label, error=reason, error_type=LANE_ERROR_TYPE),
    )
