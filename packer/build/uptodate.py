"""The up-to-date manifest `assets/.prometeu/uptodate.json`: a no-op build decided by `stat`.

Every successful build without findings records a fingerprint (size, mtime_ns, ctime_ns, inode,
device) of everything its output depends on: prometeu.json, the registry, cache.json, every
folder the scan listed (a listing changes only with its folder's mtime, so a new, removed or
renamed asset.json or input anywhere under assets/ is noticed), every asset.json found, every
input of the build set, and every file it left in build/. The next build first stats exactly
those paths; when each fingerprint is unchanged it is "up to date" without scanning, parsing,
loading the cache or hashing (docs/formats.md, "Build cache", says why that is sound). Any
difference, and the build runs its normal path, which removes the manifest before it touches
anything and records a new one when it succeeds.

Racy entries: a fingerprint whose mtime or ctime is within RACY_WINDOW_NS of the moment the
recording build started may hide a later change in the same timestamp tick. Such an entry is
trusted only after its content is checked against what the build wrote (build/ outputs and
cache.json: the artifact's head and every payload against their hashes, the other files
whole); any other racy entry sends the build down its normal path. After a content check the
manifest is re-stamped, so the next no-op needs none.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import operator
import os
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

import pydantic_core

from packer.build.cache import RACY_WINDOW_NS
from packer.build.hashing import hash_bytes, hash_file_range
from packer.build.staging import (
    ARTIFACT,
    ASSET_TABLE,
    LEGACY_PREVIEWS_DIR,
    PRELOAD,
    STAGING_DIR,
    TOOL_METADATA,
)
from packer.build.statpass import Fingerprint, fingerprint, stat_listed
from packer.files.atomic import atomic_write_bytes, atomic_write_chunks
from packer.files.lock import read_lock
from packer.files.project import ASSETS_DIR, Project
from packer.files.safe_read import (
    MAX_STATE_FILE_BYTES,
    loads_beside_threads,
    open_file,
    read_regular,
    read_regular_stat,
)
from packer.lane.cancellation import CancellationToken
from packer.lane.release import others_may_wait_for_the_gil
from packer.workspace.scan import WalkSummary

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

    def chunks(self, files: _Rows | _Joined | None = None,
               assets: _Rows | _Joined | None = None) -> Iterator[bytes]:
        """The manifest's compact JSON in pieces; `files` and `assets` stream those rows
        instead of the lists."""
        return _json_chunks([
            ("schema_version", MANIFEST_SCHEMA_VERSION), ("recorded_at_ns", self.recorded_at_ns),
            ("packer_version", self.packer_version), ("pipelines", self.pipelines),
            ("files", _Rows(self.files) if files is None else files), ("checks", self.checks),
            ("head_hash", self.head_hash),
            ("payload_offset", self.payload_offset), ("output_bytes", self.output_bytes),
            ("assets", _Rows(a.row() for a in self.assets) if assets is None else assets),
        ])

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest | None:
        try:
            data = _parse(raw)
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
class _Rows:
    """A JSON array whose elements are encoded and written a batch at a time."""

    rows: Iterable[Any]


@dataclass(frozen=True, slots=True)
class _Text:
    """Elements of a JSON array already encoded and comma-joined, in pieces of any length."""

    pieces: Iterable[str]


@dataclass(frozen=True, slots=True)
class _Joined:
    """A JSON array whose elements come from each part in turn."""

    parts: Sequence[_Rows | _Text]


_WRITE_CHUNK = 1 << 18
_ROWS_PER_CALL = 256
_dumps = json.JSONEncoder(separators=(",", ":")).encode  # one encoder for 60k rows at 10k


def _json_chunks(fields: list[tuple[str, Any]]) -> Iterator[bytes]:
    """`json.dumps(dict(fields), separators=(",", ":"))` in pieces of about _WRITE_CHUNK bytes,
    a `_Rows` or `_Joined` value's elements encoded a batch at a time (or copied, `_Text`):
    the same bytes, never the whole text."""
    pending: list[str] = ["{"]
    size = 0
    for index, (key, value) in enumerate(fields):
        pending.append(("," if index else "") + _dumps(key) + ":")
        if not isinstance(value, _Rows | _Joined):
            pending.append(_dumps(value))
            continue
        pending.append("[")
        for piece in _elements(value.parts if isinstance(value, _Joined) else (value,)):
            pending.append(piece)
            size += len(piece)
            if size >= _WRITE_CHUNK:
                yield "".join(pending).encode("utf-8")
                pending, size = [], 0
        pending.append("]")
    pending.append("}")
    yield "".join(pending).encode("utf-8")


def _elements(parts: Iterable[_Rows | _Text]) -> Iterator[str]:
    """The elements of the parts' rows, encoded and comma-joined, in pieces."""
    separator = ""
    for part in parts:
        if isinstance(part, _Text):
            first = separator
            for piece in part.pieces:
                if piece:
                    yield first + piece
                    first, separator = "", ","
            continue
        rows = iter(part.rows)
        # _ROWS_PER_CALL rows per encoder call ("[a,b]" is "[" + "a,b" + "]"): a call per row
        # was most of the manifest's cost at 10k
        while batch := list(itertools.islice(rows, _ROWS_PER_CALL)):
            yield separator + _dumps(batch)[1:-1]
            separator = ","


