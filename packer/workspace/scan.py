"""Scan: walk `assets/`, find asset roots, reconcile them with the registry.

The scan reads only what it must: directory entries, each `asset.json`, and `stat` of each input.
It never opens an input file (and never follows an input that escapes its root).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from packer.diagnostics import Diagnostic, count_by_severity, counts_text, diagnostic, plural
from packer.errors import RegistryError, WorkspaceNotInitialisedError
from packer.files.declaration import DECLARATION_FILE, AssetDeclaration, SharedBlocks
from packer.files.lock import read_lock
from packer.files.project import Project
from packer.files.registry import Registry, RegistryEntry
from packer.lane.cancellation import CancellationToken
from packer.lane.events import (
    AffectedAsset,
    AssetChangedDetail,
    AssetDiscoveredDetail,
    DiagnosticsUpdatedDetail,
    EventKind,
    Outcome,
)
from packer.lane.operation import Operation
from packer.lane.sinks import EventSink, NullSink
from packer.lane.trusted import trusted_maker
from packer.workspace.anchors import NO_ANCHOR, StatRow, read_anchor
from packer.workspace.roots import RootIndex
from packer.workspace.walk import Walk, files_under, plain_files_under, walk_assets


class AssetState(StrEnum):
    REGISTERED = "registered"
    UNREGISTERED = "unregistered"
    MISSING = "missing"  # registered, but the root or its asset.json is gone
    QUARANTINED = "quarantined"


class AssetRecord(BaseModel):
    """One asset as the scan sees it: identity, state, declaration and structural findings."""

    # validator built on first use: the scan and a patch construct it
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    root: str  # POSIX, relative to assets/
    state: AssetState
    asset_id: int | None = None
    asset_uuid: str | None = None
    included_in_build: bool = False
    declaration: AssetDeclaration | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    files: tuple[str, ...] = ()  # every file under the root, relative to it, sorted
    anchor_fingerprint: StatRow | None = None  # the stat of asset.json as it was read
    # the stat (size, mtime_ns, ctime_ns, inode, device) of each input in
    # `declaration.all_inputs()` order, as `check_inputs` saw them; empty unless every input
    # checked out (the build's cache hints and up-to-date manifest, without a second stat)
    input_stats: tuple[StatRow, ...] = ()

    @property
    def name(self) -> str | None:
        return self.declaration.name if self.declaration else None

    @property
    def asset_type(self) -> str | None:
        return self.declaration.type if self.declaration else None

    @property
    def registered(self) -> bool:
        return self.asset_id is not None

    @property
    def blocking(self) -> bool:
        return any(d.blocking for d in self.diagnostics)

    @property
    def in_build_set(self) -> bool:
        return self.state is AssetState.REGISTERED and self.included_in_build

    def affected(self) -> AffectedAsset:
        return AffectedAsset(asset_id=self.asset_id, root=self.root, name=self.name)

    def label(self) -> str:
        ident = f"#{self.asset_id} " if self.asset_id is not None else ""
        return f"{ident}{self.name or self.root}"


# The fields set of every record `read_root` makes (all of them): one set shared by all, as
# a set of 11 names is 728 bytes per record. Never mutated: records are frozen, and
# `model_copy` copies it before adding to it.
_EVERY_RECORD_FIELD = set(AssetRecord.model_fields)
# AssetRecord.model_construct(_fields_set=_EVERY_RECORD_FIELD, **every_field), faster
_make_record = trusted_maker(AssetRecord, _EVERY_RECORD_FIELD)


class WorkspaceSnapshot(BaseModel):
    """The whole workspace at one moment. Assets sorted: registered by id, then others by root."""

    # validator built on first use: the scan and a patch construct it
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    project_id: str
    registry: Registry | None
    assets: tuple[AssetRecord, ...]
    diagnostics: tuple[Diagnostic, ...] = ()  # workspace-level (registry, unreadable entries)

    # Indexes built on first use (a snapshot is immutable); cached properties are not fields,
    # so they are neither dumped nor compared. (Never `model_copy(update=...)` a snapshot: the
    # copy would keep these; build a new one.)
    @cached_property
    def _by_root(self) -> dict[str, AssetRecord]:
        index: dict[str, AssetRecord] = {}
        for record in self.assets:
            index.setdefault(record.root, record)
        return index

    @cached_property
    def _by_id(self) -> dict[int, AssetRecord]:
        index: dict[int, AssetRecord] = {}
        for record in self.assets:
            if record.asset_id is not None:
                index.setdefault(record.asset_id, record)
        return index

    @cached_property
    def present_roots(self) -> RootIndex:
        """The roots of every asset but the missing ones (what is on disk)."""
        return RootIndex(r.root for r in self.assets if r.state is not AssetState.MISSING)

    def by_root(self, root: str) -> AssetRecord | None:
        return self._by_root.get(root)

    def by_id(self, asset_id: int) -> AssetRecord | None:
        return self._by_id.get(asset_id)

    def by_identity(self, asset_id: int | None, root: str) -> AssetRecord | None:
        """The same asset as (asset_id, root) names: by id when it has one (ids survive moves),
        else by root."""
        if asset_id is not None:
            found = self.by_id(asset_id)
            if found is not None:
                return found
        return self.by_root(root)

    def all_diagnostics(self) -> list[Diagnostic]:
        found = list(self.diagnostics)
        for record in self.assets:
            found.extend(record.diagnostics)
        return found


def _load_registry(project: Project) -> tuple[Registry | None, list[Diagnostic]]:
    try:
        return project.load_registry(), []
    except WorkspaceNotInitialisedError as exc:
        return None, [diagnostic("PK002", str(exc), file="assets/.prometeu/index.json")]
    except RegistryError as exc:
        code = "PK004" if "Upgrade the packer" in str(exc) else "PK003"
        return None, [diagnostic(code, str(exc), file="assets/.prometeu/index.json")]


def _nesting_owner(root: str, anchors: set[str]) -> str | None:
    parts = root.split("/")
    for i in range(len(parts) - 1, -1, -1):
        candidate = "/".join(parts[:i])
        if candidate != root and candidate in anchors:
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class WalkSummary:
    """Which folders the scan listed and which held an asset.json (relative to assets/).

    A folder's listing changes only with its mtime, so these are what the build's up-to-date
    check (packer.build.uptodate) must stat to know that the set of assets is unchanged.
    """

    folders: tuple[str, ...]
    anchors: tuple[str, ...]
    # The stats the scan took (before listing a folder, when reading an asset.json), parallel
    # to the above; None where it took none (an asset.json it could not read).
    folder_stats: tuple[StatRow | None, ...] = ()
    anchor_stats: tuple[StatRow | None, ...] = ()


def build_snapshot(project: Project, token: CancellationToken | None = None) -> WorkspaceSnapshot:
    """Scan without events: walk, read anchors, reconcile with the registry.

    Holds the project's shared lock (packer.files.lock) so a mutation is never seen half applied.
    """
    return build_snapshot_and_walk(project, token)[0]


def build_snapshot_and_walk(
    project: Project, token: CancellationToken | None = None
) -> tuple[WorkspaceSnapshot, WalkSummary]:
    """`build_snapshot`, also saying which folders and anchors the walk found."""
    snapshot, walk = build_snapshot_with_walk(project, token)
    anchor_stats = []
    for root in walk.anchors:
        record = snapshot.by_root(root)
        anchor_stats.append(record.anchor_fingerprint if record is not None else None)
    return snapshot, WalkSummary(tuple(walk.dir_order), tuple(walk.anchors),
                                 tuple(walk.dir_stats), tuple(anchor_stats))


def build_snapshot_with_walk(
    project: Project, token: CancellationToken | None = None
) -> tuple[WorkspaceSnapshot, Walk]:
    """`build_snapshot`, also giving its walk of assets/ (the listing's duplicate check lists
    the workspace's files from it instead of walking the tree a second time)."""
    with read_lock(project):
        return _build_snapshot(project, token or CancellationToken())


def _build_snapshot(
    project: Project, token: CancellationToken
) -> tuple[WorkspaceSnapshot, Walk]:
    registry, workspace_diags = _load_registry(project)
    assets_dir = project.assets_dir
    walk = walk_assets(assets_dir, token)
    workspace_diags.extend(walk.problems)
    anchors = set(walk.anchors)
    entries: list[RegistryEntry] = list(registry.assets) if registry else []
    entries_by_root: dict[str, list[RegistryEntry]] = {}
    for registered in entries:
        entries_by_root.setdefault(registered.root, []).append(registered)

    records: list[AssetRecord] = []
    real_assets = os.path.realpath(assets_dir)  # once: each root then costs an lstat or two
    shared = SharedBlocks()  # equal output/preload blocks parsed once per scan
    for root in sorted(anchors | set(entries_by_root)):
        token.raise_if_cancelled()
        records.append(read_root(assets_dir, real_assets, root, entries_by_root.get(root, []),
                                 walk=walk, anchors=anchors, shared=shared))

    records = _flag_name_collisions(_flag_uuid_collisions(records))
    records.sort(key=lambda r: (r.asset_id is None, r.asset_id or 0, r.root))
    project_id = registry.project_id if registry else project.project_id
    snapshot = WorkspaceSnapshot(
        project_id=project_id, registry=registry, assets=tuple(records),
        diagnostics=tuple(workspace_diags),
    )
    return snapshot, walk


def read_root(
    assets_dir: Path, real_assets: str, root: str, owned: list[RegistryEntry], *, walk: Walk,
    anchors: set[str], shared: SharedBlocks | None = None,
) -> AssetRecord:
    """One root's record, before the workspace-wide checks (PK109, PK116): `owned` are its
    registry entries, `walk` a walk that reached the root's folder (if it is there), `anchors`
    the walked folders holding an asset.json (the root's own and its ancestors' at least);
    `shared`: the scan's asset.json blocks met before (parse_declaration)."""
    entry = owned[0] if owned else None
    asset_id = entry.asset_id if entry else None
    diags: list[Diagnostic] = []
    read = NO_ANCHOR
    files: list[str] = []
    if len(owned) > 1:
        ids = ", ".join(f"#{e.asset_id}" for e in owned)
        diags.append(diagnostic(
            "PK110", f"{root} is registered {len(owned)} times ({ids})",
            root=root, asset_id=asset_id,
        ))
    if entry is not None and entry.quarantined:
        state = AssetState.QUARANTINED
        if not (assets_dir / root).is_dir():
            diags.append(diagnostic(
                "PK101", f"quarantined asset #{asset_id} is gone from {root}",
                root=root, asset_id=asset_id,
            ))
        else:
            read = read_anchor(assets_dir, real_assets, root, asset_id, shared=shared)
            diags.extend(d for d in read.diagnostics
                         if d.code not in {"PK106", "PK112", "PK114"})
    elif root in anchors:
        state = AssetState.REGISTERED if entry else AssetState.UNREGISTERED
        files = files_under(walk, root)
        read = read_anchor(assets_dir, real_assets, root, asset_id,
                           plain_files_under(walk, root, files), shared=shared)
        diags.extend(read.diagnostics)
        owner = _nesting_owner(root, anchors)
        if owner is not None:
            diags.append(diagnostic(
                "PK111", f"{root} lies inside the asset root {owner}",
                root=root, asset_id=asset_id,
            ))
    else:
        state = AssetState.MISSING
        if (assets_dir / root).is_dir():
            diags.append(diagnostic(
                "PK102", f"registered asset #{asset_id} has no asset.json in {root}",
                root=root, asset_id=asset_id, file=DECLARATION_FILE,
            ))
        else:
            diags.append(diagnostic(
                "PK101", f"registered asset #{asset_id} is missing: {root} does not exist",
                root=root, asset_id=asset_id,
            ))
    decl = read.decl
    if entry is not None and decl is not None and decl.asset_uuid != entry.asset_uuid:
        diags.append(diagnostic(
            "PK113",
            f"{root}/asset.json has asset_uuid {decl.asset_uuid}, the registry has "
            f"{entry.asset_uuid}",
            root=root, asset_id=asset_id, file=DECLARATION_FILE,
        ))
    # Every value is already typed and validated (the declaration by parse_declaration):
    # constructing without re-validation saves thousands of pydantic passes per scan.
    return _make_record(
        root=root, state=state, asset_id=asset_id,
        asset_uuid=decl.asset_uuid if decl else (entry.asset_uuid if entry else None),
        included_in_build=bool(entry and entry.included_in_build and not entry.quarantined),
        declaration=decl, diagnostics=tuple(diags), files=tuple(files),
        anchor_fingerprint=read.fingerprint, input_stats=read.input_stats,
    )


def uuid_collision(record: AssetRecord, others: list[str]) -> Diagnostic:
    """PK109 of `record`, whose asset_uuid the roots `others` declare too (in root order)."""
    return diagnostic(
        "PK109", f"{record.root} shares asset_uuid {record.asset_uuid} with {', '.join(others)}",
        root=record.root, asset_id=record.asset_id, file=DECLARATION_FILE,
        auto_fixable=not record.registered,
    )


def name_collision(record: AssetRecord, others: list[str]) -> Diagnostic:
    """PK116 of `record` (in the build), whose name the assets labelled `others` (in root
    order) also have, also in the build."""
    assert record.declaration is not None
    return diagnostic(
        "PK116", f"{record.root}: the name {record.declaration.name!r} is also the name of "
        f"{', '.join(others)}, also in the build; game code could not tell them apart",
        root=record.root, asset_id=record.asset_id, file=DECLARATION_FILE,
    )


def _flag_uuid_collisions(records: list[AssetRecord]) -> list[AssetRecord]:
    by_uuid: dict[str, list[AssetRecord]] = {}
    for record in records:
        if record.declaration is not None:
            by_uuid.setdefault(record.declaration.asset_uuid, []).append(record)
    result = []
    for record in records:
        twins = by_uuid.get(record.declaration.asset_uuid, []) if record.declaration else []
        if len(twins) > 1:
            extra = uuid_collision(record, [t.root for t in twins if t.root != record.root])
            result.append(
                record.model_copy(update={"diagnostics": (*record.diagnostics, extra)})
            )
        else:
            result.append(record)
    return result


def _flag_name_collisions(records: list[AssetRecord]) -> list[AssetRecord]:
    """PK116 on each asset the build includes whose name another one it includes also has: the
    artifact would hold two entries that game code cannot tell apart."""
    by_name: dict[str, list[AssetRecord]] = {}
    for record in records:
        if record.included_in_build and record.declaration is not None:
            by_name.setdefault(record.declaration.name, []).append(record)
    clashes = {name: group for name, group in by_name.items() if len(group) > 1}
    if not clashes:
        return records
    result = []
    for record in records:
        name = record.declaration.name if record.declaration is not None else None
        group = clashes.get(name, []) if record.included_in_build and name is not None else []
        if not group:
            result.append(record)
            continue
        extra = name_collision(record, [t.label() for t in group if t.root != record.root])
        result.append(record.model_copy(update={"diagnostics": (*record.diagnostics, extra)}))
    return result


def _changes(old: AssetRecord, new: AssetRecord) -> list[str]:
    changes = []
    if old.state != new.state:
        changes.append(f"state {old.state.value} → {new.state.value}")
    if old.name != new.name:
        changes.append(f"name {old.name} → {new.name}")
    if old.asset_id != new.asset_id:
        changes.append(f"asset_id {old.asset_id} → {new.asset_id}")
    if old.included_in_build != new.included_in_build:
        changes.append("included in build" if new.included_in_build else "excluded from build")
    if old.declaration != new.declaration:
        changes.append("asset.json changed")
    if old.files != new.files:
        added = len(set(new.files) - set(old.files))
        removed = len(set(old.files) - set(new.files))
        changes.append(f"files +{added} −{removed}")
    if [d.code for d in old.diagnostics] != [d.code for d in new.diagnostics]:
        changes.append("diagnostics changed")
    return changes


def iter_scan_events(
    op: Operation, snapshot: WorkspaceSnapshot, previous: WorkspaceSnapshot | None
) -> Iterator[None]:
    """Publish discovery/change events; yields after each asset so callers can check cancel."""
    total = len(snapshot.assets)
    for index, record in enumerate(snapshot.assets, start=1):
        old = (previous.by_identity(record.asset_id, record.root) if previous is not None
               else None)
        if old is None:
            op.emit(
                EventKind.ASSET_DISCOVERED,
                f"Found {record.state.value} asset {record.label()} at {record.root}",
                detail=AssetDiscoveredDetail(state=record.state.value,
                                             asset_type=record.asset_type),
                affected=(record.affected(),),
            )
        else:
            changes = _changes(old, record)
            if old.root != record.root:
                changes.insert(0, f"moved {old.root} → {record.root}")
            if changes:
                op.emit(
                    EventKind.ASSET_CHANGED,
                    f"{record.label()} changed: {'; '.join(changes)}",
                    detail=AssetChangedDetail(changes=tuple(changes),
                                              previous_state=old.state.value,
                                              state=record.state.value),
                    affected=(record.affected(),),
                )
        op.progress(index, total, phase="scan")
        yield
    if previous is not None:
        for old in previous.assets:
            if snapshot.by_identity(old.asset_id, old.root) is None:
                op.emit(
                    EventKind.ASSET_CHANGED,
                    f"{old.label()} is gone from {old.root}",
                    detail=AssetChangedDetail(changes=("removed",),
                                              previous_state=old.state.value, state=None),
                    affected=(old.affected(),),
                )


def diagnostics_detail(
    diagnostics: list[Diagnostic], *, assets_checked: int | None = None
) -> DiagnosticsUpdatedDetail:
    errors, warnings, infos = count_by_severity(diagnostics)
    return DiagnosticsUpdatedDetail(
        errors=errors, warnings=warnings, infos=infos,
        diagnostics=tuple(d.summary() for d in diagnostics[:200]),
        assets_checked=assets_checked,
    )


def scan_workspace(
    project: Project,
    sink: EventSink | None = None,
    token: CancellationToken | None = None,
    *,
    previous: WorkspaceSnapshot | None = None,
) -> WorkspaceSnapshot:
    """Scan and publish: `asset_discovered` for assets new to `previous` (all of them when it is
    None), `asset_changed` for what differs, progress, then a terminal `diagnostics_updated`."""
    op = Operation(sink or NullSink(), project_id=project.project_id, operation="scan", token=token)
    with op:
        op.progress(0, None, phase="walk", summary="Scanning assets/…")
        snapshot = build_snapshot(project, op.token)
        for _ in iter_scan_events(op, snapshot, previous):
            op.check_cancelled()
        found = snapshot.all_diagnostics()
        errors, warnings, _infos = count_by_severity(found)
        op.finish(
            EventKind.DIAGNOSTICS_UPDATED,
            Outcome.SUCCEEDED,
            f"Scan found {plural(len(snapshot.assets), 'asset')}: {counts_text(errors, warnings)}",
            detail=diagnostics_detail(found, assets_checked=len(snapshot.assets)),
            affected=[r.affected() for r in snapshot.assets if r.diagnostics],
        )
    return snapshot
