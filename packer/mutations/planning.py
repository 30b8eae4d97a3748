"""What every planner shares: the world it plans against, the plan it returns, target lookup and
destination checks. A planner never touches the disk; it reads a snapshot and the registry."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from packer.diagnostics import Diagnostic
from packer.files.atomic import pretty_json_bytes
from packer.files.declaration import DECLARATION_FILE
from packer.files.paths import UnsafePathError, check_relative
from packer.files.project import PACKER_DIR, Project
from packer.files.registry import Registry, RegistryEntry
from packer.files.steps import MakeDirStep, Step, WriteFileStep
from packer.lane.cancellation import CancellationToken
from packer.mutations.model import (
    AssetIdentity,
    DiskChange,
    DiskChangeKind,
    MutationAction,
    MutationPreview,
    MutationRequest,
    NewAssetProposal,
    Note,
    OperationClass,
    RegistryChange,
    SafeFix,
    WorldFingerprint,
)
from packer.workspace.scan import AssetRecord, WorkspaceSnapshot

REGISTRY_REL = f"{PACKER_DIR}/index.json"
_CHANGES_FILES = frozenset({
    MutationAction.REMOVE, MutationAction.QUARANTINE, MutationAction.RESTORE,
    MutationAction.RELOCATE, MutationAction.RENAME, MutationAction.NEW,
})
QUARANTINE_REL = f"{PACKER_DIR}/quarantine"
TRASH_REL = f"{PACKER_DIR}/trash"


@dataclass(frozen=True)
class World:
    project: Project
    snapshot: WorkspaceSnapshot
    operation_id: str  # names the apply's private folders (trash); not part of the preview
    preview_id: str = ""  # the preview's operation id: the same when an apply re-plans it
    token: CancellationToken | None = None  # for planners that read files (new)

    @property
    def registry(self) -> Registry | None:
        return self.snapshot.registry

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self.project.assets_dir.joinpath(*rel.split("/")))

    def is_dir(self, rel: str) -> bool:
        return self.project.assets_dir.joinpath(*rel.split("/")).is_dir()

    def files_under(self, rel: str) -> tuple[str, ...]:
        """Every file under a folder, relative to it, sorted (symlinks are not followed)."""
        base = self.project.assets_dir.joinpath(*rel.split("/"))
        found: list[str] = []
        for folder, dirs, files in os.walk(base, followlinks=False):
            dirs.sort()
            prefix = os.path.relpath(folder, base)
            for name in files:
                found.append(name if prefix == "." else f"{prefix}/{name}".replace(os.sep, "/"))
        return tuple(sorted(found))


@dataclass
class Plan:
    action: MutationAction
    target: AssetIdentity
    after: AssetIdentity | None = None  # the target once applied (None: it is gone)
    registry_after: Registry | None = None  # None: the registry does not change
    disk_changes: list[DiskChange] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)  # disk steps; the registry write is added
    cleanup: list[str] = field(default_factory=list)
    blockers: list[Note] = field(default_factory=list)
    warnings: list[Note] = field(default_factory=list)
    safe_fixes: list[SafeFix] = field(default_factory=list)
    consent_required: bool = False
    asset_changes: list[str] = field(default_factory=list)  # what happens to the asset, for events
    trees: list[str] = field(default_factory=list)  # fingerprint inputs
    files: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # absolute folders outside the project
    proposal: NewAssetProposal | None = None  # new only

    def block(self, message: str, *, fix: str | None = None, code: str | None = None) -> None:
        self.blockers.append(Note(message=message, fix=fix, code=code))

    def warn(self, message: str, *, fix: str | None = None, code: str | None = None) -> None:
        self.warnings.append(Note(message=message, fix=fix, code=code))

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)

    def all_steps(self, world: World) -> tuple[Step, ...]:
        """The disk steps, then the registry write: the registry is the commit point's last
        change, so until it is written the registry still describes the old world."""
        steps = list(self.steps)
        if self.registry_after is not None and world.registry is not None:
            steps.append(WriteFileStep(path=REGISTRY_REL, content=registry_bytes(
                self.registry_after
            )))
        return tuple(steps)


def registry_bytes(registry: Registry) -> bytes:
    """Exactly what packer.files.registry.save_registry writes."""
    return pretty_json_bytes(registry.sorted().model_dump(mode="json"))


def registry_changes(before: Registry | None, after: Registry | None) -> list[RegistryChange]:
    if before is None or after is None:
        return []
    old = {e.asset_id: e for e in before.assets}
    new = {e.asset_id: e for e in after.assets}
    return [
        RegistryChange(asset_id=i, before=old.get(i), after=new.get(i))
        for i in sorted(set(old) | set(new))
        if old.get(i) != new.get(i)
    ]


def to_preview(
    plan: Plan, world: World, request: MutationRequest, *, preview_id: str,
    fingerprint: WorldFingerprint,
) -> MutationPreview:
    changes = registry_changes(world.registry, plan.registry_after)
    moves = any(c.kind is not DiskChangeKind.CREATE for c in plan.disk_changes)
    if plan.blocked and not plan.disk_changes:
        # Nothing was planned, so say what the action is, not "registry only" with consent.
        moves = plan.action in _CHANGES_FILES
    before_next = world.registry.next_asset_id if world.registry else None
    after_next = plan.registry_after.next_asset_id if plan.registry_after else before_next
    return MutationPreview(
        preview_id=preview_id, request=request, action=plan.action,
        operation_class=(
            OperationClass.WORKSPACE_MUTATION if moves else OperationClass.REGISTRY_MUTATION
        ),
        target=plan.target, registry_changes=tuple(changes),
        next_asset_id_before=before_next, next_asset_id_after=after_next,
        disk_changes=tuple(plan.disk_changes), blockers=tuple(plan.blockers),
        warnings=tuple(plan.warnings), safe_fixes=tuple(plan.safe_fixes),
        consent_required=plan.consent_required, fingerprint=fingerprint,
        proposal=plan.proposal,
    )


# ---- finding the target ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    identity: AssetIdentity
    record: AssetRecord | None
    entry: RegistryEntry | None


def identity_of(
    record: AssetRecord | None, entry: RegistryEntry | None, root: str
) -> AssetIdentity:
    return AssetIdentity(
        asset_id=entry.asset_id if entry else None,
        asset_uuid=(record.asset_uuid if record and record.asset_uuid else None)
        or (entry.asset_uuid if entry else None),
        root=entry.root if entry else root,
        name=record.name if record else None,
    )


def normalise_root(text: str) -> str:
    """`./a/b/` → `a/b`; an absolute path stays absolute so that check_relative refuses it."""
    return text.strip().rstrip("/").removeprefix("./") or "."


def start_plan(
    world: World, request: MutationRequest, *, consent_required: bool = False
) -> tuple[Plan, Target | None]:
    """Every planner's first step: an empty plan naming the asset, and the asset found (or None,
    with a blocker on the plan)."""
    plan = Plan(action=request.action, target=AssetIdentity(root=str(request.asset)),
                consent_required=consent_required)
    target = find_target(world, plan, request.asset)
    if target is not None:
        plan.target = target.identity
    return plan, target


def registry_readable(world: World, plan: Plan) -> bool:
    """False (with the registry's problems as blockers) when the registry cannot be read."""
    if world.registry is not None:
        return True
    for problem in world.snapshot.diagnostics:
        if problem.code in {"PK002", "PK003", "PK004"}:
            plan.block(problem.message, fix=problem.fix, code=problem.code)
    if not plan.blockers:
        plan.block("the registry cannot be read", fix="run `prometeu-packer doctor PROJECT`")
    return False


def find_target(world: World, plan: Plan, asset: int | str) -> Target | None:
    """The asset named by id or by root; None (with a blocker on the plan) when there is none."""
    registry = world.registry
    if not registry_readable(world, plan) or registry is None:
        return None
    if isinstance(asset, int):
        entry = registry.by_id(asset)
        if entry is None:
            retired = " (that id was retired: ids are never reused)" if (
                asset < registry.next_asset_id
            ) else ""
            plan.block(f"no registered asset has asset_id {asset}{retired}",
                       fix="run `prometeu-packer list PROJECT` to see the asset ids")
            return None
        record = world.snapshot.by_id(asset)
        return Target(identity_of(record, entry, entry.root), record, entry)
    root = normalise_root(asset)
    try:
        check_relative(root)
    except UnsafePathError as exc:
        plan.block(f"{asset!r} is not a root inside assets/: {exc}")
        return None
    entries = registry.by_root(root) or [
        e for e in registry.assets if e.quarantined and e.quarantined_from == root
    ]
    entry = entries[0] if entries else None
    record = world.snapshot.by_root(entry.root if entry else root)
    if entry is None and record is None:
        if world.is_dir(root):
            plan.block(f"{root} has no {DECLARATION_FILE}; it is not an asset root",
                       fix=f"create {root}/{DECLARATION_FILE} first")
        else:
            plan.block(f"there is no asset at {root}")
        return None
    return Target(identity_of(record, entry, root), record, entry)


def nested_roots(world: World, root: str) -> list[str]:
    """Other asset roots (on disk or in the registry) that lie inside `root`."""
    prefix = f"{root}/"
    inner = {r.root for r in world.snapshot.assets if r.root.startswith(prefix)}
    if world.registry:
        inner.update(e.root for e in world.registry.assets if e.root.startswith(prefix))
    return sorted(inner)


def structural_notes(record: AssetRecord) -> list[Diagnostic]:
    return [d for d in record.diagnostics if d.blocking]


# ---- destinations ------------------------------------------------------------------------


def check_destination(world: World, plan: Plan, source: str | None, dest_text: str) -> str | None:
    """Check a new root for `source`; add MakeDir steps for missing parents. None if blocked."""
    dest = normalise_root(dest_text)
    try:
        check_relative(dest)
    except UnsafePathError as exc:
        plan.block(f"{dest_text!r} is not a path inside assets/: {exc}")
        return None
    if dest == "." or dest.split("/")[0] == PACKER_DIR:
        plan.block(f"{dest} is not a place for an asset root (assets/ itself or the packer's "
                   f"{PACKER_DIR} folder)")
        return None
    if source is not None and dest == source:
        plan.block(f"the asset is already at {dest}")
        return None
    if source is not None and dest.startswith(f"{source}/"):
        plan.block(f"{dest} lies inside the asset's own root {source}")
        return None
    if world.exists(dest):
        plan.block(f"{dest} already exists", fix="choose a destination that does not exist yet")
        return None
    roots = {r.root for r in world.snapshot.assets if r.root != source}
    if world.registry:
        roots.update(e.root for e in world.registry.assets if e.root != source)
    if dest in roots:
        plan.block(f"{dest} is the root of another registered asset (its folder is missing)",
                   fix="choose another destination, or forget that asset first")
        return None
    inner = sorted(r for r in roots if r.startswith(f"{dest}/"))
    if inner:
        plan.block(f"{dest} would contain the asset root {inner[0]}")
        return None
    parts = dest.split("/")
    for i in range(1, len(parts)):
        parent = "/".join(parts[:i])
        if parent in roots:
            plan.block(f"{dest} would lie inside the asset root {parent}",
                       fix="one root holds exactly one asset; choose a folder outside it")
            return None
    missing: list[str] = []
    for i in range(1, len(parts)):
        parent = "/".join(parts[:i])
        if not world.exists(parent):
            missing.append(parent)
        elif not world.is_dir(parent):
            plan.block(f"{parent} is a file, so {dest} cannot be created under it")
            return None
    for folder in missing:
        plan.steps.append(MakeDirStep(path=folder))
        plan.disk_changes.append(DiskChange(kind=DiskChangeKind.CREATE, path=folder))
    plan.trees.append(dest)
    return dest


def ensure_packer_folder(world: World, plan: Plan, rel: str) -> None:
    """A MakeDir step for a folder under .prometeu/ that does not exist yet."""
    if not world.exists(rel):
        plan.steps.append(MakeDirStep(path=rel))
