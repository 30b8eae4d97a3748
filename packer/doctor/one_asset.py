"""Reading one asset without scanning the workspace, for the details of a clicked asset.

A full read (`build_snapshot`) walks and parses all of `assets/`: seconds at 10,000 assets. Most
of one asset's details concern its own folder, which is read fresh here: its registry entries,
its asset.json and inputs, its files, the asset roots inside it and the asset.json of the folders
above it (PK111). Three findings compare it with every other asset (PK109 shared asset_uuid,
PK116 shared name in the build, PK202 duplicate content); for those the others are taken from a
`WorkspaceIndex`, what the last full read (the listing) saw of them (for PK202: the content
hashes the listing made, grouped by size and hash once per index, so one read hashes only its
own files). So the details agree with a full read whenever the other assets are as the last
listing saw them, which the Studio keeps true by listing (or rescanning) when it learns they
changed.

The registry is read again only when `index.json` changed (its size, times or inode: every
write is an atomic rename). Whenever the fast read cannot be exact (the registry cannot be read,
the asset is not found, a folder on its path is a symlink), `read_one_asset` answers None and the
caller does the full read, with its findings and its error messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath

from packer.diagnostics import Diagnostic
from packer.doctor.hash_cache import HashCache
from packer.doctor.hash_cache import now_ns as hash_now_ns
from packer.doctor.hygiene import (
    SameSize,
    WorkspaceFile,
    by_size,
    content_hash,
    duplicate_diagnostics,
    list_workspace_files,
)
from packer.doctor.validation_cache import ValidationCache
from packer.errors import PackerError
from packer.files.declaration import DECLARATION_FILE
from packer.files.lock import read_lock
from packer.files.project import Project
from packer.files.registry import Registry, RegistryEntry, load_registry
from packer.lane.cancellation import CancellationToken
from packer.workspace.one_root import anchored_ancestors, plain_folder_path
from packer.workspace.roots import RootIndex
from packer.workspace.scan import (
    AssetRecord,
    AssetState,
    WorkspaceSnapshot,
    name_collision,
    read_root,
    uuid_collision,
)
from packer.workspace.walk import Walk, walk_assets

# (size, mtime_ns, ctime_ns, inode) of index.json
RegistryFingerprint = tuple[int, int, int, int]


def registry_fingerprint(project: Project) -> RegistryFingerprint | None:
    try:
        st = os.lstat(project.registry_path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


@dataclass(frozen=True, slots=True)
class _Registry:
    fingerprint: RegistryFingerprint
    project_id: str
    by_root: dict[str, list[RegistryEntry]]
    by_id: dict[int, RegistryEntry]


def _registry_view(fingerprint: RegistryFingerprint, registry: Registry) -> _Registry:
    by_root: dict[str, list[RegistryEntry]] = {}
    by_id: dict[int, RegistryEntry] = {}
    for entry in registry.assets:
        by_root.setdefault(entry.root, []).append(entry)
        by_id.setdefault(entry.asset_id, entry)
    return _Registry(fingerprint, registry.project_id, by_root, by_id)


class WorkspaceIndex:
    """What the last full read saw of every asset, as one-asset reads need it. Immutable but
    for the registry it remembers (replaced in one assignment, so any thread may read it)."""

    def __init__(self, snapshot: WorkspaceSnapshot, files: list[WorkspaceFile], *,
                 hashes: HashCache, validation: ValidationCache | None,
                 fingerprint: RegistryFingerprint | None,
                 same_size: dict[int, SameSize] | None = None) -> None:
        """`same_size`: every size's files grouped by the listing's duplicate check."""
        by_root = sorted(snapshot.assets, key=lambda r: r.root)
        self.roots = RootIndex(r.root for r in by_root)  # every root, missing ones too
        self.uuid_roots: dict[str, list[str]] = {}  # asset_uuid → roots declaring it
        self.build_names: dict[str, list[tuple[str, str]]] = {}  # name → (root, label)
        for record in by_root:
            decl = record.declaration
            if decl is None:
                continue
            self.uuid_roots.setdefault(decl.asset_uuid, []).append(record.root)
            if record.included_in_build:
                self.build_names.setdefault(decl.name, []).append((record.root, record.label()))
        # The duplicate check's hashes as the listing left them (this copy is never saved).
        self.hashes = HashCache(hashes.path, known=dict(hashes.seen or hashes.known))
        self.same_size = (same_size if same_size is not None
                          else same_size_groups(files, self.hashes))
        self.validation = validation
        self._registry: _Registry | None = (
            _registry_view(fingerprint, snapshot.registry)
            if fingerprint is not None and snapshot.registry is not None else None)

    def project_id(self, project: Project) -> str:
        """`project.project_id`, without reading the registry again when it did not change."""
        view = self.registry(project)
        return view.project_id if view is not None else project.project_id

    def registry(self, project: Project) -> _Registry | None:
        """The registry as it is on disk now; None if it cannot be read."""
        fingerprint = registry_fingerprint(project)
        known = self._registry
        if fingerprint is None:
            return None
        if known is not None and known.fingerprint == fingerprint:
            return known
        try:
            view = _registry_view(fingerprint, load_registry(project.registry_path))
        except PackerError:
            return None
        self._registry = view
        return view


def same_size_groups(files: list[WorkspaceFile], hashes: HashCache) -> dict[int, SameSize]:
    """The (non-empty) files by size, each size's by the hash `hashes` holds for it: what a
    one-asset read compares its own files with, instead of looking up the hash of every file
    of its sizes (10k lookups for one glyph bank of a 10k project). A listing gives these
    grouped by its duplicate check; after a rescan or a mutation they are grouped here."""
    groups: dict[int, SameSize] = {}
    for size, group in by_size(files).items():
        by_digest: dict[str, list[str]] = {}
        unhashed: list[WorkspaceFile] = []
        for item in group:
            digest = hashes.trusted(item.path, item.fingerprint)
            if digest is None:
                unhashed.append(item)
            else:
                by_digest.setdefault(digest, []).append(item.path)
        groups[size] = SameSize(by_digest, unhashed)
    return groups


@dataclass(frozen=True, slots=True)
class OneAsset:
    """One asset read fresh, with what its details add to its record's own findings."""

    record: AssetRecord  # with PK109 / PK116 as a full scan would give them
    nested: list[str]  # the asset roots on disk inside it (its hygiene skips their files)
    duplicates: list[Diagnostic]  # PK202 of its files
    validation: ValidationCache | None  # format findings already known


