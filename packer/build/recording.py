"""Recording the up-to-date manifest (packer.build.manifest_file) after a successful build: a full
build's from its draft (its rows perhaps encoded aside by a child meanwhile), a patch build's
from the previous manifest's own bytes."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from packer.build.hashing import hash_bytes
from packer.build.manifest_file import (
    WRITE_CHUNK,
    Joined,
    Manifest,
    NoopAsset,
    Rows,
    Text,
    elements,
    in_project,
    manifest_path,
)
from packer.build.staging import ARTIFACT, ASSET_TABLE, LEGACY_PREVIEWS_DIR, PRELOAD, TOOL_METADATA
from packer.build.statpass import Fingerprint, fingerprint
from packer.files.atomic import atomic_write_bytes, atomic_write_chunks
from packer.files.project import ASSETS_DIR, Project
from packer.workspace.scan import WalkSummary


def workspace_paths(
    project: Project, walk: WalkSummary, inputs: Iterable[str]
) -> Iterator[str]:
    """Project-relative paths of everything outside build/ that the build's output depends on,
    one at a time (60k at 10k assets): `workspace_path_count` of them."""
    root = project.root
    for project_file in (root / "prometeu.json", project.registry_path, project.cache_path):
        yield in_project(project, project_file)
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
    parts = (Rows(itertools.islice(rows, _CACHE_ROW)), Rows(rows),
             Rows(a.row() for a in draft.assets))
    lengths = []
    # JSON's encoder writes ASCII alone (non-ASCII is escaped): a length in characters is one
    # in bytes
    fd = os.open(side, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                 0o666)
    with os.fdopen(fd, "w", encoding="ascii", newline="") as out:
        for part in parts:
            length = 0
            for piece in elements((part,)):
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
    output_rows = Rows(_fresh_row(base, path) for path in outputs)
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
            files = Joined((Rows(_workspace_rows(draft, with_cache=True)), output_rows))
            assets: Rows | Joined = Rows(a.row() for a in draft.assets)
        else:
            text = stack.enter_context(open(aside.path, encoding="ascii", newline=""))
            cache_rel = in_project(project, project.cache_path)
            first, second, third = (Text(_read_chars(text, n)) for n in aside.lengths)
            files = Joined((first, Rows([_fresh_row(base, cache_rel)]), second, output_rows))
            assets = Joined((third,))
        atomic_write_chunks(manifest_path(project), manifest.chunks(files, assets))


def _read_chars(text: IO[str], count: int) -> Iterator[str]:
    """The next `count` characters of `text`, in pieces (an early end is an error)."""
    while count > 0:
        piece = text.read(min(count, WRITE_CHUNK))
        if not piece:
            raise EOFError("the rows written aside end early")
        count -= len(piece)
        yield piece


def _workspace_rows(draft: Draft, *, with_cache: bool) -> Iterator[list[Any]]:
    """The manifest's rows of `workspace_paths`, cache.json's only `with_cache`."""
    project, walk, inputs, seen = draft.project, draft.walk, draft.inputs, draft.seen
    cache_rel = in_project(project, project.cache_path)
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
    build = in_project(project, project.build_dir)
    checks = {in_project(project, project.cache_path):
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
    build = in_project(project, project.build_dir)
    start = raw.find(b',"files":[') + len(b',"files":[')
    first_output = b",[" + json.dumps(f"{build}/{ARTIFACT}").encode() + b","
    end = raw.find(first_output)
    if start < len(b',"files":[') or end < start or raw.count(first_output) != 1:
        return False
    workspace = raw[start:end]
    cache_rel = in_project(project, project.cache_path)
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
