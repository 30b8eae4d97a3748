"""A scan, reused while `stat` proves the workspace unchanged.

A scan of 10k assets takes ≈ 0.8 s, and often finds what the last one found: a mutation's apply
plans again from a scan of its own, under the write lock, right after its preview scanned; an F5
or the Studio coming back to the front rescans a workspace nobody touched. So a scan may be
remembered with the fingerprint (size, mtime_ns, ctime_ns, inode, device) of everything it read:
prometeu.json, the registry, every folder under assets/ and every file in them (the scan's own
stats where it took one, before reading; the other files' after the scan). A later scan of the
same project in this process takes the remembered snapshot instead when every fingerprint is
unchanged: a stat of every path, ≈ 0.1 s at 10k. When a few paths changed, all inside asset
roots (an input just saved, a file added to an asset's folder), it reads just those assets again
beside the others, as long as that provably gives what a scan would (`_patched`); a scan to be
remembered does so only while those files are too fresh to be remembered anyway, and else
scans in full, so that the next one is a stat pass again.

Why a stat taken after the scan proves anything: any change after the scan began gives the path
a ctime at or after that moment (the kernel sets ctime on every change; it cannot be set back),
so a fingerprint within RACY_WINDOW_NS of the scan's start is never trusted, and a snapshot with
one is not remembered at all (right after an apply, its files are that fresh: the next scan is
a real one). Any later change then shows as a different fingerprint, as for the build's
up-to-date manifest (docs/formats.md, "Up-to-date manifest"). Snapshots whose scan read outside
the walked tree (a quarantined asset) or could not list part of it (PK207) are not remembered.

One snapshot is kept, the last project's: a Studio has one project open; a command line, one
preview and its apply.
"""

from __future__ import annotations

import os
import posixpath
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from packer.files.declaration import DECLARATION_FILE
from packer.files.lock import read_lock
from packer.files.project import PROJECT_FILE, Project
from packer.lane.cancellation import CancellationToken
from packer.workspace.anchors import StatRow, stat_row
from packer.workspace.one_root import read_fresh
from packer.workspace.scan import (
    AssetRecord,
    AssetState,
    WorkspaceSnapshot,
    build_snapshot_with_walk,
)
from packer.workspace.walk import Walk

Fingerprint = StatRow  # (size, mtime_ns, ctime_ns, inode, device)
PATCH_LIMIT = 64  # changed paths read asset by asset; more, and a scan is cheaper
# The build cache's window (packer.build.cache.RACY_WINDOW_NS; build is a higher layer).
RACY_WINDOW_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class _Memo:
    root: str  # the project's folder
    snapshot: WorkspaceSnapshot
    paths: tuple[str, ...]
    fingerprints: tuple[Fingerprint | None, ...]  # parallel to paths; None: absent


class _Memory:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.memo: _Memo | None = None


_memory = _Memory()


def scan(project: Project, token: CancellationToken, *, remember: bool) -> WorkspaceSnapshot:
    """The workspace's snapshot: the remembered one while it provably still holds, else a new
    scan (remembered when `remember` and it qualifies). Under the project's shared lock, as
    every scan: an apply is never seen half done."""
    key = str(project.root)
    with _memory.lock:
        memo = _memory.memo
    with read_lock(project):
        changed = _changed(memo, token) if memo is not None and memo.root == key else None
        if memo is not None and changed == []:
            return memo.snapshot
        fresh_changes = changed is not None and _any_racy(changed, time.time_ns())
        patched = (None if memo is None or not changed or (remember and not fresh_changes)
                   else _patched(project, memo.snapshot, [path for path, _fp in changed],
                                 token))
        if patched is not None:
            # Not remembered: its changed files are too fresh to be trusted by stat. The memo
            # stays; a later scan reads again what changed since it, or, once those files have
            # settled, scans in full to be remembered (so the next rescan is a stat pass).
            return patched
        started_at_ns = time.time_ns()
        snapshot, walk = build_snapshot_with_walk(project, token)
    fresh = (_remembered(project, snapshot, walk, started_at_ns=started_at_ns, token=token)
             if remember else None)
    with _memory.lock:
        if fresh is not None or (_memory.memo is not None and _memory.memo.root == key):
            _memory.memo = fresh  # the old one is superseded either way
    return snapshot


def forget(project: Project) -> None:
    """Drop the remembered snapshot of `project` (an apply changed its workspace)."""
    with _memory.lock:
        if _memory.memo is not None and _memory.memo.root == str(project.root):
            _memory.memo = None


def _remembered(project: Project, snapshot: WorkspaceSnapshot, walk: Walk, *,
                started_at_ns: int, token: CancellationToken) -> _Memo | None:
    if walk.problems or any(r.state is AssetState.QUARANTINED for r in snapshot.assets):
        return None
    racy_after = started_at_ns - RACY_WINDOW_NS
    paths: list[str] = []
    fingerprints: list[Fingerprint | None] = []
    for index, (path, fp) in enumerate(_read_paths(project, snapshot, walk)):
        if not index % 4096:
            token.raise_if_cancelled()
        if fp is not None and max(fp[1], fp[2]) >= racy_after:
            return None  # this path may still change unseen: the snapshot cannot be trusted
        paths.append(path)
        fingerprints.append(fp)
    return _Memo(str(project.root), snapshot, tuple(paths), tuple(fingerprints))