def _parse(raw: bytes) -> Any:
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


def _racy(fp: list[Any], racy_after: int) -> bool:
    return bool(max(fp[1], fp[2]) >= racy_after)  # mtime or ctime: whichever is later


def workspace_paths(
    project: Project, walk: WalkSummary, inputs: Iterable[str]
) -> Iterator[str]:
    """Project-relative paths of everything outside build/ that the build's output depends on,
    one at a time (60k at 10k assets): `workspace_path_count` of them."""
    root = project.root
    for project_file in (root / "prometeu.json", project.registry_path, project.cache_path):
        yield _in_project(project, project_file)
    for folder in walk.folders:
        yield (f"{ASSETS_DIR}/{folder}" if folder else ASSETS_DIR).replace(os.sep, "/")
    for anchor in walk.anchors:
        yield (f"{ASSETS_DIR}/{anchor}/asset.json" if anchor
               else f"{ASSETS_DIR}/asset.json").replace(os.sep, "/")
    for listed in inputs:
        yield listed.replace(os.sep, "/")


def workspace_path_count(walk: WalkSummary, inputs: Collection[str]) -> int:
    return 3 + len(walk.folders) + len(walk.anchors) + len(inputs)


@dataclass(slots=True)
class Draft:
    """A full build's manifest as far as it is known once its payloads are laid out: its
    rows, but cache.json's and build/'s, which `record` stats after the promotion, and the
    facts of the header and the content checks, which `record` is given. A child may encode
    the rows aside meanwhile (`write_rows_aside`).

    `inputs`: the build set's input paths, iterated once and counted (they need not be a
    list); `input_stats`: the scan's stat of each, parallel to `inputs` (None where there is
    none); `assets`: iterated once; `seen`: the fingerprints the failed up-to-date check took
    at the start of this build (`check`'s `seen`)."""

    project: Project
    started_at_ns: int
    packer_version: str
    pipelines: dict[str, int]
    walk: WalkSummary
    inputs: Collection[str]
    assets: Iterable[NoopAsset]
    seen: dict[str, Fingerprint | None] | None = None
    input_stats: Iterable[Sequence[int] | None] = ()


# workspace_paths lists prometeu.json, the registry, then cache.json: the one workspace row a
# build's own writing changes, stat'ed by `record` after the promotion
_CACHE_ROW = 2


