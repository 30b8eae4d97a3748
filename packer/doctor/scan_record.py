"""The last scan's record `assets/.prometeu/scan.json`: what `rescan` compares the workspace with.

One compact entry per asset root: identity, state, the stat fingerprint and content hash of its
asset.json and of each declared input, the list of its files (as a count and a digest) and the
codes of its structural findings. Plain JSON read with a shape check (no pydantic per entry: a
10k project's record loads in a few tens of milliseconds). An unreadable, corrupt, foreign-version
or other-project file is ignored with the hint PK210 and rewritten by the next rescan.
docs/formats.md, "Scan record", has the format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packer.diagnostics import Diagnostic, diagnostic
from packer.files.atomic import atomic_write_bytes, canonical_json_bytes
from packer.files.project import Project
from packer.files.safe_read import loads_beside_threads

SCAN_RECORD_FILE = "scan.json"
SCAN_RECORD_SCHEMA_VERSION = 1
_WHERE = f"assets/.prometeu/{SCAN_RECORD_FILE}"

# size, mtime_ns, ctime_ns, inode, xxh3_128 hex of the content
FileFacts = tuple[int, int, int, int, str]


@dataclass(frozen=True, slots=True)
class RootFacts:
    """One asset root as a scan recorded it."""

    asset_id: int | None
    state: str
    included: bool
    anchor: FileFacts | None  # asset.json; None when it is absent or unreadable
    inputs: tuple[tuple[str, FileFacts], ...]  # (path in the root, facts), declared order
    file_count: int
    files_digest: str  # xxh3_128 of the sorted file list
    codes: tuple[str, ...]  # structural finding codes, in order

    def to_json(self) -> list[Any]:
        return [self.asset_id, self.state, self.included,
                list(self.anchor) if self.anchor else None,
                [[path, *facts] for path, facts in self.inputs],
                self.file_count, self.files_digest, list(self.codes)]


@dataclass(slots=True)
class ScanRecord:
    """The roots of one scan and when it began (the racy window is measured from there)."""

    scanned_at_ns: int
    roots: dict[str, RootFacts] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoadedRecord:
    record: ScanRecord | None  # None: no usable previous scan
    problem: Diagnostic | None  # PK210 when a file was there but unusable


def load_scan_record(project: Project, project_id: str) -> LoadedRecord:
    path = project.packer_dir / SCAN_RECORD_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return LoadedRecord(None, None)
    except OSError as exc:
        return _unusable(f"cannot be read: {exc.strerror or exc}")
    try:
        data = loads_beside_threads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return _unusable(f"is not valid JSON ({exc})")
    if not isinstance(data, dict):
        return _unusable("is not a JSON object")
    if data.get("schema_version") != SCAN_RECORD_SCHEMA_VERSION:
        return _unusable(f"has schema_version {data.get('schema_version')!r}; this packer "
                         f"writes {SCAN_RECORD_SCHEMA_VERSION}")
    if data.get("project_id") != project_id:
        return _unusable("belongs to another project (its project_id differs)")
    scanned_at, roots = data.get("scanned_at_ns"), data.get("roots")
    if not isinstance(scanned_at, int) or not isinstance(roots, dict):
        return _unusable("has no `scanned_at_ns` integer or no `roots` object")
    record = ScanRecord(scanned_at)
    try:
        for root, item in roots.items():
            record.roots[root] = _root_from_json(item)
    except (TypeError, ValueError) as exc:
        return _unusable(f"has a malformed entry ({exc})")
    return LoadedRecord(record, None)


def save_scan_record(project: Project, project_id: str, record: ScanRecord) -> None:
    """Write atomically; never creates assets/.prometeu/ (raises OSError when it cannot write)."""
    data = {"schema_version": SCAN_RECORD_SCHEMA_VERSION, "project_id": project_id,
            "scanned_at_ns": record.scanned_at_ns,
            "roots": {root: record.roots[root].to_json() for root in sorted(record.roots)}}
    atomic_write_bytes(project.packer_dir / SCAN_RECORD_FILE, canonical_json_bytes(data),
                       create_parent=False)


def _ints(values: list[Any], n: int) -> bool:
    return len(values) >= n and all(type(v) is int for v in values[:n])


def _facts(value: Any) -> FileFacts:
    if not isinstance(value, list) or len(value) != 5 or not _ints(value, 4) or not isinstance(
            value[4], str):
        raise TypeError("a file is not [size, mtime_ns, ctime_ns, inode, hash]")
    return (value[0], value[1], value[2], value[3], value[4])


def _root_from_json(item: Any) -> RootFacts:
    if not isinstance(item, list) or len(item) != 8:
        raise TypeError("an entry is not a list of 8 fields")
    asset_id, state, included, anchor, inputs, count, digest, codes = item
    if asset_id is not None and type(asset_id) is not int:
        raise TypeError("asset_id is not an integer")
    if not isinstance(state, str) or not isinstance(included, bool) or type(count) is not int:
        raise TypeError("state, included or file count has the wrong type")
    if not isinstance(inputs, list) or not isinstance(codes, list) or not isinstance(digest, str):
        raise TypeError("inputs, files digest or codes has the wrong type")
    parsed_inputs = []
    for entry in inputs:
        if not isinstance(entry, list) or not entry or not isinstance(entry[0], str):
            raise TypeError("an input is not [path, size, mtime_ns, ctime_ns, inode, hash]")
        parsed_inputs.append((entry[0], _facts(entry[1:])))
    return RootFacts(asset_id, state, included, None if anchor is None else _facts(anchor),
                     tuple(parsed_inputs), count, digest, tuple(str(c) for c in codes))


def _unusable(why: str) -> LoadedRecord:
    return LoadedRecord(None, diagnostic(
        "PK210", f"{_WHERE} {why}; it is ignored and this scan records a fresh one", file=_WHERE,
    ))
