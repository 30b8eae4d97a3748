"""The packer's event lane, part 1: the immutable event model and its JSON-lines form.

Sinks (where events go) live in packer.lane.sinks; the only way to make events is a
packer.lane.operation.Operation, which stamps `operation_id` and a gap-free `sequence` and
guarantees exactly one terminal event per operation (docs/events.md has the rules).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import IO, Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Progress(_Frozen):
    """Determinate when `total` is known; `done` never decreases within an operation.

    `bytes_done`/`bytes_total`: the input bytes behind `done`/`total`, for operations that know
    them (a build); absent otherwise. Consumers show a byte rate from them, never from summaries.
    """

    done: int = Field(ge=0)
    total: int | None = Field(default=None, ge=0)
    unit: str = "assets"
    bytes_done: int | None = Field(default=None, ge=0)
    bytes_total: int | None = Field(default=None, ge=0)

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
    preview_path: str | None = None  # always None: builds set it when they wrote previews


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


def parse_event_line(line: str | bytes) -> PackerEvent:
    """Validate one JSON line back into an event (raises pydantic.ValidationError)."""
    return PackerEvent.model_validate_json(line)


def event_json_schema() -> dict[str, Any]:
    return PackerEvent.model_json_schema()

def read_event_lines(lines: Iterable[str]) -> Iterator[PackerEvent]:
    """Parse JSON lines, skipping blank ones; raises on the first malformed line."""
    for line in lines:
        if line.strip():
            yield parse_event_line(line)


def dump_events_jsonl(events: Iterable[PackerEvent], stream: IO[str] = sys.stdout) -> None:
    for event in events:
        stream.write(event.to_json_line())


def event_to_dict(event: PackerEvent) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(event.model_dump_json())
    return result
