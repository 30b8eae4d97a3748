"""What a build returns: its outcome, counts, the artifact, and every diagnostic it found."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from packer.diagnostics import Diagnostic
from packer.lane.events import Outcome


class AssetCacheOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    asset_id: int
    hit: bool
    reason: str | None = None  # a MissReason value when not a hit
    explanation: str | None = None


class BuildResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: Outcome
    operation_id: str
    asset_count: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    artifact: str | None = None  # absolute path of build/assets.pa when the build succeeded
    up_to_date: bool = False  # build/ already held exactly this build: nothing was rewritten
    cache: tuple[AssetCacheOutcome, ...] = ()
    blocking: tuple[Diagnostic, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  # everything found, blocking or not
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome is Outcome.SUCCEEDED

    @property
    def blocked(self) -> bool:
        return self.outcome is Outcome.BLOCKED

    def reasons(self) -> dict[int, str | None]:
        """asset_id → miss reason (None for a hit); handy for tests and the CLI."""
        return {c.asset_id: c.reason for c in self.cache}
