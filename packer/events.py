"""The packer's event lane: immutable lifecycle events, the sink they go to, and operations.

Every operation publishes through an :class:`Operation`, the only way to make events. It stamps the
`operation_id` and a gap-free `sequence` starting at 1, and guarantees that the stream ends with
exactly one terminal event (see docs/events.md for the rule).
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import IO, Annotated, Any, Literal, Protocol, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from packer.cancellation import CancellationToken, OperationCancelled

EVENT_SCHEMA_VERSION: Literal[1] = 1


class EventKind(StrEnum):
    ASSET_DISCOVERED = "asset_discovered"
    ASSET_CHANGED = "asset_changed"
    DIAGNOSTICS_UPDATED = "diagnostics_updated"
    BUILD_STARTED = "build_started"
    BUILD_FINISHED = "build_finished"
    CACHE_HIT = "cache_hit"
    CACHE_MISS = "cache_miss"
    PREVIEW_READY = "preview_ready"
    ACTION_APPLIED = "action_applied"
    ACTION_FAILED = "action_failed"
    PROGRESS_UPDATED = "progress_updated"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    BLOCKED = "blocked"
    FAILED = "failed"
    CANCELLED = "cancelled"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Progress(_Frozen):
    """Determinate when `total` is known; `done` never decreases within an operation."""

    done: int = Field(ge=0)
    total: int | None = Field(default=None, ge=0)
    unit: str = "assets"

    @property
    def determinate(self) -> bool:
        return self.total is not None

    @property
    def fraction(self) -> float | None:
        if self.total is None:
            return None
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)


class AffectedAsset(_Frozen):
    asset_id: int | None = None
    root: str
    name: str | None = None


class DiagnosticSummary(_Frozen):
    """What an event says about one diagnostic (the full record lives in packer.diagnostics)."""

    code: str
    severity: str
    message: str
    root: str | None = None
    file: str | None = None


# ---- kind-specific details; `type` equals the event kind so the union is discriminated ----


class AssetDiscoveredDetail(_Frozen):
    type: Literal["asset_discovered"] = "asset_discovered"
    state: str
    asset_type: str | None = None


class AssetChangedDetail(_Frozen):
    type: Literal["asset_changed"] = "asset_changed"
    changes: tuple[str, ...] = ()
    previous_state: str | None = None
    state: str | None = None


class DiagnosticsUpdatedDetail(_Frozen):
    type: Literal["diagnostics_updated"] = "diagnostics_updated"
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    diagnostics: tuple[DiagnosticSummary, ...] = ()
    assets_checked: int | None = None
    error: str | None = None


class BuildStartedDetail(_Frozen):
    type: Literal["build_started"] = "build_started"
    asset_count: int
    input_bytes: int


class BuildFinishedDetail(_Frozen):
    type: Literal["build_finished"] = "build_finished"
    asset_count: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    output_bytes: int = 0
    artifact: str | None = None
    blocking: tuple[DiagnosticSummary, ...] = ()
    error: str | None = None


class CacheHitDetail(_Frozen):
    type: Literal["cache_hit"] = "cache_hit"
    bytes: int = 0


class CacheMissDetail(_Frozen):
    type: Literal["cache_miss"] = "cache_miss"
    reason: str
    explanation: str | None = None


class PreviewReadyDetail(_Frozen):
    type: Literal["preview_ready"] = "preview_ready"
    action: str | None = None
    operation_class: str | None = None
    blockers: int = 0
    warnings: int = 0
    changes: tuple[str, ...] = ()
    preview_path: str | None = None


class ActionAppliedDetail(_Frozen):
    type: Literal["action_applied"] = "action_applied"
    action: str
    changes: tuple[str, ...] = ()


class ActionFailedDetail(_Frozen):
    type: Literal["action_failed"] = "action_failed"
    action: str
    error: str
    error_type: str | None = None
    traceback: str | None = None


class ProgressUpdatedDetail(_Frozen):
    type: Literal["progress_updated"] = "progress_updated"
    phase: str | None = None


EventDetail = Annotated[
    AssetDiscoveredDetail
    | AssetChangedDetail
    | DiagnosticsUpdatedDetail
    | BuildStartedDetail
    | BuildFinishedDetail
    | CacheHitDetail
    | CacheMissDetail
    | PreviewReadyDetail
    | ActionAppliedDetail
    | ActionFailedDetail
    | ProgressUpdatedDetail,
    Field(discriminator="type"),
]


class PackerEvent(_Frozen):
    """The envelope. Immutable; validated when built and when read back from JSON lines."""

    schema_version: Literal[1] = EVENT_SCHEMA_VERSION
    project_id: str
    operation_id: str
    operation: str
    sequence: int = Field(ge=1)
    kind: EventKind
    timestamp: AwareDatetime
    summary: str
    progress: Progress | None = None
    affected_assets: tuple[AffectedAsset, ...] = ()
    terminal: bool = False
    outcome: Outcome | None = None
    detail: EventDetail | None = None

    def to_json_line(self) -> str:
        return self.model_dump_json() + "\n"


_EVENT_ADAPTER: TypeAdapter[PackerEvent] = TypeAdapter(PackerEvent)


def parse_event_line(line: str | bytes) -> PackerEvent:
    """Validate one JSON line back into an event (raises pydantic.ValidationError)."""
    return _EVENT_ADAPTER.validate_json(line)


def event_json_schema() -> dict[str, Any]:
    return PackerEvent.model_json_schema()


# ---- sinks ---------------------------------------------------------------------------------


class EventSink(Protocol):
    """The one interface a consumer implements. `publish` may be called from any thread."""

    def publish(self, event: PackerEvent) -> None: ...


class NullSink:
    """Discards everything; operations skip building optional events for it."""

    wants_events = False

    def publish(self, event: PackerEvent) -> None:
        return None


class ListSink:
    """Keeps every event in order; for tests and small scripts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[PackerEvent] = []

    def publish(self, event: PackerEvent) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[PackerEvent]:
        with self._lock:
            return list(self._events)

    def kinds(self, operation_id: str | None = None) -> list[str]:
        return [
            e.kind.value
            for e in self.events
            if operation_id is None or e.operation_id == operation_id
        ]