def normalise_root(text: str) -> str:
    """An asset root as a user may type it (`assets/x`, `./x/`, `x\\y`), relative to assets/."""
    parts = [p for p in PurePosixPath(text.replace("\\", "/")).parts if p not in (".", "/")]
    if parts and parts[0] == "assets":
        parts = parts[1:]
    return "/".join(parts)


def read_one_asset(project: Project, asset: int | str, index: WorkspaceIndex,
                   token: CancellationToken) -> OneAsset | None:
    """The asset named by asset_id or root, read fresh; None when only a full read can say."""
    with read_lock(project):
        return _read(project, asset, index, token)


def _read(project: Project, asset: int | str, index: WorkspaceIndex,
          token: CancellationToken) -> OneAsset | None:
    registry = index.registry(project)
    if registry is None:
        return None
    root = _find_root(project, asset, registry)
    if root is None:
        return None
    assets_dir = project.assets_dir
    on_disk = plain_folder_path(project, root)
    if on_disk is None:
        return None  # a symlink or a file on the way: the full walk decides what it means
    walk = walk_assets(assets_dir, token, start=root) if on_disk else Walk()
    anchors = set(walk.anchors) | anchored_ancestors(project, root)
    owned = registry.by_root.get(root, [])
    if not owned and root not in anchors:
        return None  # not an asset: the full read says so, with what there is
    record = read_root(assets_dir, os.path.realpath(assets_dir), root, owned, walk=walk,
                       anchors=anchors)
    record = _with_collisions(record, index)
    prefix = f"{root}/"
    inside_registered = [r for r in registry.by_root if r.startswith(prefix)]
    nested = sorted({a for a in walk.anchors if a != root} | {
        r for r in inside_registered if any(e.quarantined for e in registry.by_root[r])})
    duplicates: list[Diagnostic] = []
    if record.state is not AssetState.MISSING:
        owners = {r: None for r in {*index.roots.nested(root), *nested, *inside_registered}}
        duplicates = _duplicates(project, record, {**owners, root: record.asset_id}, index,
                                 token)
    return OneAsset(record, nested, duplicates, index.validation)


