"""Planner for rename: a new logical `name` in asset.json. Not an identity change, but game code
refers to assets by this name, so the preview always says so."""

from __future__ import annotations

import json
from typing import Any

from packer.files.declaration import (
    DECLARATION_FILE,
    NAME_CONTROL_FIX,
    NAME_PATTERN,
    control_characters_problem,
    parse_declaration,
)
from packer.files.safe_read import MAX_DECLARATION_BYTES, read_regular
from packer.files.steps import WriteFileStep
from packer.mutations.model import DiskChange, DiskChangeKind, MutationRequest
from packer.mutations.planning import Plan, World, start_plan


def renamed_declaration(raw: bytes, new_name: str) -> bytes:
    """asset.json with only `name` changed: other keys keep their order (indent normalised)."""
    data: dict[str, Any] = json.loads(raw.decode("utf-8"))
    data["name"] = new_name
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def plan_rename(world: World, request: MutationRequest) -> Plan:
    assert request.name is not None
    plan, target = start_plan(world, request)
    if target is None:
        return plan
    record = target.record
    if record is None or record.declaration is None:
        plan.block(f"{target.identity.label()} has no readable {DECLARATION_FILE} to rename in",
                   fix="run `prometeu-packer doctor PROJECT` and fix asset.json first")
        return plan
    old_name, new_name = record.declaration.name, request.name.strip()
    anchor = f"{record.root}/{DECLARATION_FILE}"
    plan.files.append(anchor)
    if new_name == old_name:
        plan.warn(f"the asset is already named {new_name!r}: nothing to change")
        plan.after = target.identity
        return plan
    path = world.project.assets_dir.joinpath(*anchor.split("/"))
    try:
        raw = read_regular(path, follow_symlinks=False, limit=MAX_DECLARATION_BYTES)
        content = renamed_declaration(raw, new_name)
    except (OSError, ValueError) as exc:
        plan.block(f"cannot read {anchor}: {exc}")
        return plan
    decl, problems = parse_declaration(content, root=record.root)
    if decl is None:
        plan.block(f"{new_name!r} is not a valid name: {problems[0].message}",
                   fix="use 1 to 128 characters, lower_snake_case")
        return plan
    if (control := control_characters_problem(new_name)) is not None:
        plan.block(control, fix=NAME_CONTROL_FIX)
        return plan
    if not NAME_PATTERN.match(new_name):
        plan.warn(f"name {new_name!r} does not follow the naming convention", code="PK205",
                  fix="use lower_snake_case: letters, digits and `_`")
    twins = [a for a in world.snapshot.assets
             if a.root != record.root and a.registered and a.name == new_name]
    if twins:
        plan.warn(f"{twins[0].label()} is already named {new_name!r}: game code could not tell "
                  "the two apart")
    plan.warn(f"visible to game code: the asset table will call it {new_name!r} instead of "
              f"{old_name!r}; update every script that refers to {old_name!r}")
    plan.steps.append(WriteFileStep(path=anchor, content=content))
    plan.disk_changes.append(DiskChange(
        kind=DiskChangeKind.REWRITE, path=anchor, detail=f"name {old_name!r} → {new_name!r}",
    ))
    plan.after = target.identity.model_copy(update={"name": new_name})
    plan.asset_changes = [f"name {old_name} → {new_name}"]
    return plan
