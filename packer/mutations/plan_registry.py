"""Planners for the registry mutations: register/adopt, forget, include/exclude. No file moves."""

from __future__ import annotations

import shlex

from packer.files.declaration import (
    DECLARATION_FILE,
    NAME_CONTROL_FIX,
    NAME_PATTERN,
    control_characters_problem,
)
from packer.files.registry import RegistryEntry
from packer.mutations.model import MutationAction, MutationRequest, SafeFix
from packer.mutations.planning import Plan, World, start_plan, structural_notes
from packer.workspace.scan import AssetState

# Diagnostics that make an asset.json unusable: its asset_uuid cannot be trusted.
_UNREADABLE_ANCHOR = {"PK103", "PK104", "PK105", "PK115"}


def plan_register(world: World, request: MutationRequest) -> Plan:
    """register / adopt: an unregistered asset.json joins the registry with the next asset_id."""
    plan, target = start_plan(world, request)
    if target is None or world.registry is None:
        return plan
    record = target.record
    if target.entry is not None:
        plan.block(f"{target.identity.root} is already registered as #{target.entry.asset_id}")
        return plan
    assert record is not None  # start_plan finds a record or an entry
    plan.files.append(f"{record.root}/{DECLARATION_FILE}")
    if record.declaration is None:
        for problem in record.diagnostics:
            if problem.code in _UNREADABLE_ANCHOR:
                plan.block(problem.message, fix=problem.fix, code=problem.code)
        return plan
    decl = record.declaration
    owner = next((e for e in world.registry.assets if e.asset_uuid == decl.asset_uuid), None)
    if owner is not None:
        plan.block(
            f"asset_uuid {decl.asset_uuid} is already registered as #{owner.asset_id} at "
            f"{owner.root}", code="PK109",
            fix="give this copy a new asset_uuid, or relocate the registered asset if it moved",
        )
        owner_record = world.snapshot.by_id(owner.asset_id)
        if owner_record is not None and owner_record.state is AssetState.MISSING:
            plan.safe_fixes.append(SafeFix(
                description=f"#{owner.asset_id} is missing from {owner.root}: relocate it to "
                f"{record.root} (keeps its asset_id)",
                request=MutationRequest(action=MutationAction.RELOCATE, asset=owner.asset_id,
                                        to=record.root),
            ))
        return plan
    for problem in structural_notes(record):
        if problem.code == "PK111":
            plan.block(problem.message, fix=problem.fix, code=problem.code)
        elif problem.code == "PK109":
            plan.warn(problem.message + "; the other copy can never be registered as it is",
                      fix=problem.fix, code=problem.code)
        else:
            plan.warn(f"{problem.message} (this blocks the build until fixed)",
                      fix=problem.fix, code=problem.code)
    if (control := control_characters_problem(decl.name)) is not None:
        plan.block(f"{record.root}/{DECLARATION_FILE}: {control}", fix=NAME_CONTROL_FIX)
    if plan.blocked:
        return plan
    twins = [a for a in world.snapshot.assets if a.included_in_build and a.name == decl.name]
    if twins:
        plan.warn(f"{twins[0].label()} in the build is already named {decl.name!r}: game code "
                  "could not tell the two apart (this blocks the build until one is renamed)",
                  code="PK116", fix="rename one: `prometeu-packer rename PROJECT "
                  f"{shlex.quote(record.root)} --name NEW`")
    if not NAME_PATTERN.match(decl.name):
        plan.warn(f"name {decl.name!r} does not follow the naming convention", code="PK205",
                  fix="use lower_snake_case: letters, digits and `_`")
    asset_id = world.registry.next_asset_id
    entry = RegistryEntry(asset_id=asset_id, root=record.root, asset_uuid=decl.asset_uuid,
                          included_in_build=True, quarantined=False)
    plan.registry_after = world.registry.model_copy(update={
        "assets": (*world.registry.assets, entry), "next_asset_id": asset_id + 1,
    })
    plan.after = target.identity.model_copy(update={"asset_id": asset_id})
    plan.asset_changes = [f"registered as #{asset_id}", "included in build"]
    return plan


def plan_forget(world: World, request: MutationRequest) -> Plan:
    """forget: the registry entry goes, the files stay, the asset_id is retired for good."""
    plan, target = start_plan(world, request)
    if target is None or world.registry is None:
        return plan
    entry = target.entry
    if entry is None:
        plan.block(f"{target.identity.label()} is not registered: there is nothing to forget")
        return plan
    plan.registry_after = world.registry.model_copy(update={
        "assets": tuple(e for e in world.registry.assets if e.asset_id != entry.asset_id),
    })
    plan.warn(f"asset_id {entry.asset_id} is retired: no other asset will ever get it, and the "
              "build no longer contains this asset")
    if entry.quarantined:
        plan.warn(f"its files stay in {entry.root}, where scans do not look",
                  fix="restore it before forgetting it to keep working on its files")
    elif target.record is not None and target.record.state is AssetState.REGISTERED:
        plan.warn(f"its files stay at {entry.root}; it will show as unregistered")
    if entry.included_in_build and not entry.quarantined:
        plan.safe_fixes.append(SafeFix(
            description="exclude it from the build instead (keeps its asset_id)",
            request=MutationRequest(action=MutationAction.EXCLUDE, asset=entry.asset_id),
        ))
    plan.after = None
    plan.asset_changes = [f"forgotten (asset_id {entry.asset_id} retired)"]
    return plan


def plan_include(world: World, request: MutationRequest) -> Plan:
    """include / exclude: toggle included_in_build. Asking for the current state changes nothing."""
    include = request.action is MutationAction.INCLUDE
    plan, target = start_plan(world, request)
    if target is None or world.registry is None:
        return plan
    entry = target.entry
    if entry is None:
        plan.block(f"{target.identity.label()} is not registered",
                   fix="register it first (`prometeu-packer register PROJECT ROOT`)")
        return plan
    word = "included in" if include else "excluded from"
    if entry.included_in_build == include:
        plan.warn(f"#{entry.asset_id} is already {word} the build: nothing to change")
        plan.after = target.identity
        return plan
    if entry.quarantined:
        plan.warn("it is quarantined: it stays out of the build until it is restored")
    elif include and target.record is not None and target.record.blocking:
        plan.warn("it has structural errors: the build is blocked until they are fixed")
    updated = entry.model_copy(update={"included_in_build": include})
    plan.registry_after = world.registry.model_copy(update={
        "assets": tuple(updated if e.asset_id == entry.asset_id else e
                        for e in world.registry.assets),
    })
    plan.after = target.identity
    plan.asset_changes = [f"{word} build"]
    return plan