class JsonLinesSink:
    """One JSON object per line to a text stream; flushed at every terminal so tails see them."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def publish(self, event: PackerEvent) -> None:
        line = event.to_json_line()
        with self._lock:
            self._stream.write(line)
            if event.terminal:
                self._stream.flush()

    def flush(self) -> None:
        with self._lock:
            self._stream.flush()


class FanOutSink:
    """Publishes every event to each sink in turn."""

    def __init__(self, *sinks: EventSink) -> None:
        self._sinks = tuple(sinks)

    @property
    def wants_events(self) -> bool:
        return any(sink_wants_events(s) for s in self._sinks)

    def publish(self, event: PackerEvent) -> None:
        for sink in self._sinks:
            sink.publish(event)


def sink_wants_events(sink: EventSink) -> bool:
    return bool(getattr(sink, "wants_events", True))


def read_event_lines(lines: Iterable[str]) -> Iterator[PackerEvent]:
    """Parse JSON lines, skipping blank ones; raises on the first malformed line."""
    for line in lines:
        if line.strip():
            yield parse_event_line(line)


# ---- operations ----------------------------------------------------------------------------


class TerminalAlreadyPublished(RuntimeError):
    """Raised when code tries to publish after the operation's terminal event."""


def new_operation_id() -> str:
    return uuid.uuid4().hex