@dataclass(frozen=True, slots=True)
class RowsAside:
    """Where a child left a draft's rows (`write_rows_aside`): a file holding the workspace
    rows before cache.json's, those after it and the assets' rows, encoded, one after the
    other; `lengths`: each part's length."""

    path: Path
    lengths: tuple[int, int, int]

    @classmethod
    def sent(cls, path: Path, text: str) -> RowsAside | None:
        """The rows the child said it wrote (`text`), if the file holds just that."""
        try:
            first, second, third = map(int, text.split())
            whole = os.stat(path).st_size
        except (ValueError, OSError):
            return None
        if min(first, second, third) < 0 or first + second + third != whole:
            return None
        return cls(path, (first, second, third))


def write_rows_aside(draft: Draft, side: Path) -> str:
    """`record`'s rows of `draft` as it would encode them, written to `side` (see RowsAside);
    returns the parts' lengths as text. What a child does while its parent promotes."""
    rows = _workspace_rows(draft, with_cache=False)
    parts = (_Rows(itertools.islice(rows, _CACHE_ROW)), _Rows(rows),
             _Rows(a.row() for a in draft.assets))
    lengths = []
    # JSON's encoder writes ASCII alone (non-ASCII is escaped): a length in characters is one
    # in bytes
    fd = os.open(side, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                 0o666)
    with os.fdopen(fd, "w", encoding="ascii", newline="") as out:
        for part in parts:
            length = 0
            for piece in _elements((part,)):
                out.write(piece)
                length += len(piece)
            lengths.append(length)
    return " ".join(map(str, lengths))


def record(draft: Draft, *, head_hash: str, payload_offset: int, output_bytes: int,
           small_hashes: dict[str, str], cache_digest: str,
           aside: RowsAside | None = None) -> None:
    """Stat and write the manifest after a successful build (a failure here costs time only).

    `head_hash`: `hash_bytes` of the artifact's prelude, header and padding; `small_hashes`:
    the content hash of each of build/'s other files (asset_table.json, preload.json,
    asset_table_metadata.json, in that order); `aside`: the draft's rows as a child encoded
    them (else they are made here).

    Stats this build already took of the same paths are reused instead of stat-ing again: the
    scan's (`walk.folder_stats` and `walk.anchor_stats`; `input_stats`), else `seen`; never
    for cache.json, which this build may have rewritten. Reusing a stat taken before the build
    read the file is safe: a change after that stat gives a fingerprint that no longer
    matches, and one in the same tick is racy (the stat came after `started_at_ns`).
    """
    project = draft.project
    base = str(project.root)
    outputs, checks = _output_rows(project, small_hashes, cache_digest)
    output_rows = _Rows(_fresh_row(base, path) for path in outputs)
    manifest = Manifest(
        recorded_at_ns=draft.started_at_ns, packer_version=draft.packer_version,
        pipelines=draft.pipelines, files=[], checks=checks, head_hash=head_hash,
        payload_offset=payload_offset, output_bytes=output_bytes,
    )
    # A manifest that cannot be written costs the next build its time only: none is left
    # (atomic_write_chunks), and it takes the normal path. So does a file of rows written
    # aside that holds less, or other, than its child said.
    with contextlib.suppress(OSError, EOFError, UnicodeDecodeError), \
            contextlib.ExitStack() as stack:
        if aside is None:
            # Stat'ed while the rows are written (no 60k-row list at 10k assets); nothing
            # written here is fingerprinted (assets/.prometeu/ is not walked).
            files = _Joined((_Rows(_workspace_rows(draft, with_cache=True)), output_rows))
            assets: _Rows | _Joined = _Rows(a.row() for a in draft.assets)
        else:
            text = stack.enter_context(open(aside.path, encoding="ascii", newline=""))
            cache_rel = _in_project(project, project.cache_path)
            first, second, third = (_Text(_read_chars(text, n)) for n in aside.lengths)
            files = _Joined((first, _Rows([_fresh_row(base, cache_rel)]), second, output_rows))
            assets = _Joined((third,))
        atomic_write_chunks(manifest_path(project), manifest.chunks(files, assets))


