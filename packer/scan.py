"""Scan: walk `assets/`, find asset roots, reconcile them with the registry.

The scan reads only what it must: directory entries, each `asset.json`, and `stat` of each input.
It never opens an input file (and never follows an input that escapes its root).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from packer.cancellation import CancellationToken
from packer.declaration import DECLARATION_FILE, AssetDeclaration, parse_declaration
from packer.diagnostics import Diagnostic, count_by_severity, diagnostic
from packer.errors import RegistryError, WorkspaceNotInitialisedError
from packer.events import (
    AffectedAsset,
    AssetChangedDetail,
    AssetDiscoveredDetail,
    DiagnosticsUpdatedDetail,
    EventKind,
    Outcome,
)
from packer.lock import read_lock
from packer.operation import Operation
from packer.paths import InsideRoot, UnsafePathError
from packer.project import PACKER_DIR, Project
from packer.registry import Registry, RegistryEntry
from packer.sinks import EventSink, NullSink


class AssetState(StrEnum):
    REGISTERED = "registered"
    UNREGISTERED = "unregistered"
    MISSING = "missing"  # registered, but the root or its asset.json is gone
    QUARANTINED = "quarantined"


class AssetRecord(BaseModel):
    """One asset as the scan sees it: identity, state, declaration and structural findings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    root: str  # POSIX, relative to assets/
    state: AssetState
    asset_id: int | None = None
    asset_uuid: str | None = None
    included_in_build: bool = False
    declaration: AssetDeclaration | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    files: tuple[str, ...] = ()  # every file under the root, relative to it, sorted
    anchor_fingerprint: tuple[int, int] | None = None  # (size, mtime_ns) of asset.json
    # (size, mtime_ns, ctime_ns) of each input in `declaration.all_inputs()` order, as
    # `check_inputs` saw them; empty unless every input checked out (the build's cache hints,
    # without a second stat)
    input_stats: tuple[tuple[int, int, int], ...] = ()

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


