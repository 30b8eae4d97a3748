"""Planner for new: a folder of files (inside assets/, or copied in from outside) becomes an asset.

The apply writes asset.json (and a derived palette, or the copied files) atomically and registers
the asset with the next asset_id, in one journaled change. A folder that already holds an
asset.json is refused: it is an asset already (adopt it instead).
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from packer.diagnostics import Diagnostic
from packer.files.declaration import (
    DECLARATION_FILE,
    NAME_PATTERN,
    OUTPUT_CONTRACTS,
    parse_declaration,
)
from packer.files.paths import UnsafePathError, check_relative
from packer.files.project import PACKER_DIR
from packer.files.registry import RegistryEntry
from packer.files.steps import CopyInStep, MakeDirStep, WriteFileStep, read_regular_file
from packer.formats import validate_format
from packer.lane.cancellation import CancellationToken
from packer.mutations.model import (
    AssetIdentity,
    DiskChange,
    DiskChangeKind,
    MutationAction,
    MutationRequest,
    NewAssetProposal,
    SafeFix,
)
from packer.mutations.planning import (
    Plan,
    World,
    check_destination,
    nested_roots,
    normalise_root,
    registry_readable,
)
from packer.mutations.proposal import (
    DERIVED_PALETTE,
    Proposal,
    ProposalError,
    choose_type,
    list_files,
    name_for,
    propose,
)
from packer.workspace.anchors import check_inputs

# asset_uuids of new assets: derived from the preview's id, so the apply (which plans again)
# writes exactly the asset.json the user saw.
_UUID_NAMESPACE = uuid.UUID("5b0a8f64-3c1e-4d8a-9a57-2f1e6c0d9b31")
# Errors that one input file causes on its own: unreadable, undecodable or unsupported.
_FILE_ERRORS = frozenset({"PK112", "PK128", "PK130", "PK131"})


def plan_new(world: World, request: MutationRequest) -> Plan:
    root = normalise_root(str(request.asset))
    plan = Plan(action=MutationAction.NEW, target=AssetIdentity(root=root, name=request.name))
    if not registry_readable(world, plan):
        return plan
    base = _place(world, plan, request, root)
    if base is None:
        return plan
    token = world.token or CancellationToken()
    try:
        files, skipped = list_files(base, request.files, token)
        asset_type = choose_type(files, request.asset_type)
        proposal = propose(base, files, skipped, asset_type,
                           derive_palette=request.derive_palette, token=token)
    except ProposalError as exc:
        plan.block(str(exc), fix=exc.fix)
        return plan
    except OSError as exc:
        plan.block(f"cannot read {base}: {exc.strerror or exc}")
        return plan
    _declare(world, plan, request, root, base=base, proposal=proposal)
    return plan


def _place(world: World, plan: Plan, request: MutationRequest, root: str) -> Path | None:
    """Check the root; returns the folder the files are read from (None: blocked)."""
    try:
        check_relative(root)
    except UnsafePathError as exc:
        plan.block(f"{request.asset!r} is not a folder inside assets/: {exc}")
        return None
    if root == "." or root.split("/", maxsplit=1)[0] == PACKER_DIR:
        plan.block(f"{root} cannot be an asset root (assets/ itself or the packer's "
                   f"{PACKER_DIR} folder)", fix="choose a folder inside assets/")
        return None
    if request.source is not None:
        return _place_copy(world, plan, request.source, root)
    record = world.snapshot.by_root(root)
    if record is not None or world.exists(f"{root}/{DECLARATION_FILE}"):
        state = f"registered as #{record.asset_id}" if record and record.asset_id else (
            "unregistered")
        plan.block(f"{root} is already an asset ({state}): it has an {DECLARATION_FILE}",
                   fix=f"edit {root}/{DECLARATION_FILE} to change it" if state != "unregistered"
                   else f"adopt it (`prometeu-packer adopt PROJECT {root}`)")
        if record is not None and record.asset_id is None:
            plan.safe_fixes.append(SafeFix(
                description=f"adopt {root} as it is",
                request=MutationRequest(action=MutationAction.ADOPT, asset=root),
            ))
        return None
    if world.registry and world.registry.by_root(root):
        plan.block(f"{root} is the root of a registered asset whose folder is missing",
                   fix="forget that asset first, or relocate it")
        return None
    if not world.is_dir(root):
        plan.block(f"there is no folder at assets/{root}",
                   fix="put the files in a folder under assets/ first")
        return None
    if _inside_other_root(world, plan, root):
        return None
    inner = nested_roots(world, root)
    if inner:
        plan.block(f"{root} contains the asset root {inner[0]}",
                   fix="one root holds exactly one asset; choose a folder without one")
        return None
    plan.trees.append(root)
    return world.project.assets_dir.joinpath(*root.split("/"))


def _inside_other_root(world: World, plan: Plan, root: str) -> bool:
    roots = {r.root for r in world.snapshot.assets}
    if world.registry:
        roots.update(e.root for e in world.registry.assets)
    parts = root.split("/")
    for i in range(1, len(parts)):
        parent = "/".join(parts[:i])
        if parent in roots:
            plan.block(f"{root} lies inside the asset root {parent}",
                       fix="one root holds exactly one asset; choose a folder outside it")
            return True
    return False


def _place_copy(world: World, plan: Plan, source: str, root: str) -> Path | None:
    """Files from outside the project: `root` must be a new folder; the source must exist."""
    folder = Path(source)
    assets = os.path.realpath(world.project.assets_dir)
    real = os.path.realpath(folder)
    if not folder.is_absolute() or not folder.is_dir():
        plan.block(f"{source} is not a folder", fix="copy files in from an existing folder")
        return None
    if real == assets or real.startswith(assets.rstrip("/") + "/"):
        plan.block(f"{source} is already inside assets/: make the asset there instead of "
                   "copying it", fix=f"make a new asset of {os.path.relpath(real, assets)}")
        return None
    if check_destination(world, plan, None, root) is None:
        return None
    plan.steps.append(MakeDirStep(path=root))
    plan.disk_changes.append(DiskChange(kind=DiskChangeKind.CREATE, path=root))
    plan.sources.append(real)
    return Path(real)


def _declaration(
    asset_uuid: str, name: str, proposal: Proposal
) -> tuple[dict[str, Any], bytes]:
    fmt, codec, _bank = OUTPUT_CONTRACTS[proposal.asset_type]
    output: dict[str, Any] = {"format": fmt, "codec": codec}
    if proposal.metadata:
        output["metadata"] = dict(proposal.metadata)
    data: dict[str, Any] = {
        "schema_version": 1, "asset_uuid": asset_uuid, "name": name,
        "type": proposal.asset_type, "inputs": proposal.inputs, "output": output,
        "preload": {"enabled": False},
    }
    return data, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _declare(
    world: World, plan: Plan, request: MutationRequest, root: str, *, base: Path,
    proposal: Proposal,
) -> None:
    name = (request.name or "").strip() or name_for(root)
    asset_uuid = str(uuid.uuid5(_UUID_NAMESPACE, world.preview_id or world.operation_id))
    data, content = _declaration(asset_uuid, name, proposal)
    decl, problems = parse_declaration(content, root=root)
    if decl is None:
        plan.block(f"{name!r} is not a valid name: {problems[0].message}",
                   fix="use 1 to 128 characters, lower_snake_case")
        return
    if not NAME_PATTERN.match(name):
        plan.warn(f"name {name!r} does not follow the naming convention", code="PK205",
                  fix="use lower_snake_case: letters, digits and `_`")
    twins = [a for a in world.snapshot.assets if a.registered and a.name == name]
    if twins:
        plan.warn(f"{twins[0].label()} is already named {name!r}: game code could not tell "
                  "the two apart", fix="choose another name")
    for note in proposal.notes:
        plan.warn(note)
    found = _findings(decl, problems, base, root, proposal)
    errors = [d for d in found if d.blocking]
    if errors:
        plan.warn(f"the new asset would have {len(errors)} error(s), listed with its "
                  "diagnostics: it is registered, but the build is blocked until they are fixed")
        _offer_without_broken_files(plan, request, decl.all_inputs(), errors)
    inputs = [path for _role, path in decl.all_inputs() if path != DERIVED_PALETTE
              or proposal.palette_png is None]
    if request.source is not None:
        _copy_steps(plan, root, base, inputs)
    if proposal.palette_png is not None:
        colours = ", ".join(proposal.palette_colours)
        _write(plan, f"{root}/{DERIVED_PALETTE}", proposal.palette_png,
               f"palette derived from the tiles: {colours}")
    _write(plan, f"{root}/{DECLARATION_FILE}", content, f"a {proposal.asset_type}")
    assert world.registry is not None
    asset_id = world.registry.next_asset_id
    entry = RegistryEntry(asset_id=asset_id, root=root, asset_uuid=asset_uuid,
                          included_in_build=True, quarantined=False)
    plan.registry_after = world.registry.model_copy(update={
        "assets": (*world.registry.assets, entry), "next_asset_id": asset_id + 1,
    })
    plan.target = AssetIdentity(root=root, name=name, asset_uuid=asset_uuid)
    plan.after = plan.target.model_copy(update={"asset_id": asset_id})
    plan.asset_changes = [f"new {proposal.asset_type} with {len(decl.all_inputs())} input(s)",
                          f"registered as #{asset_id}", "included in build"]
    plan.proposal = NewAssetProposal(
        declaration=data, declaration_text=content.decode("utf-8"),
        skipped=tuple(proposal.skipped), diagnostics=tuple(found),
        palette_colours=proposal.palette_colours,
    )


def _offer_without_broken_files(
    plan: Plan, request: MutationRequest, inputs: list[tuple[str, str]], errors: list[Diagnostic]
) -> None:
    """Files that are themselves the problem (an ADPCM WAV, a corrupt PNG): offer the asset
    without them, as a ready-made request."""
    broken = sorted({d.file for d in errors if d.file and d.code in _FILE_ERRORS})
    kept = tuple(path for _role, path in inputs
                 if path not in broken and not (path == DERIVED_PALETTE and request.derive_palette))
    if broken and kept:
        plan.safe_fixes.append(SafeFix(
            description=f"leave out {', '.join(broken)} (the files with errors) and make the "
            f"asset of the {len(kept)} other file(s)",
            request=request.model_copy(update={"files": kept}),
        ))


def _write(plan: Plan, path: str, content: bytes, detail: str) -> None:
    plan.steps.append(WriteFileStep(path=path, content=content))
    plan.disk_changes.append(DiskChange(kind=DiskChangeKind.WRITE, path=path, detail=detail))


def _copy_steps(plan: Plan, root: str, base: Path, inputs: list[str]) -> None:
    made: set[str] = set()
    for rel in inputs:
        parts = rel.split("/")
        for i in range(1, len(parts)):
            folder = f"{root}/{'/'.join(parts[:i])}"
            if folder not in made:
                made.add(folder)
                plan.steps.append(MakeDirStep(path=folder))
        # A symlink among the files was checked to stay inside the folder: copy its target.
        source = os.path.realpath(base.joinpath(*parts))
        plan.steps.append(CopyInStep(src=source, dst=f"{root}/{rel}"))
        plan.disk_changes.append(DiskChange(kind=DiskChangeKind.COPY, path=source,
                                            destination=f"{root}/{rel}"))


def _findings(
    decl: Any, problems: list[Diagnostic], base: Path, root: str, proposal: Proposal
) -> list[Diagnostic]:
    """The findings the asset would have once written: inputs, output contract and format.

    A derived palette does not exist yet, so the check then runs on a private copy of the
    inputs with the palette beside them (outside the project: the preview writes nothing)."""
    if proposal.palette_png is None:
        return [*problems, *check_inputs(decl, base, root=root, asset_id=None),
                *validate_format(decl, base, root=root, asset_id=None)]
    with tempfile.TemporaryDirectory(prefix="prometeu-new-") as scratch:
        folder = Path(scratch)
        for _role, rel in decl.all_inputs():
            target = folder.joinpath(*rel.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel == DERIVED_PALETTE:
                target.write_bytes(proposal.palette_png)
            else:
                source = Path(os.path.realpath(base.joinpath(*rel.split("/"))))
                target.write_bytes(read_regular_file(source))
        return [*problems, *check_inputs(decl, folder, root=root, asset_id=None),
                *validate_format(decl, folder, root=root, asset_id=None)]
