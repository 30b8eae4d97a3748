"""Event factories for the event-lane and Activity tests (plain packer events, no Qt)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from packer.lane.events import (
    ActionFailedDetail,
    AffectedAsset,
    BuildFinishedDetail,
    EventKind,
    Outcome,
    PackerEvent,
    Progress,
    ProgressUpdatedDetail,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def event(
    op: str, seq: int, kind: EventKind = EventKind.ASSET_DISCOVERED, *,
    operation: str = "doctor", summary: str | None = None, done: int | None = None,
    total: int | None = None, terminal: bool = False, outcome: Outcome | None = None,
    assets: tuple[AffectedAsset, ...] = (), project: str = "proj",
) -> PackerEvent:
    progress = Progress(done=done, total=total) if done is not None else None
    detail: object = None
    if kind is EventKind.PROGRESS_UPDATED:
        detail = ProgressUpdatedDetail(phase=operation)
    elif kind is EventKind.ACTION_FAILED:
        detail = ActionFailedDetail(action=operation, error=summary or "boom")
    elif kind is EventKind.BUILD_FINISHED:
        detail = BuildFinishedDetail()
    return PackerEvent(
        project_id=project, operation_id=op, operation=operation, sequence=seq, kind=kind,
        timestamp=T0 + timedelta(milliseconds=seq), summary=summary or f"{op} #{seq} {kind}",
        progress=progress, affected_assets=assets, terminal=terminal, outcome=outcome,
        detail=detail,  # type: ignore[arg-type]
    )


def progress(op: str, seq: int, done: int, total: int | None = 100, **kw: object) -> PackerEvent:
    return event(op, seq, EventKind.PROGRESS_UPDATED, done=done, total=total, **kw)  # type: ignore[arg-type]


def finished(op: str, seq: int, outcome: Outcome = Outcome.SUCCEEDED, **kw: object) -> PackerEvent:
    kind = EventKind.ACTION_FAILED if outcome is Outcome.FAILED else EventKind.BUILD_FINISHED
    return event(op, seq, kind, terminal=True, outcome=outcome, **kw)  # type: ignore[arg-type]