class WorkspaceSnapshot(BaseModel):
    """The whole workspace at one moment. Assets sorted: registered by id, then others by root."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str
    registry: Registry | None
    assets: tuple[AssetRecord, ...]
    diagnostics: tuple[Diagnostic, ...] = ()  # workspace-level (registry, unreadable entries)

    def by_root(self, root: str) -> AssetRecord | None:
        return next((a for a in self.assets if a.root == root), None)

    def by_id(self, asset_id: int) -> AssetRecord | None:
        return next((a for a in self.assets if a.asset_id == asset_id), None)

    def all_diagnostics(self) -> list[Diagnostic]:
        found = list(self.diagnostics)
        for record in self.assets:
            found.extend(record.diagnostics)
        return found


@dataclass
class _Walk:
    """What one walk of `assets/` found."""

    anchors: list[str] = field(default_factory=list)  # roots (relative) holding asset.json
    files_by_dir: dict[str, list[str]] = field(default_factory=dict)  # dir -> file names
    dir_order: list[str] = field(default_factory=list)  # pre-order: a subtree is contiguous
    dir_index: dict[str, int] = field(default_factory=dict)  # dir -> position in dir_order
    problems: list[Diagnostic] = field(default_factory=list)


def _walk_assets(assets_dir: Path, token: CancellationToken) -> _Walk:
    walk = _Walk()
    seen: set[tuple[int, int]] = set()

    def visit(directory: str, rel: str) -> None:
        token.raise_if_cancelled()
        try:
            st = os.stat(directory)
        except OSError as exc:
            walk.problems.append(diagnostic(
                "PK207", f"cannot read folder {rel or '.'}: {exc.strerror or exc}", root=rel or None
            ))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen:
            walk.problems.append(diagnostic(
                "PK207", f"folder {rel} is a symlink loop (or a second link to one folder); "
                "it was not scanned twice", root=rel,
            ))
            return
        seen.add(key)
        try:
            with os.scandir(directory) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            walk.problems.append(diagnostic(
                "PK207", f"cannot list folder {rel or '.'}: {exc.strerror or exc}",
                root=rel or None,
            ))
            return
        names: list[str] = []
        subdirs: list[tuple[str, str]] = []
        for entry in listed:
            name = entry.name
            child_rel = f"{rel}/{name}" if rel else name
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                walk.problems.append(diagnostic(
                    "PK207", f"{rel or '.'}/{shown}: the name is not valid UTF-8 and was skipped",
                    root=rel or None,
                ))
                continue
            if not rel and name == PACKER_DIR:
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False
            if is_dir:
                subdirs.append((entry.path, child_rel))
            else:
                names.append(name)
        walk.files_by_dir[rel] = names
        walk.dir_index[rel] = len(walk.dir_order)
        walk.dir_order.append(rel)
        if DECLARATION_FILE in names:
            walk.anchors.append(rel)
        for path, child_rel in subdirs:
            visit(path, child_rel)

    if assets_dir.is_dir():
        visit(str(assets_dir), "")
    return walk


def _files_under(walk: _Walk, root: str) -> list[str]:
    # The walk is pre-order over sorted names, so the root's subfolders follow it contiguously:
    # scanning just that run keeps this linear in the subtree, not in the whole workspace.
    prefix = f"{root}/" if root else ""
    start = walk.dir_index.get(root)
    if start is None:
        return []
    found: list[str] = list(walk.files_by_dir[root])
    for directory in islice(walk.dir_order, start + 1, None):
        if not directory.startswith(prefix):
            break
        sub = directory[len(prefix):]
        found.extend(f"{sub}/{n}" for n in walk.files_by_dir[directory])
    return sorted(found)


def check_inputs(
    decl: AssetDeclaration, root_path: Path, *, root: str, asset_id: int | None
) -> list[Diagnostic]:
    """Every input must stay inside the root, exist, be a regular file and be readable."""
    return _check_inputs(decl, InsideRoot(root_path), root=root, asset_id=asset_id)[0]


def _check_inputs(
    decl: AssetDeclaration, inside: InsideRoot, *, root: str, asset_id: int | None
) -> tuple[list[Diagnostic], list[tuple[int, int, int]]]:
    """check_inputs, also returning (size, mtime_ns, ctime_ns) of each input that checked out."""
    found: list[Diagnostic] = []
    stats: list[tuple[int, int, int]] = []
    for role, path in decl.all_inputs():
        try:
            target = inside.resolve_str(path)
        except UnsafePathError as exc:
            found.append(diagnostic(
                "PK107", f"{root}: input {role} {exc}", root=root, file=path, asset_id=asset_id
            ))
            continue
        try:
            st = os.stat(target)
        except FileNotFoundError:
            found.append(diagnostic(
                "PK106", f"{root}: input {role} {path!r} does not exist",
                root=root, file=path, asset_id=asset_id,
            ))
            continue
        except OSError as exc:
            found.append(diagnostic(
                "PK112", f"{root}: input {path!r} cannot be read: {exc.strerror or exc}",
                root=root, file=path, asset_id=asset_id,
            ))
            continue
        if not stat.S_ISREG(st.st_mode):
            found.append(diagnostic(
                "PK114", f"{root}: input {path!r} is not a regular file",
                root=root, file=path, asset_id=asset_id,
            ))
        elif not os.access(target, os.R_OK):
            found.append(diagnostic(
                "PK112", f"{root}: input {path!r} is not readable (permission denied)",
                root=root, file=path, asset_id=asset_id,
            ))
        else:
            stats.append((st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return found, stats


@dataclass(frozen=True, slots=True)
class _Anchor:
    decl: AssetDeclaration | None
    diagnostics: list[Diagnostic]
    fingerprint: tuple[int, int] | None = None
    input_stats: tuple[tuple[int, int, int], ...] = ()


_NO_ANCHOR = _Anchor(None, [])


def _read_anchor(assets_dir: Path, real_assets: str, root: str, asset_id: int | None) -> _Anchor:
    anchor = assets_dir.joinpath(root, DECLARATION_FILE)
    try:
        st = anchor.stat()
        raw = anchor.read_bytes()
    except OSError as exc:
        return _Anchor(None, [diagnostic(
            "PK115", f"{root}/asset.json cannot be read: {exc.strerror or exc}",
            root=root, file=DECLARATION_FILE, asset_id=asset_id,
        )])
    decl, found = parse_declaration(raw, root=root, asset_id=asset_id)
    stats: list[tuple[int, int, int]] = []
    if decl is not None:
        inside = InsideRoot.below(real_assets, root)
        problems, stats = _check_inputs(decl, inside, root=root, asset_id=asset_id)
        found.extend(problems)
        if problems:
            stats = []
    return _Anchor(decl, found, (st.st_size, st.st_mtime_ns), tuple(stats))


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


def build_snapshot(project: Project, token: CancellationToken | None = None) -> WorkspaceSnapshot:
    """Scan without events: walk, read anchors, reconcile with the registry.

    Holds the project's shared lock (packer.lock) so a mutation is never seen half applied.
    """
    return build_snapshot_and_walk(project, token)[0]


def build_snapshot_and_walk(
    project: Project, token: CancellationToken | None = None
) -> tuple[WorkspaceSnapshot, WalkSummary]:
    """`build_snapshot`, also saying which folders and anchors the walk found."""
    with read_lock(project):
        return _build_snapshot(project, token or CancellationToken())


def _build_snapshot(
    project: Project, token: CancellationToken
) -> tuple[WorkspaceSnapshot, WalkSummary]:
    registry, workspace_diags = _load_registry(project)
    assets_dir = project.assets_dir
    walk = _walk_assets(assets_dir, token)
    workspace_diags.extend(walk.problems)
    anchors = set(walk.anchors)
    entries: list[RegistryEntry] = list(registry.assets) if registry else []
    entries_by_root: dict[str, list[RegistryEntry]] = {}
    for registered in entries:
        entries_by_root.setdefault(registered.root, []).append(registered)

    records: list[AssetRecord] = []
    real_assets = os.path.realpath(assets_dir)  # once: each root then costs an lstat or two
    for root in sorted(anchors | set(entries_by_root)):
        token.raise_if_cancelled()
        owned = entries_by_root.get(root, [])
        entry = owned[0] if owned else None
        asset_id = entry.asset_id if entry else None
        diags: list[Diagnostic] = []
        read = _NO_ANCHOR
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
                read = _read_anchor(assets_dir, real_assets, root, asset_id)
                diags.extend(d for d in read.diagnostics
                             if d.code not in {"PK106", "PK112", "PK114"})
        elif root in anchors:
            state = AssetState.REGISTERED if entry else AssetState.UNREGISTERED
            read = _read_anchor(assets_dir, real_assets, root, asset_id)
            diags.extend(read.diagnostics)
            files = _files_under(walk, root)
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
        records.append(AssetRecord.model_construct(
            root=root, state=state, asset_id=asset_id,
            asset_uuid=decl.asset_uuid if decl else (entry.asset_uuid if entry else None),
            included_in_build=bool(entry and entry.included_in_build and not entry.quarantined),
            declaration=decl, diagnostics=tuple(diags), files=tuple(files),
            anchor_fingerprint=read.fingerprint, input_stats=read.input_stats,
        ))

    records = _flag_uuid_collisions(records)
    records.sort(key=lambda r: (r.asset_id is None, r.asset_id or 0, r.root))
    project_id = registry.project_id if registry else project.project_id
    snapshot = WorkspaceSnapshot(
        project_id=project_id, registry=registry, assets=tuple(records),
        diagnostics=tuple(workspace_diags),
    )
    return snapshot, WalkSummary(tuple(walk.dir_order), tuple(walk.anchors))


def _flag_uuid_collisions(records: list[AssetRecord]) -> list[AssetRecord]:
    by_uuid: dict[str, list[AssetRecord]] = {}
    for record in records:
        if record.declaration is not None:
            by_uuid.setdefault(record.declaration.asset_uuid, []).append(record)
    result = []
    for record in records:
        twins = by_uuid.get(record.declaration.asset_uuid, []) if record.declaration else []
        if len(twins) > 1:
            others = ", ".join(t.root for t in twins if t.root != record.root)
            extra = diagnostic(
                "PK109",
                f"{record.root} shares asset_uuid {record.asset_uuid} with {others}",
                root=record.root, asset_id=record.asset_id, file=DECLARATION_FILE,
                auto_fixable=not record.registered,
            )
            result.append(
                record.model_copy(update={"diagnostics": (*record.diagnostics, extra)})
            )
        else:
            result.append(record)
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


def _record_for_identity(snapshot: WorkspaceSnapshot, record: AssetRecord) -> AssetRecord | None:
    if record.asset_id is not None:
        found = snapshot.by_id(record.asset_id)
        if found is not None:
            return found
    return snapshot.by_root(record.root)


def iter_scan_events(
    op: Operation, snapshot: WorkspaceSnapshot, previous: WorkspaceSnapshot | None
) -> Iterator[None]:
    """Publish discovery/change events; yields after each asset so callers can check cancel."""
    total = len(snapshot.assets)
    for index, record in enumerate(snapshot.assets, start=1):
        old = _record_for_identity(previous, record) if previous is not None else None
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
            if _record_for_identity(snapshot, old) is None:
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
        counts = count_by_severity(found)
        op.finish(
            EventKind.DIAGNOSTICS_UPDATED,
            Outcome.SUCCEEDED,
            f"Scan found {len(snapshot.assets)} assets: {counts[0]} errors, {counts[1]} warnings",
            detail=diagnostics_detail(found, assets_checked=len(snapshot.assets)),
            affected=[r.affected() for r in snapshot.assets if r.diagnostics],
        )
    return snapshot
