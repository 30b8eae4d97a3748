"""The up-to-date check: a no-op build decided by `stat`.

A build first stats exactly the paths the up-to-date manifest (packer.build.manifest_file) lists;
when each fingerprint is unchanged it is "up to date" without scanning, parsing, loading the
cache or hashing (docs/formats.md, "Build cache", says why that is sound). Any difference, and
the build runs a patch build (packer.build.patch) or its normal path, which removes the manifest
before it touches anything and records a new one (packer.build.recording) when it succeeds.

Racy entries: a fingerprint whose mtime or ctime is within RACY_WINDOW_NS of the moment the
recording build started may hide a later change in the same timestamp tick. Such an entry is
trusted only after its content is checked against what the build wrote (build/ outputs and
cache.json: the artifact's head and every payload against their hashes, the other files
whole); any other racy entry sends the build down its normal path. After a content check the
manifest is re-stamped, so the next no-op needs none.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packer.build.cache import RACY_WINDOW_NS
from packer.build.hashing import hash_bytes, hash_file_range
from packer.build.manifest_file import Manifest, Preloaded, in_project, load, manifest_path
from packer.build.staging import ARTIFACT, STAGING_DIR
from packer.build.statpass import Fingerprint, stat_listed
from packer.files.atomic import atomic_write_bytes
from packer.files.lock import read_lock
from packer.files.project import Project
from packer.files.safe_read import MAX_STATE_FILE_BYTES, open_file, read_regular, read_regular_stat
from packer.lane.cancellation import CancellationToken


def _racy(fp: list[Any], racy_after: int) -> bool:
    return bool(max(fp[1], fp[2]) >= racy_after)  # mtime or ctime: whichever is later


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
    rel = in_project(project, path)
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
        build = in_project(project, project.build_dir)
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
