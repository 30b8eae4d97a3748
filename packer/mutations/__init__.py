"""Mutations of a project: preview what would change, then apply it all-or-nothing.

    preview = preview_mutation(project, MutationRequest(action=MutationAction.RELOCATE,
                                                        asset=3, to="sprites/hero"))
    result = apply_mutation(project, preview, consent=True)

Modules: `model` (requests, previews, results), `planning` + `plan_*` (one planner per concern,
never touching the disk), `fingerprint` (staleness), `applier` (runs a plan's journaled, undoable
disk steps: packer.files.steps and packer.files.journal, next to the lock that recovers them),
`service` (the two public functions and their events). See docs/mutations.md.
"""

from packer.mutations.applier import FaultHook
from packer.mutations.model import (
    AssetIdentity,
    DiskChange,
    DiskChangeKind,
    MutationAction,
    MutationOutcome,
    MutationPreview,
    MutationRequest,
    MutationResult,
    Note,
    OperationClass,
    RegistryChange,
    SafeFix,
)
from packer.mutations.service import DEFAULT_LOCK_TIMEOUT_S, apply_mutation, preview_mutation

__all__ = [
    "DEFAULT_LOCK_TIMEOUT_S",
    "AssetIdentity",
    "DiskChange",
    "DiskChangeKind",
    "FaultHook",
    "MutationAction",
    "MutationOutcome",
    "MutationPreview",
    "MutationRequest",
    "MutationResult",
    "Note",
    "OperationClass",
    "RegistryChange",
    "SafeFix",
    "apply_mutation",
    "preview_mutation",
]
