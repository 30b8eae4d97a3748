"""The project's findings as the packer's events report them, grouped by asset (no Qt).

Each kind of report replaces what the same kind said before; the view shows their union:
- `listing`: the terminal `diagnostics_updated` of `list` and `scan` (structural and hygiene
  findings, project-wide); the terminal of `details` replaces them for its one asset;
- `doctor`: its per-asset reports and its terminal (project-wide, with the format checks);
- `build`: the findings a build reported (its check, its format errors, its `blocking`
  list), replaced as a whole when the next build ends.
A finding reported by several kinds shows once. Reports list at most 200 findings (see
docs/events.md); when a report's counts say more exist, `not_listed` says how many.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from packer.lane.events import (
    BuildFinishedDetail,
    DiagnosticSummary,
    DiagnosticsUpdatedDetail,
    EventKind,
    PackerEvent,
)

PROJECT_WIDE = frozenset({"list", "scan"})
NO_ASSET = ""  # findings about the workspace as a whole (no root)
_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass(slots=True)
class _Source:
    by_root: dict[str, list[DiagnosticSummary]] = field(default_factory=dict)
    not_listed: int = 0

    def replace_all(self, found: Iterable[DiagnosticSummary], not_listed: int = 0) -> None:
        self.by_root = _group(found)
        self.not_listed = not_listed

    def replace_roots(self, roots: Iterable[str], found: Iterable[DiagnosticSummary]) -> None:
        for root in roots:
            self.by_root.pop(root, None)
        for root, items in _group(found).items():
            self.by_root[root] = items


def _group(found: Iterable[DiagnosticSummary]) -> dict[str, list[DiagnosticSummary]]:
    grouped: dict[str, list[DiagnosticSummary]] = {}
    for summary in found:
        grouped.setdefault(summary.root or NO_ASSET, []).append(summary)
    return grouped


class Findings:
    """What the view shows; `apply` returns True when it changed."""

    def __init__(self) -> None:
        self._sources = {"listing": _Source(), "doctor": _Source(), "build": _Source()}
        self._building: dict[str, list[DiagnosticSummary]] = {}  # build op → findings so far

    def apply(self, event: PackerEvent) -> bool:
        detail = event.detail
        if event.operation == "build":
            return self._apply_build(event)
        if not isinstance(detail, DiagnosticsUpdatedDetail):
            return False
        found = detail.diagnostics
        listed = len(found)
        total = detail.errors + detail.warnings + detail.infos
        if event.operation in PROJECT_WIDE and event.terminal:
            self._sources["listing"].replace_all(found, max(0, total - listed))
        elif event.operation == "details" and event.terminal:
            roots = [a.root for a in event.affected_assets]
            self._sources["listing"].replace_roots(roots, found)
        elif event.operation == "doctor":
            source = self._sources["doctor"]
            if event.terminal:
                source.replace_all(found, max(0, total - listed))
            else:
                source.replace_roots([a.root for a in event.affected_assets], found)
        else:
            return False
        return True

    def _apply_build(self, event: PackerEvent) -> bool:
        detail = event.detail
        seen = self._building.setdefault(event.operation_id, [])
        if isinstance(detail, DiagnosticsUpdatedDetail):
            seen.extend(detail.diagnostics)
        elif event.kind is EventKind.BUILD_FINISHED and isinstance(detail, BuildFinishedDetail):
            seen.extend(detail.blocking)
        if not event.terminal:
            return False
        self._sources["build"].replace_all(self._building.pop(event.operation_id))
        return True

    def by_asset(self) -> list[tuple[str, list[DiagnosticSummary]]]:
        """(root, findings) for every asset with findings: errors first, then by root."""
        merged: dict[str, dict[tuple[str, str | None, str], DiagnosticSummary]] = {}
        for source in self._sources.values():
            for root, items in source.by_root.items():
                slot = merged.setdefault(root, {})
                for summary in items:
                    slot.setdefault((summary.code, summary.file, summary.message), summary)
        groups = [(root, sorted(found.values(), key=lambda d: (_RANK.get(d.severity, 3),
                                                                 d.code, d.file or "")))
                  for root, found in merged.items()]
        groups.sort(key=lambda g: (min(_RANK.get(d.severity, 3) for d in g[1]), g[0]))
        return groups

    def counts(self) -> tuple[int, int]:
        """(errors, warnings) shown."""
        errors = warnings = 0
        for _root, found in self.by_asset():
            for summary in found:
                errors += summary.severity == "error"
                warnings += summary.severity == "warning"
        return errors, warnings

    @property
    def not_listed(self) -> int:
        """Findings the reports counted but did not list (a report lists at most 200)."""
        return max(source.not_listed for source in self._sources.values())
