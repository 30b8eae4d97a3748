"""Mutations of a project: preview what would change, then apply it all-or-nothing.

    preview = preview_mutation(project, MutationRequest(action=MutationAction.RELOCATE,
                                                        asset=3, to="sprites/hero"))
    result = apply_mutation(project, preview, consent=True)

Modules: `model` (requests, previews, results), `planning` + `plan_*` (one planner per concern,
never touching the disk), `fingerprint` (staleness), `applier` (runs a plan's journaled, undoable
disk steps: packer.files.steps and packer.files.journal, next to the lock that recovers them),
`service` (the two public functions and their events). See docs/mutations.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from packer.mutations.applier import FaultHook
    from packer.mutations.model import (
        DEFAULT_LOCK_TIMEOUT_S,
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
    from packer.mutations.service import apply_mutation, preview_mutation

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


_SERVICE = {"apply_mutation", "preview_mutation"}


def __getattr__(name: str) -> Any:
    # Imported on first use, so a command that needs only the request model (the CLI's parser)
    # does not load the planners, the applier and the service at start-up.
    if name in _SERVICE:
        from packer.mutations import service

        return getattr(service, name)
    if name == "FaultHook":
        from packer.mutations.applier import FaultHook

        return FaultHook
    if name in __all__:
        from packer.mutations import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
