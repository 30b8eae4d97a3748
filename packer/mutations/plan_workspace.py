"""Planners for the workspace mutations that move or delete a root: remove, quarantine,
restore, relocate. All of them need consent; identity (asset_id, asset_uuid) never changes."""

from __future__ import annotations

from packer.files.declaration import DECLARATION_FILE
from packer.files.registry import RegistryEntry
from packer.files.steps import MakeDirStep, MoveStep
from packer.mutations.model import (
    DiskChange,
    DiskChangeKind,
    MutationAction,
    MutationRequest,
    SafeFix,
)
from packer.mutations.planning import (
    QUARANTINE_REL,
    TRASH_REL,
    Plan,
    World,
    check_destination,
    ensure_packer_folder,
    nested_roots,
    normalise_root,
    start_plan,
)
from packer.workspace.scan import AssetState


def _replace_entry(world: World, plan: Plan, updated: RegistryEntry) -> None:
    assert world.registry is not None
    plan.registry_after = world.registry.model_copy(update={
        "assets": tuple(updated if e.asset_id == updated.asset_id else e
                        for e in world.registry.assets),
    })


def _block_nested(world: World, plan: Plan, root: str, verb: str) -> bool:
    inner = nested_roots(world, root)
    if inner:
        plan.block(f"{root} contains another asset root ({', '.join(inner)}); it would be "
                   f"{verb} too", fix="move the inner asset out first")
    return bool(inner)


def _move(world: World, plan: Plan, source: str, dest: str) -> None:
    plan.steps.append(MoveStep(src=source, dst=dest))
    plan.disk_changes.append(DiskChange(kind=DiskChangeKind.MOVE, path=source, destination=dest,
                                        files=world.files_under(source)))
    plan.trees.append(source)


def plan_remove(world: World, request: MutationRequest) -> Plan:
    """remove: delete the root and every file under it, and drop the registry entry if any.

    The root first moves to `.prometeu/trash/<operation>/` and is deleted only after the
    registry is committed, so a failure before that point puts it back untouched.
    """
    plan, target = start_plan(world, request, consent_required=True)
    if target is None or world.registry is None:
        return plan
    entry = target.entry
    root = entry.root if entry else target.identity.root
    if _block_nested(world, plan, root, "deleted"):
        return plan
    if world.exists(root):
        trash = f"{TRASH_REL}/{world.operation_id}"
        ensure_packer_folder(world, plan, TRASH_REL)
        plan.steps.append(MakeDirStep(path=trash))
        plan.steps.append(MoveStep(src=root, dst=f"{trash}/root"))
        plan.cleanup.append(trash)
        plan.disk_changes.append(DiskChange(kind=DiskChangeKind.DELETE, path=root,
                                            files=world.files_under(root)))
        plan.trees.append(root)
        plan.warn("the files are deleted for good (there is no recycle bin)")
    else:
        plan.warn(f"{root} is already gone from the disk; only the registry entry is dropped")
    if entry is not None:
        plan.registry_after = world.registry.model_copy(update={
            "assets": tuple(e for e in world.registry.assets if e.asset_id != entry.asset_id),
        })
        plan.warn(f"asset_id {entry.asset_id} is retired: no other asset will ever get it")
        if not entry.quarantined and world.exists(root):
            plan.safe_fixes.append(SafeFix(
                description="quarantine it instead (reversible, keeps its asset_id)",
                request=MutationRequest(action=MutationAction.QUARANTINE, asset=entry.asset_id),
            ))
    plan.after = None
    plan.asset_changes = ["removed: its files were deleted"]
    return plan


def plan_quarantine(world: World, request: MutationRequest) -> Plan:
    """quarantine: move the root to `.prometeu/quarantine/<asset_uuid>/`, out of the build."""
    plan, target = start_plan(world, request, consent_required=True)
    if target is None or world.registry is None:
        return plan
    entry = target.entry
    if entry is None:
        plan.block(f"{target.identity.label()} is not registered; only registered assets can be "
                   "quarantined", fix="register it first, or move the folder yourself")
        return plan
    if entry.quarantined:
        plan.block(f"#{entry.asset_id} is already quarantined at {entry.root}")
        return plan
    if target.record is None or target.record.state is AssetState.MISSING or not world.is_dir(
        entry.root
    ):
        plan.block(f"#{entry.asset_id} has no folder at {entry.root} to quarantine",
                   fix="relocate it to where it now lives, or forget it")
        return plan
    if _block_nested(world, plan, entry.root, "quarantined"):
        return plan
    dest = f"{QUARANTINE_REL}/{entry.asset_uuid}"
    if world.exists(dest):
        plan.block(f"{dest} already exists (a stale quarantine of the same asset_uuid)",
                   fix=f"delete or move assets/{dest} by hand, then try again")
        return plan
    plan.trees.append(dest)
    if not world.exists(QUARANTINE_REL):
        plan.steps.append(MakeDirStep(path=QUARANTINE_REL))
        plan.disk_changes.append(DiskChange(kind=DiskChangeKind.CREATE, path=QUARANTINE_REL))
    _move(world, plan, entry.root, dest)
    _replace_entry(world, plan, entry.model_copy(update={
        "root": dest, "quarantined": True, "quarantined_from": entry.root,
    }))
    if entry.included_in_build:
        plan.warn("it leaves the build until it is restored")
    plan.after = target.identity.model_copy(update={"root": dest})
    plan.asset_changes = [f"quarantined: moved {entry.root} → {dest}"]
    return plan