def _read_chars(text: IO[str], count: int) -> Iterator[str]:
    """The next `count` characters of `text`, in pieces (an early end is an error)."""
    while count > 0:
        piece = text.read(min(count, _WRITE_CHUNK))
        if not piece:
            raise EOFError("the rows written aside end early")
        count -= len(piece)
        yield piece


def _workspace_rows(draft: Draft, *, with_cache: bool) -> Iterator[list[Any]]:
    """The manifest's rows of `workspace_paths`, cache.json's only `with_cache`."""
    project, walk, inputs, seen = draft.project, draft.walk, draft.inputs, draft.seen
    cache_rel = _in_project(project, project.cache_path)
    reusable = workspace_path_count(walk, inputs) if seen else 0
    # the scan's stats, parallel to the paths (None for the project files)
    scanned = itertools.chain(
        (None, None, None), _padded(walk.folder_stats, len(walk.folders)),
        _padded(walk.anchor_stats, len(walk.anchors)),
        itertools.islice(draft.input_stats, len(inputs)), itertools.repeat(None))
    base = str(project.root)
    missing = object()
    for index, (path, stat_row) in enumerate(
            zip(workspace_paths(project, walk, inputs), scanned, strict=False)):
        if index == _CACHE_ROW:
            assert path == cache_rel
            if with_cache:
                yield _fresh_row(base, path)
            continue
        if stat_row is not None:
            yield [path, *stat_row]
            continue
        known: Any = missing
        if index < reusable and seen is not None:
            known = seen.get(path, missing)
        fp = fingerprint(f"{base}/{path}") if known is missing else known
        yield [path] if fp is None else [path, *fp]


def _in_project(project: Project, path: Path) -> str:
    """`path` as the manifest names it: relative to the project, with forward slashes."""
    return os.path.relpath(path, project.root).replace(os.sep, "/")


def _fresh_row(base: str, path: str) -> list[Any]:
    fp = fingerprint(f"{base}/{path}")
    return [path] if fp is None else [path, *fp]


def _padded(stats: tuple[Sequence[int] | None, ...], count: int
            ) -> Iterator[Sequence[int] | None]:
    """`stats`, or as many Nones as there are paths when it is not parallel to them."""
    return iter(stats) if len(stats) == count else itertools.repeat(None, count)


def _output_rows(
    project: Project, small_hashes: dict[str, str], cache_digest: str,
) -> tuple[list[str], dict[str, str]]:
    """The build/ paths a manifest lists after the workspace's, and every content check."""
    build = _in_project(project, project.build_dir)
    checks = {_in_project(project, project.cache_path):
              cache_digest}
    paths = [f"{build}/{name}" for name in (ARTIFACT, ASSET_TABLE, PRELOAD, TOOL_METADATA)]
    checks.update({f"{build}/{name}": digest for name, digest in small_hashes.items()})
    # Recorded absent: an older packer's previews appearing there (it forgets the manifest
    # first, but may be killed after promoting) take the normal path, which removes them.
    paths.append(f"{build}/{LEGACY_PREVIEWS_DIR}")
    return paths, checks


def _row_bytes(path: str, fp: Fingerprint | None) -> bytes:
    return json.dumps([path] if fp is None else [path, *fp], separators=(",", ":")).encode()


