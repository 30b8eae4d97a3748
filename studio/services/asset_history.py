"""Each asset's history: the operations whose events named it, in words (no Qt).

Fed by the Activity timeline with every lifecycle event it applies (live, and restored from the
project's history on opening), read by the asset's details. The words are the packer's: a cache
miss's explanation, a change's sentences, an apply's changes; a findings report is listed only
when its counts differ from the asset's previous one ("changes of its findings").
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from packer.lane.events import (
    ActionAppliedDetail,
    AssetChangedDetail,
    AssetDiscoveredDetail,
    CacheMissDetail,
    DiagnosticsUpdatedDetail,
    EventKind,
    PackerEvent,
)
from studio.services.asset_key import AssetKey, asset_key

ENTRIES_PER_ASSET = 20  # the newest; older ones are in the Activity and its history file
# Kept as plain tuples of strings and datetimes: the collector stops tracking those, so a big
# project's history (30,000 assets × builds) adds nothing to the full collections that stall
# the GUI (docs/engineering-notes); texts that repeat are shared, not copied per asset.
_Row = tuple[str, str, datetime, str]
MAX_SHARED_TEXTS = 10_000


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    operation_id: str
    operation: str  # the event's `operation` field ("build", "relocate_asset", …)
    timestamp: datetime
    text: str


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe(event: PackerEvent) -> str | None:
    """What the event says about its asset, or None when it says nothing worth a line."""
    detail = event.detail
    kind = event.kind
    if kind is EventKind.CACHE_HIT:
        return "cache hit: reused from the build cache"
    if kind is EventKind.CACHE_MISS and isinstance(detail, CacheMissDetail):
        return f"cache miss, rebuilt: {detail.explanation or detail.reason.replace('_', ' ')}"
    if kind is EventKind.ASSET_CHANGED and isinstance(detail, AssetChangedDetail):
        return "; ".join(detail.changes) or event.summary
    if kind is EventKind.ASSET_DISCOVERED and isinstance(detail, AssetDiscoveredDetail):
        return f"discovered ({detail.state})" if detail.state else "discovered"
    if kind is EventKind.ACTION_APPLIED and isinstance(detail, ActionAppliedDetail):
        return "; ".join(detail.changes) or event.summary
    if kind is EventKind.ACTION_FAILED:
        return event.summary
    if kind is EventKind.DIAGNOSTICS_UPDATED and isinstance(detail, DiagnosticsUpdatedDetail):
        found = [_plural(n, w) for n, w in ((detail.errors, "error"),
                                            (detail.warnings, "warning")) if n]
        return "findings: " + (", ".join(found) if found else "none")
    return None


class AssetHistory:
    """Newest last per asset; `version(key)` changes whenever an asset gets a new entry."""

    def __init__(self) -> None:
        self._entries: dict[AssetKey, deque[_Row]] = {}
        self._texts: dict[str, str] = {}
        self._findings: dict[AssetKey, str] = {}
        self._versions: dict[AssetKey, int] = {}

    def add(self, event: PackerEvent) -> None:
        kind = event.kind
        if kind is EventKind.BUILD_FINISHED or kind is EventKind.PREVIEW_READY:
            return  # a build's terminal lists what it encoded (the misses say why); a
            # mutation's preview changes nothing
        if len(event.affected_assets) > 1 and kind is EventKind.DIAGNOSTICS_UPDATED:
            return  # a project-wide report: its per-asset counts are not in it
        text = describe(event)
        if text is None:
            return
        if len(self._texts) > MAX_SHARED_TEXTS:
            self._texts.clear()  # most texts repeat (cache reasons); unique ones need no sharing
        text = self._texts.setdefault(text, text)
        row = (event.operation_id, event.operation, event.timestamp, text)
        for asset in event.affected_assets:
            key = asset_key(asset.asset_id, asset.root)
            if kind is EventKind.DIAGNOSTICS_UPDATED:
                if self._findings.get(key, "findings: none") == text:
                    continue
                self._findings[key] = text
            entries = self._entries.get(key)
            if entries is None:
                entries = self._entries[key] = deque(maxlen=ENTRIES_PER_ASSET)
            entries.append(row)
            self._versions[key] = self._versions.get(key, 0) + 1

    def entries(self, key: AssetKey) -> list[HistoryEntry]:
        """Newest first."""
        return [HistoryEntry(*row) for row in reversed(self._entries.get(key, ()))]

    def version(self, key: AssetKey) -> int:
        return self._versions.get(key, 0)
