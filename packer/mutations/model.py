"""What a mutation will do, as data: the request, the preview a user consents to, the result."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from packer.diagnostics import Diagnostic
from packer.files.registry import RegistryEntry
from packer.lane.events import AffectedAsset

# re-exported: the enum lives in actions.py so the CLI parser can use it without pydantic
from packer.mutations.actions import DEFAULT_LOCK_TIMEOUT_S as DEFAULT_LOCK_TIMEOUT_S  # noqa: PLC0414
from packer.mutations.actions import MutationAction as MutationAction  # noqa: PLC0414


class OperationClass(StrEnum):
    REGISTRY_MUTATION = "registry_mutation"  # only index.json changes
    WORKSPACE_MUTATION = "workspace_mutation"  # files under assets/ move, change or go


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MutationRequest(_Frozen):
    """One intended mutation. `asset` is an asset_id or a root relative to assets/ (POSIX).

    `new` (docs/mutations.md, "New assets from files"): `asset` is the folder that becomes the
    asset root; `files` the inputs to consider, relative to that folder (None: every file in
    it); `source` an absolute folder outside the project whose `files` are copied into the new
    root; `asset_type` the type asked for (None: inferred from the files); `derive_palette`
    asks for a glyph bank palette made from the tiles' colours.
    """

    action: MutationAction
    asset: int | str
    to: str | None = None  # relocate (required) and restore (optional): the new root
    name: str | None = None  # rename: the new logical name; new: the asset's name
    asset_type: str | None = None
    files: tuple[str, ...] | None = None
    source: str | None = None
    derive_palette: bool = False

    @model_validator(mode="after")
    def _arguments_fit_the_action(self) -> MutationRequest:
        new = self.action is MutationAction.NEW
        if self.action is MutationAction.RELOCATE and not self.to:
            raise ValueError("relocate needs the destination root (`to`)")
        if self.action is MutationAction.RENAME and self.name is None:
            raise ValueError("rename needs the new name (`name`)")
        if self.to is not None and self.action not in {
            MutationAction.RELOCATE, MutationAction.RESTORE
        }:
            raise ValueError(f"{self.action.verb} takes no destination")
        if self.name is not None and self.action not in {MutationAction.RENAME, MutationAction.NEW}:
            raise ValueError(f"{self.action.verb} takes no name")
        if not new and (self.asset_type is not None or self.files is not None
                        or self.source is not None or self.derive_palette):
            raise ValueError(f"{self.action.verb} takes no type, files, source or palette")
        if new and not isinstance(self.asset, str):
            raise ValueError("new needs a folder (a path relative to assets/), not an asset_id")
        return self


class AssetIdentity(_Frozen):
    asset_id: int | None = None
    asset_uuid: str | None = None
    root: str
    name: str | None = None

    def affected(self) -> AffectedAsset:
        return AffectedAsset(asset_id=self.asset_id, root=self.root, name=self.name)

    def label(self) -> str:
        ident = f"#{self.asset_id} " if self.asset_id is not None else ""
        return f"{ident}{self.name or self.root}"


class RegistryChange(_Frozen):
    """One registry entry before and after (None: the entry does not exist on that side)."""

    asset_id: int
    before: RegistryEntry | None
    after: RegistryEntry | None

    def describe(self) -> str:
        if self.before is None and self.after is not None:
            return f"registry: add #{self.asset_id} at {self.after.root}"
        if self.after is None and self.before is not None:
            return f"registry: drop #{self.asset_id} ({self.before.root})"
        assert self.before is not None and self.after is not None
        changed = [
            f"{key} {getattr(self.before, key)!r} → {getattr(self.after, key)!r}"
            for key in RegistryEntry.model_fields
            if getattr(self.before, key) != getattr(self.after, key)
        ]
        return f"registry: #{self.asset_id} " + ", ".join(changed)


class DiskChangeKind(StrEnum):
    CREATE = "create"  # a folder is created
    WRITE = "write"  # a new file `path` is written (new: asset.json, a derived palette)
    COPY = "copy"  # the file `destination` is copied in from `path` (outside the project)
    MOVE = "move"  # `path` moves to `destination`, with every file under it
    DELETE = "delete"  # `path` and every file under it are deleted
    REWRITE = "rewrite"  # the file `path` gets new content


class DiskChange(_Frozen):
    """Paths relative to assets/ (POSIX); `files` relative to `path`."""

    kind: DiskChangeKind
    path: str
    destination: str | None = None
    files: tuple[str, ...] = ()
    detail: str | None = None

    def describe(self) -> str:
        count = f" ({len(self.files)} files)" if self.files else ""
        match self.kind:
            case DiskChangeKind.MOVE:
                return f"move {self.path} → {self.destination}{count}"
            case DiskChangeKind.DELETE:
                return f"delete {self.path}{count}"
            case DiskChangeKind.CREATE:
                return f"create folder {self.path}"
            case DiskChangeKind.REWRITE:
                return f"rewrite {self.path}" + (f": {self.detail}" if self.detail else "")
            case DiskChangeKind.WRITE:
                return f"write {self.path}" + (f" ({self.detail})" if self.detail else "")
            case DiskChangeKind.COPY:
                return f"copy {self.path} → {self.destination}"


class Note(_Frozen):
    """A blocker or a warning: what is wrong or worth knowing, and what to do about it."""

    message: str
    code: str | None = None  # a diagnostic code when the note comes from one
    fix: str | None = None


class SafeFix(_Frozen):
    """A low-risk follow-up the user may choose (never applied as part of this mutation)."""

    description: str
    request: MutationRequest | None = None


class SkippedFile(_Frozen):
    """A file `new` left out of the proposal, and why (never opened when it cannot be an input)."""

    path: str  # relative to the folder proposed as the root
    reason: str


class NewAssetProposal(_Frozen):
    """What `new` proposes: the asset.json to write and what the asset would then report."""

    declaration: dict[str, JsonValue]
    declaration_text: str  # the exact bytes asset.json gets, as text
    skipped: tuple[SkippedFile, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  # the findings the new asset would have
    palette_colours: tuple[str, ...] = ()  # a derived palette's colours, #rrggbb, key first


class WorldFingerprint(_Frozen):
    """What the preview was computed from: part name → digest. Apply recomputes and compares."""

    parts: dict[str, str]
    # When it was taken (ns since the epoch): files modified close to it are digested by
    # content, and the apply judges "close" against this same moment (mutations.fingerprint).
    taken_at_ns: int | None = None

    def differences(self, other: WorldFingerprint) -> list[str]:
        names = sorted(set(self.parts) | set(other.parts))
        return [n for n in names if self.parts.get(n) != other.parts.get(n)]


class MutationPreview(_Frozen):
    """Everything a user needs to consent: changes, blockers, warnings and safe fixes apart."""

    preview_id: str  # the operation id of the preview operation that published it
    request: MutationRequest
    action: MutationAction
    operation_class: OperationClass
    target: AssetIdentity
    registry_changes: tuple[RegistryChange, ...] = ()
    next_asset_id_before: int | None = None
    next_asset_id_after: int | None = None
    disk_changes: tuple[DiskChange, ...] = ()
    blockers: tuple[Note, ...] = ()
    warnings: tuple[Note, ...] = ()
    safe_fixes: tuple[SafeFix, ...] = ()
    consent_required: bool = False
    fingerprint: WorldFingerprint = Field(default_factory=lambda: WorldFingerprint(parts={}))
    proposal: NewAssetProposal | None = None  # new only

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)

    @property
    def changes_nothing(self) -> bool:
        return not (self.registry_changes or self.disk_changes)

    def change_lines(self) -> list[str]:
        lines = [c.describe() for c in self.registry_changes]
        if self.next_asset_id_after != self.next_asset_id_before:
            lines.append(
                f"registry: next_asset_id {self.next_asset_id_before} → {self.next_asset_id_after}"
            )
        lines.extend(c.describe() for c in self.disk_changes)
        return lines

    def same_changes(self, other: MutationPreview) -> bool:
        return (
            self.registry_changes == other.registry_changes
            and self.disk_changes == other.disk_changes
            and self.next_asset_id_after == other.next_asset_id_after
            and self.proposal == other.proposal
        )


class MutationOutcome(StrEnum):
    APPLIED = "applied"
    REFUSED = "refused"  # blocked, stale, no consent, or the lock is held: nothing was touched
    FAILED = "failed"  # a step failed; the disk and registry were rolled back
    CANCELLED = "cancelled"


class MutationResult(_Frozen):
    action: MutationAction
    outcome: MutationOutcome
    message: str
    target: AssetIdentity
    changes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    error_type: str | None = None
    rolled_back: bool = False  # a failure was undone (False with FAILED: recovery is pending)
    operation_id: str | None = None

    @property
    def applied(self) -> bool:
        return self.outcome is MutationOutcome.APPLIED