def record_patched(
    project: Project, previous: Manifest, *, started_at_ns: int, changed: list[str],
    seen: dict[str, Fingerprint | None], assets: list[NoopAsset], head: bytes,
    payload_offset: int, output_bytes: int, small: dict[str, bytes], cache_digest: str,
) -> bool:
    """`record` after a patch build (same bytes as `record` would write), from the previous
    manifest's own bytes: its workspace rows are kept as they are, but the `changed` ones (from
    `seen`, as `record` does) and cache.json's; the build/ rows, checks and assets anew. False
    (nothing written) when the previous bytes are not laid out as expected."""
    raw = previous.raw
    build = _in_project(project, project.build_dir)
    start = raw.find(b',"files":[') + len(b',"files":[')
    first_output = b",[" + json.dumps(f"{build}/{ARTIFACT}").encode() + b","
    end = raw.find(first_output)
    if start < len(b',"files":[') or end < start or raw.count(first_output) != 1:
        return False
    workspace = raw[start:end]
    cache_rel = _in_project(project, project.cache_path)
    base = str(project.root)
    fresh = {path: seen.get(path) for path in changed}
    fresh[cache_rel] = fingerprint(f"{base}/{cache_rel}")
    for path, fp in fresh.items():
        encoded = b"[" + json.dumps(path).encode()
        found = [at for closing in (b",", b"]")
                 for at in _all(workspace, encoded + closing)]
        if len(found) != 1:
            return False
        row_end = workspace.index(b"]", found[0] + len(encoded)) + 1
        workspace = workspace[:found[0]] + _row_bytes(path, fp) + workspace[row_end:]
    outputs, checks = _output_rows(
        project, {name: hash_bytes(data) for name, data in small.items()}, cache_digest)
    rows = b",".join(_row_bytes(path, fingerprint(f"{base}/{path}")) for path in outputs)
    manifest = Manifest(
        recorded_at_ns=started_at_ns, packer_version=previous.packer_version,
        pipelines=previous.pipelines, files=[], checks=checks, head_hash=hash_bytes(head),
        payload_offset=payload_offset, output_bytes=output_bytes, assets=assets,
    )
    data = manifest.to_bytes()
    empty = b',"files":[],"checks":'
    if data.count(empty) != 1:
        return False
    data = data.replace(empty, b',"files":[' + workspace + b"," + rows + b'],"checks":')
    with contextlib.suppress(OSError):
        atomic_write_bytes(manifest_path(project), data)
    return True


def _all(data: bytes, marker: bytes) -> list[int]:
    found = []
    at = data.find(marker)
    while at >= 0:
        found.append(at)
        at = data.find(marker, at + 1)
    return found


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
    return Preloaded(Manifest.from_bytes(raw), _stat_fingerprint(st))


def _stat_fingerprint(st: os.stat_result) -> Fingerprint:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _current_fingerprint(path: Path) -> Fingerprint | None:
    try:
        return _stat_fingerprint(os.stat(path))
    except OSError:
        return None


def known_project_id(project: Project, manifest: Manifest | None,
                     packer_version: str) -> str | None:
    """The registry's `project_id` read without validating the registry again, when it is the
    very file the manifest's build validated: the same fingerprint, outside the racy window,
    before and after the read. Otherwise (or on any doubt) None: the caller validates the
    registry (`Project.project_id`), which reports a broken one as it always did.

    A manifest is only recorded by a build without findings, and a registry that does not
    validate blocks a build, so the id read here is the one validation would give.
    """
    if manifest is None or manifest.packer_version != packer_version:
        return None
    path = project.registry_path
    rel = _in_project(project, path)
    rows = manifest.files
    row = rows[1] if len(rows) > 1 and rows[1][0] == rel else next(
        (r for r in rows if r[0] == rel), None)  # workspace_paths puts the registry second
    if row is None or len(row) != 6:
        return None
    try:
        raw, st = read_regular_stat(path, follow_symlinks=False, limit=MAX_STATE_FILE_BYTES)
        data = json.loads(raw)
        after = _stat_fingerprint(os.stat(path))
    except (OSError, ValueError, RecursionError):
        return None
    read_from = _stat_fingerprint(st)
    if (read_from != row[1:] or after != read_from
            or _racy(read_from, manifest.recorded_at_ns - RACY_WINDOW_NS)):
        return None
    project_id = data.get("project_id") if isinstance(data, dict) else None
    return project_id if type(project_id) is str and project_id else None


