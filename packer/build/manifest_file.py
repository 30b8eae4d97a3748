"""The up-to-date manifest `assets/.prometeu/uptodate.json`: what it holds, written in pieces
and read back.

Every successful build without findings records (packer.build.recording) a fingerprint (size,
mtime_ns, ctime_ns, inode, device) of everything its output depends on: prometeu.json, the
registry, cache.json, every folder the scan listed (a listing changes only with its folder's
mtime, so a new, removed or renamed asset.json or input anywhere under assets/ is noticed), every
asset.json found, every input of the build set, and every file it left in build/; and, for each
asset of the build set, where its payload lies. The next build checks those fingerprints
(packer.build.uptodate). Format: docs/formats.md, "Up-to-date manifest".
"""

from __future__ import annotations

import contextlib
import itertools
import json
import operator
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pydantic_core

from packer.build.statpass import Fingerprint, fingerprint_of
from packer.files.project import Project
from packer.files.safe_read import MAX_STATE_FILE_BYTES, loads_beside_threads, read_regular_stat
from packer.lane.release import others_may_wait_for_the_gil

MANIFEST_FILE = "uptodate.json"
MANIFEST_SCHEMA_VERSION = 2  # 2: no previews (a version-1 manifest is ignored: normal path)


def manifest_path(project: Project) -> Path:
    return project.packer_dir / MANIFEST_FILE


def forget(project: Project) -> None:
    """Remove the manifest: done before a build changes build/ or cache.json."""
    with contextlib.suppress(OSError):
        manifest_path(project).unlink()


class NoopAsset(NamedTuple):
    """One build-set asset as an up-to-date build reports it (and where its payload lies).
    A named tuple: 10k of them are read from every manifest, ≈ 0.1 µs each (a slotted
    dataclass ≈ 0.8 µs)."""

    asset_id: int
    root: str
    name: str
    offset: int  # from the payload start
    size: int
    payload_hash: str
    input_bytes: int

    def row(self) -> list[Any]:
        return list(self)


@dataclass(slots=True)
class Manifest:
    recorded_at_ns: int  # when the recording build started (before its scan)
    packer_version: str
    pipelines: dict[str, int]  # format -> pipeline format_version
    files: list[list[Any]]  # [path relative to the project, *fingerprint] ([path] = absent)
    checks: dict[str, str]  # path -> content hash, for the files a racy entry may be checked by
    head_hash: str  # prelude + header + padding of build/assets.pa
    payload_offset: int
    output_bytes: int
    assets: list[NoopAsset] = field(default_factory=list)
    raw: bytes = b""  # the bytes it was read from (a patch build keeps most of them)

    def to_bytes(self) -> bytes:
        return b"".join(self.chunks())

    def chunks(self, files: Rows | Joined | None = None,
               assets: Rows | Joined | None = None) -> Iterator[bytes]:
        """The manifest's compact JSON in pieces; `files` and `assets` stream those rows
        instead of the lists."""
        return json_chunks([
            ("schema_version", MANIFEST_SCHEMA_VERSION), ("recorded_at_ns", self.recorded_at_ns),
            ("packer_version", self.packer_version), ("pipelines", self.pipelines),
            ("files", Rows(self.files) if files is None else files), ("checks", self.checks),
            ("head_hash", self.head_hash),
            ("payload_offset", self.payload_offset), ("output_bytes", self.output_bytes),
            ("assets", Rows(a.row() for a in self.assets) if assets is None else assets),
        ])

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest | None:
        try:
            data = parse(raw)
            if data["schema_version"] != MANIFEST_SCHEMA_VERSION:
                return None
            manifest = cls(
                recorded_at_ns=_int(data["recorded_at_ns"]),
                packer_version=str(data["packer_version"]),
                pipelines={str(k): _int(v) for k, v in data["pipelines"].items()},
                files=_file_rows(data["files"]),
                checks={str(k): str(v) for k, v in data["checks"].items()},
                head_hash=str(data["head_hash"]), payload_offset=_int(data["payload_offset"]),
                output_bytes=_int(data["output_bytes"]),
                assets=_asset_rows(data["assets"]),
                raw=raw,
            )
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None
        return manifest


@dataclass(frozen=True, slots=True)
class Rows:
    """A JSON array whose elements are encoded and written a batch at a time."""

    rows: Iterable[Any]


@dataclass(frozen=True, slots=True)
class Text:
    """Elements of a JSON array already encoded and comma-joined, in pieces of any length."""

    pieces: Iterable[str]


