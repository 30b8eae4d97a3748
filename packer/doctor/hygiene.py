"""Hygiene checks (advisory, never blocking): unregistered anchors, duplicate content, files no
input references, large unused files, naming hints, stale build staging.

Everything here reads only what it must: directory entries and `lstat` for every check, and file
contents only for same-size candidates of the duplicate check. Symlinks are never followed here
(a symlinked file is not hashed), so a link to a FIFO or a device can never block the check.
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

import xxhash

from packer.build.buildlock import build_running
from packer.diagnostics import Diagnostic, diagnostic
from packer.doctor.hash_cache import Fingerprint, HashCache, holds
from packer.doctor.hash_cache import now_ns as hash_now_ns
from packer.files.declaration import DECLARATION_FILE, NAME_PATTERN
from packer.files.project import PACKER_DIR, Project
from packer.lane.cancellation import CancellationToken
from packer.workspace.roots import RootIndex
from packer.workspace.scan import AssetRecord, AssetState
from packer.workspace.walk import Walk

LARGE_UNUSED_BYTES = 1 << 20  # an unreferenced file above 1 MiB is PK204 instead of PK203
STAGING_DIR = ".staging"  # build/.staging: where a build emits before promoting to build/
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class WorkspaceFile:
    path: str  # POSIX, relative to assets/
    size: int
    mtime_ns: int = 0
    ctime_ns: int = 0
    inode: int = 0

    @property
    def fingerprint(self) -> Fingerprint:
        return (self.size, self.mtime_ns, self.ctime_ns, self.inode)


def list_workspace_files(assets_dir: Path, token: CancellationToken, *, under: str = ""
                         ) -> list[WorkspaceFile]:
    """Every regular file under assets/ except assets/.prometeu/, sorted by path (`under`: only
    those in that folder, relative to assets/, which the caller knows is no symlink).

    Symlinks (to files or folders) are skipped, as are names that are not UTF-8 (the scan already
    reports those as PK207) and entries that cannot be listed.
    """
    found: list[WorkspaceFile] = []

    def visit(directory: str, rel: str) -> None:  # str, not Path: 10k folders at 10k assets
        token.raise_if_cancelled()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            name = entry.name
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                continue
            if not rel and name == PACKER_DIR:
                continue
            child = f"{rel}/{name}" if rel else name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                visit(entry.path, child)
            elif stat.S_ISREG(st.st_mode):
                found.append(WorkspaceFile(child, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                                           st.st_ino))

    top = assets_dir / under if under else assets_dir
    if top.is_dir():
        visit(str(top), under)
    return sorted(found, key=lambda f: f.path)


def workspace_files_of_walk(assets_dir: Path, walk: Walk, token: CancellationToken
                            ) -> list[WorkspaceFile]:
    """`list_workspace_files(assets_dir, token)` from a walk already made (the snapshot's):
    one `lstat` per listed file and no second listing of every folder (13% of a 10k listing).

    The walk lists the same names (UTF-8, not under .prometeu/, no folder symlink followed);
    `lstat` keeps only the regular files, as list_workspace_files does. A folder the walk saw
    twice (a bind mount) is listed once here, where list_workspace_files would list it twice.
    """
    found: list[WorkspaceFile] = []
    base = str(assets_dir)
    lstat = os.lstat
    regular = stat.S_ISREG
    for directory in walk.dir_order:
        token.raise_if_cancelled()
        prefix = f"{directory}/" if directory else ""
        for name in walk.files_by_dir[directory]:
            child = prefix + name
            try:
                st = lstat(f"{base}/{child}")
            except OSError:
                continue  # gone since the walk
            if regular(st.st_mode):
                found.append(WorkspaceFile(child, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
                                           st.st_ino))
    found.sort(key=lambda f: f.path)
    return found


def by_size(files: Iterable[WorkspaceFile]) -> dict[int, list[WorkspaceFile]]:
    """The non-empty files by size (in the order given). Empty files are all alike and never
    reported."""
    found: dict[int, list[WorkspaceFile]] = {}
    for item in files:
        if item.size > 0:
            found.setdefault(item.size, []).append(item)
    return found


def duplicate_candidates(files: Iterable[WorkspaceFile]) -> list[list[WorkspaceFile]]:
    """Groups of non-empty files sharing one size: only these can be duplicates, so only these
    get hashed."""
    return [group for _size, group in sorted(by_size(files).items()) if len(group) > 1]


@dataclass(frozen=True, slots=True)
class SameSize:
    """The files of one size by their content hash, as one duplicate check saw them."""

    by_digest: dict[str, list[str]]  # hash → paths, for hashes that hold (hash_cache.holds)
    unhashed: list[WorkspaceFile]  # the others: hashed too recently, unreadable, or never


def content_hash(path: str | Path, token: CancellationToken) -> str | None:
    """xxh3_128 of a regular file, or None if it cannot be read (or is no longer a regular file).

    O_NOFOLLOW|O_NONBLOCK: a file swapped for a symlink or a FIFO after the walk is not followed
    and cannot block the open.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        digest = xxhash.xxh3_128()
        # os.read, not a buffered file object: creating one per file was a third of the time
        # of hashing 25k small files (a 10k project's first listing)
        while chunk := os.read(fd, _CHUNK):
            token.raise_if_cancelled()
            digest.update(chunk)
        return str(digest.hexdigest())
    except OSError:
        return None
    finally:
        os.close(fd)


def find_duplicates(
    assets_dir: Path,
    groups: list[list[WorkspaceFile]],
    token: CancellationToken,
    on_hashed: Callable[[], None] | None = None,
    known: HashCache | None = None,
    *,
    seen: dict[int, SameSize] | None = None,
) -> list[list[str]]:
    """Hash the same-size candidates; return groups (≥ 2 paths, sorted) of identical content.

    With `known`, a file whose fingerprint is unchanged keeps its recorded hash (the caller
    saves `known` afterwards). `seen` receives each group's files by hash (what one-asset reads
    compare with until the next listing)."""
    duplicates: list[list[str]] = []
    for group in groups:
        by_hash: dict[str, list[str]] = {}
        unhashed: list[WorkspaceFile] = []
        for item in group:
            digest = known.get(item.path, item.fingerprint) if known is not None else None
            if digest is None:
                started = hash_now_ns()
                digest = content_hash(os.path.join(assets_dir, item.path), token)
                if digest is not None and known is not None:
                    known.put(item.path, item.fingerprint, started, digest)
                if digest is None or not holds(item.fingerprint, started):
                    unhashed.append(item)
            if on_hashed is not None:
                on_hashed()
            if digest is not None:
                by_hash.setdefault(digest, []).append(item.path)
        duplicates.extend(sorted(paths) for paths in by_hash.values() if len(paths) > 1)
        if seen is not None and group:
            seen[group[0].size] = SameSize(_without(by_hash, unhashed), unhashed)
    return sorted(duplicates)


def _without(by_hash: dict[str, list[str]], files: list[WorkspaceFile]
             ) -> dict[str, list[str]]:
    if not files:
        return by_hash
    leave = {f.path for f in files}
    kept = {digest: [p for p in paths if p not in leave] for digest, paths in by_hash.items()}
    return {digest: paths for digest, paths in kept.items() if paths}


def _locate(path: str, roots: RootIndex) -> tuple[str | None, str]:
    owner = roots.owner(path)
    if owner is None:
        return None, path
    return owner, path[len(owner) + 1:] if owner else path


def duplicate_diagnostics(
    duplicates: list[list[str]], roots: dict[str, int | None], *, under: str = ""
) -> list[Diagnostic]:
    """PK202 for every copy after the first (by path) of each group of identical files
    (`under`: only the copies whose path starts with it; one asset's read wants its own of a
    group of 1,500 identical palettes)."""
    index = RootIndex(roots)
    found = []
    for group in duplicates:
        first = group[0]
        for copy in group[1:]:
            if not copy.startswith(under):
                continue
            root, file = _locate(copy, index)
            found.append(diagnostic(
                "PK202",
                f"assets/{copy} has the same content as assets/{first}"
                + (f" (and {len(group) - 2} more)" if len(group) > 2 else ""),
                root=root, file=file, asset_id=roots.get(root) if root is not None else None,
            ))
    return found


def _normalised_inputs(record: AssetRecord) -> set[str]:
    if record.declaration is None:
        return set()
    return {normalised_input(path) for _role, path in record.declaration.all_inputs()}


@lru_cache(maxsize=4096)
def normalised_input(path: str) -> str:
    """An input path as the files under its root are named (`./a//b` → `a/b`). Cached: most
    assets of a project name their inputs alike, and PurePosixPath is most of the cost."""
    return "/".join(p for p in PurePosixPath(path).parts if p != ".")


def record_hygiene(
    record: AssetRecord, assets_dir: Path, nested_roots: Iterable[str]
) -> list[Diagnostic]:
    """PK201 (unregistered), PK203/PK204 (unreferenced files), PK205 (naming) for one asset.

    Takes assets/, not the root's path: only an unreferenced file needs one (a Path per asset
    was most of this check's cost at 10k)."""
    found: list[Diagnostic] = []
    if record.state is AssetState.UNREGISTERED:
        found.append(diagnostic(
            "PK201", f"{record.root}/asset.json is not registered; it is never built",
            root=record.root, file=DECLARATION_FILE,
            fix=f"Adopt it (`prometeu-packer adopt PROJECT {shlex.quote(record.root)}`) or delete "
            "it if it is junk.",
        ))
    decl = record.declaration
    if decl is None:
        return found
    if not NAME_PATTERN.match(decl.name):
        found.append(diagnostic(
            "PK205", f"{record.root}: asset name {decl.name!r} is not lower_snake_case",
            root=record.root, file=DECLARATION_FILE, asset_id=record.asset_id,
        ))
    referenced = _normalised_inputs(record)
    inner = [n[len(record.root) + 1:] if record.root else n for n in nested_roots]
    for file in record.files:
        if file == DECLARATION_FILE or file in referenced:
            continue
        if any(file.startswith(f"{n}/") for n in inner):
            continue  # belongs to a nested asset root (already a PK111)
        try:
            st = os.lstat(os.path.join(assets_dir, record.root, file))
        except OSError:
            continue
        if st.st_size > LARGE_UNUSED_BYTES:
            found.append(diagnostic(
                "PK204", f"{record.root}/{file} ({st.st_size / (1 << 20):.1f} MiB) is not an "
                "input of this asset", root=record.root, file=file, asset_id=record.asset_id,
            ))
        else:
            found.append(diagnostic(
                "PK203", f"{record.root}/{file} is not an input of this asset",
                root=record.root, file=file, asset_id=record.asset_id,
            ))
    return found


def staging_dir(project: Project) -> Path:
    return project.build_dir / STAGING_DIR


def stale_staging(project: Project) -> Diagnostic | None:
    """PK208 when build/.staging is not empty and no build is running (an interrupted one left
    it); a running build's staging folder is its work in progress, not a leftover."""
    path = staging_dir(project)
    try:
        with os.scandir(path) as it:
            if next(it, None) is None:
                return None
    except OSError:
        return None
    if build_running(project.packer_dir):
        return None
    return diagnostic(
        "PK208", "build/.staging holds the leftovers of an interrupted build",
        file="build/.staging", auto_fixable=True,
    )