@dataclass(slots=True)
class Difference:
    """What a failed check saw (filled only when `check` is given one): for a patch build."""

    manifest: Manifest | None = None  # the usable manifest the check compared against
    changed: list[str] = field(default_factory=list)  # paths whose fingerprint differs
    racy: list[str] = field(default_factory=list)  # unchanged paths in the racy window


def check(
    project: Project, token: CancellationToken, *, packer_version: str,
    pipelines: dict[str, int], seen: dict[str, Fingerprint | None] | None = None,
    difference: Difference | None = None, preloaded: Preloaded | None = None,
    processes: int = 1,
) -> Manifest | None:
    """The manifest when nothing it lists changed (racy entries checked by content), else None.

    A build that is not up to date stats the same paths again when it records its own manifest:
    when `seen` is given, a failed check stats every listed path (not only up to the first
    difference) and leaves each fingerprint there for `record` to reuse. When `difference` is
    given (with `seen`), it receives the manifest and every changed and racy path.
    `preloaded` (from `load_early`) is used when the manifest file is still the one it was
    read from (a build that finished in between replaced it), else the manifest is read again.
    `processes` > 1, only from a caller that may fork: the stats are shared among as many
    processes (`packer.build.statpass`).
    """
    now_ns = time.time_ns()
    if preloaded is not None and preloaded.source is not None and (
        _current_fingerprint(manifest_path(project)) == preloaded.source
    ):
        manifest = preloaded.manifest
    else:
        manifest = load(project)
    if (manifest is None or manifest.packer_version != packer_version
            or manifest.pipelines != pipelines):
        return None
    if os.path.lexists(project.build_dir / STAGING_DIR):
        return None  # an interrupted build to finish or clean: the normal path's job
    base = str(project.root)
    racy_after = manifest.recorded_at_ns - RACY_WINDOW_NS
    with read_lock(project):  # as the scan: never see a mutation half applied
        changed, racy = stat_listed(
            base, manifest.files, token, racy_after=racy_after, seen=seen,
            changed_paths=None if difference is None else difference.changed,
            processes=processes)
    if changed and seen is None:
        return None
    if difference is not None:
        difference.manifest = manifest
        difference.racy = [row[0] for row in racy]
    if changed:
        return None
    if racy:
        for row in racy:
            token.raise_if_cancelled()
            if not _content_matches(project, manifest, row[0], token):
                return None
        # Checked by content after the stat: re-stamp when that makes some entry trusted, so
        # the next no-op checks by stat alone what is old enough by now.
        if any(not _racy(row[1:], now_ns - RACY_WINDOW_NS) for row in racy):
            manifest.recorded_at_ns = now_ns
            with contextlib.suppress(OSError):
                atomic_write_bytes(manifest_path(project), manifest.to_bytes())
    return manifest


def _content_matches(
    project: Project, manifest: Manifest, path: str, token: CancellationToken
) -> bool:
    full = project.root / path
    try:
        build = _in_project(project, project.build_dir)
        if path == f"{build}/{ARTIFACT}":
            return _artifact_matches(full, manifest, token)
        expected = manifest.checks.get(path)
        return expected is not None and hash_bytes(read_regular(full)) == expected
    except (OSError, EOFError):
        return False


def _artifact_matches(path: Path, manifest: Manifest, token: CancellationToken) -> bool:
    """Head, every payload and every gap between payloads (zeros) as the build wrote them."""
    offset = manifest.payload_offset
    with open_file(path) as handle:
        if hash_bytes(handle.read(offset)) != manifest.head_hash:
            return False
        end = 0
        for asset in sorted(manifest.assets, key=lambda a: a.offset):
            if asset.offset < end:
                return False
            if asset.offset > end:
                handle.seek(offset + end)
                if any(handle.read(asset.offset - end)):
                    return False
            digest = hash_file_range(handle, offset + asset.offset, asset.size, token)
            if digest != asset.payload_hash:
                return False
            end = asset.offset + asset.size
    return offset + end == manifest.output_bytes