class Operation:
    """One operation's publishing context. Thread-safe; ends with exactly one terminal event.

    Use as a context manager. If the body raises (or is cancelled) before publishing a terminal,
    the operation publishes `action_failed` with the error (outcome `failed` or `cancelled`), then
    the exception propagates.
    """

    PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress events per second per operation

    def __init__(
        self,
        sink: EventSink,
        *,
        project_id: str,
        operation: str,
        token: CancellationToken | None = None,
        operation_id: str | None = None,
    ) -> None:
        self.sink = sink
        self.project_id = project_id
        self.operation = operation
        self.operation_id = operation_id or new_operation_id()
        self.token = token if token is not None else CancellationToken()
        self.wants_events = sink_wants_events(sink)
        self._lock = threading.RLock()
        self._sequence = 0
        self._terminal: PackerEvent | None = None
        self._last_progress_at = 0.0
        self._last_progress_done = -1
        self._pending_progress: (
            tuple[int, int | None, str, str | None, str | None] | None
        ) = None

    # -- publishing --

    @property
    def finished(self) -> bool:
        return self._terminal is not None

    @property
    def terminal_event(self) -> PackerEvent | None:
        return self._terminal

    def emit(
        self,
        kind: EventKind,
        summary: str,
        *,
        detail: Any = None,
        affected: Iterable[AffectedAsset] = (),
        progress: Progress | None = None,
        terminal: bool = False,
        outcome: Outcome | None = None,
    ) -> PackerEvent | None:
        """Publish one event. Returns None when the sink wants no events (nothing is built)."""
        with self._lock:
            if self._terminal is not None:
                raise TerminalAlreadyPublished(
                    f"operation {self.operation_id} already ended; {kind} would follow a terminal"
                )
            self._sequence += 1
            if not (terminal or self.wants_events):
                return None
            event = PackerEvent(
                project_id=self.project_id,
                operation_id=self.operation_id,
                operation=self.operation,
                sequence=self._sequence,
                kind=kind,
                timestamp=datetime.now(UTC),
                summary=summary,
                progress=progress,
                affected_assets=tuple(affected),
                terminal=terminal,
                outcome=outcome,
                detail=detail,
            )
            if terminal:
                self._terminal = event
            # Publishing under the lock keeps the sink's view in sequence order across threads.
            self.sink.publish(event)
            return event

    def progress(
        self, done: int, total: int | None, *, unit: str = "assets", phase: str | None = None,
        summary: str | None = None, force: bool = False,
    ) -> None:
        """Report progress, throttled: the first, the last and at most one per interval go out.

        A throttled value is kept and published just before the terminal, so the last progress
        a consumer sees is the real one. A value lower than one already reported is ignored, so
        progress never moves backwards.
        """
        if not self.wants_events:
            return
        with self._lock:
            if self._terminal is not None or done < self._last_progress_done:
                return
            if done == self._last_progress_done and not force:
                return
            now = time.monotonic()
            is_last = total is not None and done >= total
            first = self._last_progress_at == 0.0
            self._last_progress_done = done
            pending = (done, total, unit, phase, summary)
            if not (force or is_last or first) and (
                now - self._last_progress_at < self.PROGRESS_INTERVAL_S
            ):
                self._pending_progress = pending
                return
            self._last_progress_at = now
            self._publish_progress(*pending)

    def _publish_progress(
        self, done: int, total: int | None, unit: str, phase: str | None, summary: str | None
    ) -> None:
        self._pending_progress = None
        text = summary or (
            f"{phase or self.operation}: {done}/{total} {unit}" if total is not None
            else f"{phase or self.operation}: {done} {unit}"
        )
        self.emit(
            EventKind.PROGRESS_UPDATED,
            text,
            detail=ProgressUpdatedDetail(phase=phase),
            progress=Progress(done=done, total=total, unit=unit),
        )

    def finish(
        self,
        kind: EventKind,
        outcome: Outcome,
        summary: str,
        *,
        detail: Any = None,
        affected: Iterable[AffectedAsset] = (),
        progress: Progress | None = None,
    ) -> PackerEvent:
        with self._lock:
            if self._pending_progress is not None and self._terminal is None:
                self._publish_progress(*self._pending_progress)
            event = self.emit(
                kind, summary, detail=detail, affected=affected, progress=progress,
                terminal=True, outcome=outcome,
            )
        assert event is not None  # terminals are always built
        return event

    def fail(self, error: BaseException, *, action: str | None = None) -> PackerEvent:
        cancelled = isinstance(error, OperationCancelled)
        outcome = Outcome.CANCELLED if cancelled else Outcome.FAILED
        name = action or self.operation
        summary = (
            f"{name} was cancelled" if cancelled else f"{name} failed: {error}"
        )
        tb = None if cancelled else "".join(traceback.format_exception(error))
        return self.finish(
            EventKind.ACTION_FAILED,
            outcome,
            summary,
            detail=ActionFailedDetail(
                action=name, error=str(error) or type(error).__name__,
                error_type=type(error).__name__, traceback=tb,
            ),
        )

    def check_cancelled(self) -> None:
        self.token.raise_if_cancelled()

    # -- context manager --

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._terminal is not None:
            return
        if exc is None:
            exc = RuntimeError(f"{self.operation} ended without reporting an outcome")
        with contextlib.suppress(Exception):
            self.fail(exc)


def dump_events_jsonl(events: Iterable[PackerEvent], stream: IO[str] = sys.stdout) -> None:
    for event in events:
        stream.write(event.to_json_line())


def event_to_dict(event: PackerEvent) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(event.model_dump_json())
    return result
