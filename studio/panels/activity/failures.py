"""What a failed or blocked operation's events say went wrong, in words (no Qt).

Read from the stream only: the terminal's `blocking` diagnostics or `error`, else the operation's
latest report of errors (`diagnostics_updated`). The fix is the packer's own catalogue entry for
the code (packer.diagnostics): the packer's words, looked up, never made up here.
"""

from __future__ import annotations

from dataclasses import dataclass

from packer.diagnostics import CATALOGUE
from packer.lane.events import (
    ActionFailedDetail,
    BuildFinishedDetail,
    DiagnosticSummary,
    DiagnosticsUpdatedDetail,
    EventKind,
)
from studio.panels.activity.records import OperationRecord, OperationStatus

_FAILING = frozenset({OperationStatus.FAILED, OperationStatus.BLOCKED})


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    code: str | None = None
    severity: str = "error"
    root: str | None = None
    file: str | None = None

    @property
    def fix(self) -> str | None:
        info = CATALOGUE.get(self.code) if self.code else None
        return info.fix if info is not None else None

    @property
    def location(self) -> str:
        if self.root and self.file:
            return f"{self.root}/{self.file}"
        return self.root or self.file or ""

    def line(self) -> str:
        """One line for a row: "PK128 tiles/overworld/tiles/002_path.png: cannot be decoded"."""
        head = " ".join(part for part in (self.code, self.location) if part)
        return f"{head}: {self.message}" if head else self.message

    @classmethod
    def from_summary(cls, summary: DiagnosticSummary) -> Problem:
        return cls(summary.message, summary.code, summary.severity, summary.root, summary.file)


def problems(rec: OperationRecord) -> list[Problem]:
    """What went wrong, most telling first; empty unless the operation failed or was blocked."""
    if rec.status not in _FAILING or rec.terminal is None:
        return []
    detail = rec.terminal.event.detail
    if isinstance(detail, BuildFinishedDetail):
        found = [Problem.from_summary(d) for d in detail.blocking]
        if detail.error:
            found.append(Problem(detail.error))
        if found:
            return found
    elif isinstance(detail, ActionFailedDetail) and detail.error:
        return [Problem(detail.error)]
    elif isinstance(detail, DiagnosticsUpdatedDetail):
        errors = [Problem.from_summary(d) for d in detail.diagnostics if d.severity == "error"]
        if errors:
            return errors
    for item in reversed(rec.retained):  # the latest report of errors before the end
        event = item.event
        if event.kind is EventKind.DIAGNOSTICS_UPDATED and isinstance(
                event.detail, DiagnosticsUpdatedDetail):
            errors = [Problem.from_summary(d) for d in event.detail.diagnostics
                      if d.severity == "error"]
            if errors:
                return errors
    return []