def _find_root(project: Project, asset: int | str, registry: _Registry) -> str | None:
    if isinstance(asset, int):
        entry = registry.by_id.get(asset)
        if entry is None or registry.by_root[entry.root][0].asset_id != asset:
            return None
        return entry.root or None
    root = normalise_root(asset)
    if ".." in root.split("/"):
        return None  # never read outside assets/; the full read says no such asset
    if root and (root in registry.by_root or
                 os.path.lexists(project.assets_dir / root / DECLARATION_FILE)):
        return root
    digits = asset.removeprefix("#")
    return _find_root(project, int(digits), registry) if digits.isdigit() else None


def _with_collisions(record: AssetRecord, index: WorkspaceIndex) -> AssetRecord:
    decl = record.declaration
    if decl is None:
        return record
    extra = []
    twins = [r for r in index.uuid_roots.get(decl.asset_uuid, ()) if r != record.root]
    if twins:
        extra.append(uuid_collision(record, twins))
    if record.included_in_build:
        namesakes = [label for r, label in index.build_names.get(decl.name, ())
                     if r != record.root]
        if namesakes:
            extra.append(name_collision(record, namesakes))
    if not extra:
        return record
    return record.model_copy(update={"diagnostics": (*record.diagnostics, *extra)})


def _duplicates(project: Project, record: AssetRecord, owners: dict[str, int | None],
                index: WorkspaceIndex, token: CancellationToken) -> list[Diagnostic]:
    """PK202 of this asset's files: its own files as they are now (hashed unless the index
    knows the hash for their stat), the others' as the index saw them (their hashes grouped
    once per listing; the few it holds no hash for are hashed here)."""
    prefix = f"{record.root}/"
    mine: dict[int, list[WorkspaceFile]] = {}
    for item in list_workspace_files(project.assets_dir, token, under=record.root):
        if item.size > 0:
            mine.setdefault(item.size, []).append(item)
    identical: list[list[str]] = []
    for size, own in mine.items():
        group = index.same_size.get(size)
        if len(own) < 2 and (group is None or _all_inside(group, prefix)):
            continue  # alone of its size: a duplicate of nothing
        by_hash: dict[str, list[str]] = {}
        for item in own:
            digest = _hash(project, item, index.hashes, token)
            if digest is not None:
                by_hash.setdefault(digest, []).append(item.path)
        if group is None or not by_hash:
            identical.extend(paths for paths in by_hash.values() if len(paths) > 1)
            continue
        for item in group.unhashed:
            if not item.path.startswith(prefix):
                digest = _hash(project, item, index.hashes, token)
                if digest in by_hash:
                    by_hash[digest].append(item.path)
        for digest, paths in by_hash.items():
            paths.extend(p for p in group.by_digest.get(digest, ()) if not p.startswith(prefix))
            if len(paths) > 1:
                identical.append(sorted(paths))
    found = duplicate_diagnostics(sorted(identical), owners, under=prefix)
    return [d for d in found if d.root == record.root]


def _all_inside(group: SameSize, prefix: str) -> bool:
    return (all(p.startswith(prefix) for paths in group.by_digest.values() for p in paths)
            and all(f.path.startswith(prefix) for f in group.unhashed))


def _hash(project: Project, item: WorkspaceFile, known: HashCache, token: CancellationToken
          ) -> str | None:
    digest = known.get(item.path, item.fingerprint)
    if digest is None:
        started = hash_now_ns()
        digest = content_hash(os.path.join(project.assets_dir, item.path), token)
        if digest is not None:
            known.put(item.path, item.fingerprint, started, digest)
    return digest
