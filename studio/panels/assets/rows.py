"""What the navigator shows for one asset, made from the packer's listing (never from files)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from packer.doctor.queries import AssetSummary, FormatCheck
from packer.workspace.scan import AssetState
from studio.services.asset_key import AssetKey, asset_key

UNCHECKED_MARK = "?"
UNCHECKED_TIP = ("? unchecked: this asset's format was not validated since it last changed, so "
                 "its format errors are not known yet (Doctor validates it)")


class RowState(StrEnum):
    """The scan's states, plus `excluded` (registered but left out of the build)."""

    REGISTERED = "registered"
    UNREGISTERED = "unregistered"
    MISSING = "missing"
    QUARANTINED = "quarantined"
    EXCLUDED = "excluded"


@dataclass(frozen=True, slots=True)
class AssetRow:
    key: AssetKey
    root: str
    name: str | None
    asset_id: int | None
    state: RowState
    asset_type: str | None
    errors: int
    warnings: int
    infos: int
    unchecked: bool = False  # format not validated since it last changed: errors may be missing

    @property
    def title(self) -> str:
        """Identity first: the logical name and the id."""
        ident = f"#{self.asset_id}" if self.asset_id is not None else "(no id)"
        return f"{self.name or self.root.rsplit('/', 1)[-1]}  {ident}"

    @property
    def badge(self) -> str:
        parts = []
        if self.errors:
            parts.append(f"✖ {self.errors}")
        if self.warnings:
            parts.append(f"⚠ {self.warnings}")
        if self.infos:
            parts.append(f"ℹ {self.infos}")
        if self.unchecked:
            parts.append(UNCHECKED_MARK)  # neutral: not known to be ok, not known to be broken
        return "  ".join(parts)


def row_state(state: AssetState, included_in_build: bool) -> RowState:
    if state is AssetState.REGISTERED and not included_in_build:
        return RowState.EXCLUDED
    return RowState(state.value)


def row_from_summary(summary: AssetSummary) -> AssetRow:
    return AssetRow(
        key=asset_key(summary.asset_id, summary.root),
        root=summary.root,
        name=summary.name,
        asset_id=summary.asset_id,
        state=row_state(summary.state, summary.included_in_build),
        asset_type=summary.type,
        errors=summary.errors,
        warnings=summary.warnings,
        infos=summary.infos,
        unchecked=summary.format_check is FormatCheck.UNCHECKED,
    )


@dataclass(frozen=True, slots=True)
class AssetCounts:
    """What the status bar says of the rows the navigator holds."""

    total: int
    unregistered: int
    with_errors: int

    @classmethod
    def of(cls, rows: Iterable[AssetRow]) -> AssetCounts:
        total = unregistered = with_errors = 0
        for row in rows:
            total += 1
            unregistered += row.state is RowState.UNREGISTERED
            with_errors += row.errors > 0
        return cls(total, unregistered, with_errors)

    def text(self) -> str:
        parts = [f"{self.total:,} asset{'' if self.total == 1 else 's'}"]
        if self.unregistered:
            parts.append(f"{self.unregistered:,} unregistered")
        if self.with_errors:
            parts.append(f"{self.with_errors:,} with errors")
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class RowFilter:
    text: str = ""
    state: RowState | None = None
    asset_type: str | None = None
    errors_only: bool = False

    def accepts(self, row: AssetRow) -> bool:
        if self.state is not None and row.state is not self.state:
            return False
        if self.asset_type is not None and row.asset_type != self.asset_type:
            return False
        if self.errors_only and not row.errors:
            return False
        needle = self.text.strip().lower()
        if not needle:
            return True
        haystack = f"{row.name or ''} {row.root} #{row.asset_id or ''}".lower()
        return needle in haystack