def plan_restore(world: World, request: MutationRequest) -> Plan:
    """restore: move a quarantined root back (to where it came from, or to `to`)."""
    plan, target = start_plan(world, request, consent_required=True)
    if target is None or world.registry is None:
        return plan
    entry = target.entry
    if entry is None or not entry.quarantined:
        plan.block(f"{target.identity.label()} is not quarantined: there is nothing to restore")
        return plan
    if not world.is_dir(entry.root):
        plan.block(f"the quarantined files of #{entry.asset_id} are gone from {entry.root}",
                   fix="forget the asset")
        return plan
    wanted = request.to or entry.quarantined_from
    if wanted is None:
        plan.block("the registry does not say where this asset came from",
                   fix="restore it with a destination (`--to ROOT`)")
        return plan
    dest = check_destination(world, plan, entry.root, wanted)
    if dest is None:
        return plan
    _move(world, plan, entry.root, dest)
    _replace_entry(world, plan, entry.model_copy(update={
        "root": dest, "quarantined": False, "quarantined_from": None,
    }))
    if entry.included_in_build:
        plan.warn("it rejoins the build")
    plan.after = target.identity.model_copy(update={"root": dest})
    plan.asset_changes = [f"restored: moved {entry.root} → {dest}"]
    return plan


def plan_relocate(world: World, request: MutationRequest) -> Plan:
    """relocate: move or rename the root; asset_id and asset_uuid stay.

    A registered asset whose folder is missing and whose asset.json (same asset_uuid) already
    sits at the destination is relocated in the registry only (the user moved it by hand).
    """
    assert request.to is not None
    plan, target = start_plan(world, request, consent_required=True)
    if target is None or world.registry is None:
        return plan
    entry, record = target.entry, target.record
    if entry is not None and entry.quarantined:
        plan.block(f"#{entry.asset_id} is quarantined", fix="restore it to the new place instead")
        plan.safe_fixes.append(SafeFix(
            description=f"restore it to {request.to}",
            request=MutationRequest(action=MutationAction.RESTORE, asset=entry.asset_id,
                                    to=request.to),
        ))
        return plan
    source = entry.root if entry else target.identity.root
    if entry is not None and not world.is_dir(source):
        _adopt_manual_move(world, plan, entry, request.to)
        return plan
    if _block_nested(world, plan, source, "moved"):
        return plan
    dest = check_destination(world, plan, source, request.to)
    if dest is None:
        return plan
    _move(world, plan, source, dest)
    if entry is not None:
        _replace_entry(world, plan, entry.model_copy(update={"root": dest}))
    elif record is not None and record.state is AssetState.UNREGISTERED:
        plan.warn("it is not registered: only its folder moves")
    plan.after = target.identity.model_copy(update={"root": dest})
    plan.asset_changes = [f"moved {source} → {dest}"]
    return plan


def _adopt_manual_move(world: World, plan: Plan, entry: RegistryEntry, dest_text: str) -> None:
    dest = normalise_root(dest_text)
    found = world.snapshot.by_root(dest)
    if found is None or found.declaration is None:
        plan.block(f"#{entry.asset_id}'s folder {entry.root} does not exist, and {dest} holds no "
                   f"readable {DECLARATION_FILE}",
                   fix="point --to at the folder the asset was moved to, or forget it")
        return
    if found.declaration.asset_uuid != entry.asset_uuid:
        plan.block(f"{dest}/{DECLARATION_FILE} has asset_uuid {found.declaration.asset_uuid}, "
                   f"not #{entry.asset_id}'s {entry.asset_uuid}")
        return
    if found.registered:
        plan.block(f"{dest} is already registered as #{found.asset_id}")
        return
    plan.consent_required = False  # nothing moves: the registry catches up with the disk
    plan.files.append(f"{dest}/{DECLARATION_FILE}")
    _replace_entry(world, plan, entry.model_copy(update={"root": dest}))
    plan.warn(f"{entry.root} is missing and {dest} holds the same asset: only the registry "
              "changes")
    plan.after = plan.target.model_copy(update={"root": dest, "name": found.name})
    plan.asset_changes = [f"moved {entry.root} → {dest} (registry only: the folder had moved)"]
