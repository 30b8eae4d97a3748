"""The validation cache `assets/.prometeu/validation.json`: format findings already known.

Format validation decodes every input (PNG, WAV), so doctor used to pay it on every run and
`list` never ran it. Here each asset root's last validation is kept with what it depended on:
the packer release, the pipeline's `format_version`, the asset_id, a hash of the whole
asset.json, and (size, mtime_ns, ctime_ns) of each declared input as the scan saw them. An entry
is reused only when all of those are equal and every input was already older than the racy
window when it was validated (the build cache's rule: a file changed within the same timestamp
tick as the check must be checked again). docs/formats.md, "Validation cache", has the format.

A missing file is the normal first state; an unreadable, corrupt or foreign-version one is
ignored (PK209, a hint) and rewritten by the next doctor. It is only a cache: removing it costs
time, never correctness. Two readers may write it at once; each write is atomic, the last wins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packer import __version__
from packer.build.cache import RACY_WINDOW_NS
from packer.build.hashing import hash_bytes
from packer.diagnostics import Diagnostic, diagnostic
from packer.files.atomic import atomic_write_bytes, canonical_json_bytes
from packer.files.project import Project
from packer.files.safe_read import loads_beside_threads
from packer.formats import pipelines
from packer.workspace.scan import AssetRecord

VALIDATION_FILE = "validation.json"
VALIDATION_SCHEMA_VERSION = 1
_WHERE = f"assets/.prometeu/{VALIDATION_FILE}"


@dataclass(frozen=True, slots=True)
class ValidationKey:
    """Everything a format validation's findings depend on."""

    asset_id: int | None
    declaration_hash: str
    format_version: int
    inputs: tuple[tuple[int, int, int], ...]  # (size, mtime_ns, ctime_ns), declared order


def validation_key(record: AssetRecord) -> ValidationKey | None:
    """The key of a record whose format can be validated, or None when it cannot be cached
    (no declaration, an unknown format, or an input that did not check out at the scan)."""
    decl = record.declaration
    if decl is None:
        return None
    pipeline = pipelines().get(decl.output.format)
    if pipeline is None or len(record.input_stats) != len(decl.all_inputs()):
        return None
    return ValidationKey(
        asset_id=record.asset_id,
        declaration_hash=hash_bytes(canonical_json_bytes(decl.model_dump(mode="json"))),
        format_version=pipeline.format_version,
        inputs=tuple(st[:3] for st in record.input_stats),
    )


@dataclass(slots=True)
class _Entry:
    key: ValidationKey
    checked_at_ns: int  # when the validation that found these began reading
    findings: tuple[Diagnostic, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "asset_id": self.key.asset_id, "declaration_hash": self.key.declaration_hash,
            "format_version": self.key.format_version,
            "inputs": [list(s) for s in self.key.inputs], "checked_at_ns": self.checked_at_ns,
            "findings": [d.model_dump(mode="json") for d in self.findings],
        }


@dataclass(slots=True)
class ValidationCache:
    """The entries by asset root, the problem that made a file on disk unusable, if any, and
    whether anything changed since it was loaded."""

    path: Path
    entries: dict[str, _Entry] = field(default_factory=dict)
    problem: Diagnostic | None = None
    changed: bool = False

    def lookup(self, root: str, key: ValidationKey | None) -> tuple[Diagnostic, ...] | None:
        """The cached findings for `root` if its entry still holds for `key`, else None."""
        entry = self.entries.get(root)
        if entry is None or key is None or entry.key.inputs != key.inputs or entry.key != key:
            return None
        racy_after = entry.checked_at_ns - RACY_WINDOW_NS
        if any(max(mtime, ctime) >= racy_after for _size, mtime, ctime in key.inputs):
            return None
        return entry.findings

    def store(self, root: str, key: ValidationKey | None, checked_at_ns: int,
              findings: list[Diagnostic]) -> None:
        if key is None:
            if self.entries.pop(root, None) is not None:
                self.changed = True
            return
        self.entries[root] = _Entry(key, checked_at_ns, tuple(findings))
        self.changed = True

    def keep_only(self, roots: set[str]) -> None:
        """Drop the entries of roots that are gone."""
        for root in [r for r in self.entries if r not in roots]:
            del self.entries[root]
            self.changed = True

    def save(self) -> None:
        """Write the cache atomically if anything changed (or the file on disk was unusable)."""
        if not self.changed:
            return
        data = {
            "schema_version": VALIDATION_SCHEMA_VERSION, "packer_version": __version__,
            "assets": {root: self.entries[root].to_json() for root in sorted(self.entries)},
        }
        atomic_write_bytes(self.path, canonical_json_bytes(data), create_parent=False)
        self.changed = False


def now_ns() -> int:
    return time.time_ns()


def load_validation_cache(project: Project) -> ValidationCache:
    """The cache on disk, or an empty one (with a PK209 when the file was there but unusable)."""
    path = project.packer_dir / VALIDATION_FILE
    cache = ValidationCache(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return cache
    except OSError as exc:
        return _unusable(cache, f"cannot be read: {exc.strerror or exc}")
    try:
        data = loads_beside_threads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return _unusable(cache, f"is not valid JSON ({exc})")
    if not isinstance(data, dict):
        return _unusable(cache, "is not a JSON object")
    if data.get("schema_version") != VALIDATION_SCHEMA_VERSION:
        return _unusable(cache, f"has schema_version {data.get('schema_version')!r}; this "
                         f"packer writes {VALIDATION_SCHEMA_VERSION}")
    if data.get("packer_version") != __version__:
        return _unusable(cache, f"was written by packer {data.get('packer_version')!r}; this "
                         f"is {__version__}")
    assets = data.get("assets")
    if not isinstance(assets, dict):
        return _unusable(cache, "has no `assets` object")
    try:
        for root, item in assets.items():
            cache.entries[root] = _entry_from_json(item)
    except (KeyError, TypeError, ValueError) as exc:
        cache.entries.clear()
        return _unusable(cache, f"has a malformed entry ({exc})")
    return cache


def _entry_from_json(item: Any) -> _Entry:
    if not isinstance(item, dict):
        raise TypeError("an entry is not an object")
    asset_id = item["asset_id"]
    if asset_id is not None and not isinstance(asset_id, int):
        raise TypeError("asset_id is not an integer")
    inputs = tuple(_stat_triple(s) for s in item["inputs"])
    key = ValidationKey(asset_id=asset_id, declaration_hash=str(item["declaration_hash"]),
                        format_version=int(item["format_version"]), inputs=inputs)
    findings = tuple(Diagnostic.model_validate(d) for d in item["findings"])
    return _Entry(key, int(item["checked_at_ns"]), findings)


def _stat_triple(value: Any) -> tuple[int, int, int]:
    if (not isinstance(value, list) or len(value) != 3
            or not all(isinstance(v, int) for v in value)):
        raise TypeError("an input is not [size, mtime_ns, ctime_ns]")
    return (value[0], value[1], value[2])


def _unusable(cache: ValidationCache, why: str) -> ValidationCache:
    cache.problem = diagnostic(
        "PK209", f"{_WHERE} {why}; it is ignored and will be rewritten", file=_WHERE,
    )
    cache.changed = True  # the next save replaces the unusable file
    return cache