@dataclass(frozen=True, slots=True)
class Joined:
    """A JSON array whose elements come from each part in turn."""

    parts: Sequence[Rows | Text]


WRITE_CHUNK = 1 << 18
ROWS_PER_CALL = 256
_dumps = json.JSONEncoder(separators=(",", ":")).encode  # one encoder for 60k rows at 10k


def json_chunks(fields: list[tuple[str, Any]]) -> Iterator[bytes]:
    """`json.dumps(dict(fields), separators=(",", ":"))` in pieces of about WRITE_CHUNK bytes,
    a `Rows` or `Joined` value's elements encoded a batch at a time (or copied, `Text`):
    the same bytes, never the whole text."""
    pending: list[str] = ["{"]
    size = 0
    for index, (key, value) in enumerate(fields):
        pending.append(("," if index else "") + _dumps(key) + ":")
        if not isinstance(value, Rows | Joined):
            pending.append(_dumps(value))
            continue
        pending.append("[")
        for piece in elements(value.parts if isinstance(value, Joined) else (value,)):
            pending.append(piece)
            size += len(piece)
            if size >= WRITE_CHUNK:
                yield "".join(pending).encode("utf-8")
                pending, size = [], 0
        pending.append("]")
    pending.append("}")
    yield "".join(pending).encode("utf-8")


def elements(parts: Iterable[Rows | Text]) -> Iterator[str]:
    """The elements of the parts' rows, encoded and comma-joined, in pieces."""
    separator = ""
    for part in parts:
        if isinstance(part, Text):
            first = separator
            for piece in part.pieces:
                if piece:
                    yield first + piece
                    first, separator = "", ","
            continue
        rows = iter(part.rows)
        # ROWS_PER_CALL rows per encoder call ("[a,b]" is "[" + "a,b" + "]"): a call per row
        # was most of the manifest's cost at 10k
        while batch := list(itertools.islice(rows, ROWS_PER_CALL)):
            yield separator + _dumps(batch)[1:-1]
            separator = ","


def parse(raw: bytes) -> Any:
    """The manifest's JSON value. Alone (a CLI build), by pydantic_core's parser without its
    string cache: ≈ 23 ms for 10k assets' 5 MB against json's ≈ 42 ms (both build the same
    value of the JSON this module writes); beside a thread that may wait for the GIL (the
    Studio), in pieces, as every state file (`loads_beside_threads`)."""
    if others_may_wait_for_the_gil():
        return loads_beside_threads(raw)
    return pydantic_core.from_json(raw, cache_strings=False)


def _asset_rows(rows: list[Any]) -> list[NoopAsset]:
    # Type-checked a column at a time, in C loops (map, zip, set): no Python work per row.
    if not (type(rows) is list and set(map(type, rows)) <= {list}
            and set(map(len, rows)) <= {7}):
        raise TypeError("bad asset rows")
    columns = zip(*rows, strict=True)  # none when there is no row
    for column, kind in zip(columns, (int, str, str, int, int, str, int), strict=False):
        if not set(map(type, column)) <= {kind}:
            raise TypeError("bad asset rows")
    return list(map(tuple.__new__, itertools.repeat(NoopAsset), rows))


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _file_rows(rows: object) -> list[list[Any]]:
    # Only the shape is checked: a wrong value can only fail to match a fresh fingerprint.
    # In C loops (map, set): 47k rows at 10k assets.
    if not (isinstance(rows, list) and set(map(type, rows)) <= {list}
            and set(map(len, rows)) <= {1, 6}
            and set(map(type, map(operator.itemgetter(0), rows))) <= {str}):
        raise TypeError("bad file rows")
    return rows


def in_project(project: Project, path: Path) -> str:
    """`path` as the manifest names it: relative to the project, with forward slashes."""
    return os.path.relpath(path, project.root).replace(os.sep, "/")


def load(project: Project) -> Manifest | None:
    return load_early(project).manifest


@dataclass(frozen=True, slots=True)
class Preloaded:
    """The manifest read before the build lock (for `known_project_id`), and the fingerprint of
    the file it was read from, so that `check` can tell it is still the current one."""

    manifest: Manifest | None
    source: Fingerprint | None


def load_early(project: Project) -> Preloaded:
    try:
        raw, st = read_regular_stat(manifest_path(project), follow_symlinks=False,
                                    limit=MAX_STATE_FILE_BYTES)
    except OSError:
        return Preloaded(None, None)
    return Preloaded(Manifest.from_bytes(raw), fingerprint_of(st))