def _changed(memo: _Memo, token: CancellationToken
             ) -> list[tuple[str, Fingerprint | None]] | None:
    """The remembered paths whose fingerprint differs now, with it; None when more than
    PATCH_LIMIT do (a scan is then the cheaper way)."""
    changed = []
    for index, (path, known) in enumerate(zip(memo.paths, memo.fingerprints, strict=True)):
        if not index % 4096:
            token.raise_if_cancelled()
        now = path_fingerprint(path)
        if now != known:
            changed.append((path, now))
            if len(changed) > PATCH_LIMIT:
                return None
    return changed


def _any_racy(changed: list[tuple[str, Fingerprint | None]], now_ns: int) -> bool:
    racy_after = now_ns - RACY_WINDOW_NS
    return any(fp is not None and max(fp[1], fp[2]) >= racy_after for _path, fp in changed)


def _patched(project: Project, snapshot: WorkspaceSnapshot, changed: list[str],
             token: CancellationToken) -> WorkspaceSnapshot | None:
    """`snapshot` with the assets that own the `changed` paths read again, when that is
    provably what a scan would give: each path lies in an asset root (a file of it, or a folder
    whose listing changed), and each root read again has the same identity (id, uuid, name,
    state, in the build or not: what the other assets' findings compare with) and the same
    asset roots under it. Else None: the caller scans."""
    base = str(project.assets_dir) + "/"
    by_root = {record.root: record for record in snapshot.assets}
    affected: dict[str, AssetRecord] = {}
    for path in changed:
        rel = path[len(base):] if path.startswith(base) else ""
        owner = _owner(rel, by_root) if rel else None
        if owner is None:
            return None  # the registry, prometeu.json, or a folder outside every asset
        affected[owner] = by_root[owner]
    others = [record for record in snapshot.assets if record.root not in affected]
    fresh: dict[str, AssetRecord] = {}
    for root, old in affected.items():
        known, record, anchors = read_fresh(project, root, others, token)
        if not known or record is None or _identity(record) != _identity(old):
            return None
        if anchors != {r.root for r in snapshot.assets
                       if r.state in _ON_DISK and (r.root + "/").startswith(root + "/")}:
            return None  # an asset.json came or went under it: a new or a lost asset
        fresh[root] = record
    return WorkspaceSnapshot(
        project_id=snapshot.project_id, registry=snapshot.registry,
        assets=tuple(fresh.get(record.root, record) for record in snapshot.assets),
        diagnostics=snapshot.diagnostics,
    )


_ON_DISK = (AssetState.REGISTERED, AssetState.UNREGISTERED)  # the roots holding an asset.json


def _owner(rel: str, by_root: dict[str, AssetRecord]) -> str | None:
    """The asset root nearest above `rel` (or `rel` itself)."""
    parts = rel.split("/")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end])
        if candidate in by_root:
            return candidate
    return None


def _identity(record: AssetRecord) -> tuple[object, ...]:
    decl = record.declaration
    return (record.root, record.state, record.asset_id, record.asset_uuid,
            record.included_in_build, decl is None, decl.name if decl else None,
            decl.asset_uuid if decl else None)


def _read_paths(project: Project, snapshot: WorkspaceSnapshot, walk: Walk
                ) -> Iterator[tuple[str, Fingerprint | None]]:
    """Every path a scan reads, with its fingerprint: the project files, each folder it listed
    and each file in them. The scan's own stats (taken before it read each folder, asset.json
    and input: the build's up-to-date manifest records them too) serve where it took one; the
    few other files are stat'ed now, after the scan, which the racy rule makes as good."""
    base = str(project.assets_dir)
    scanned: dict[str, Fingerprint] = {}
    for record in snapshot.assets:
        root = f"{base}/{record.root}"
        if record.anchor_fingerprint is not None:
            scanned[f"{root}/{DECLARATION_FILE}"] = record.anchor_fingerprint
        if record.declaration is not None and record.input_stats:
            inputs = [path for _role, path in record.declaration.all_inputs()]
            for path, fp in zip(inputs, record.input_stats, strict=False):
                scanned[posixpath.normpath(f"{root}/{path}")] = fp
    for path in (str(project.root / PROJECT_FILE), str(project.registry_path)):
        yield path, path_fingerprint(path)
    for rel, folder_fp in zip(walk.dir_order, walk.dir_stats, strict=True):
        folder = f"{base}/{rel}" if rel else base
        yield folder, folder_fp
        for name in walk.files_by_dir.get(rel, ()):
            path = f"{folder}/{name}"
            known = scanned.get(path)
            yield path, known if known is not None else path_fingerprint(path)


def path_fingerprint(path: str | os.PathLike[str]) -> Fingerprint | None:
    """The path's stat row (the scan's own shape), None when it cannot be stat'ed."""
    try:
        return stat_row(os.stat(path))
    except OSError:
        return None
