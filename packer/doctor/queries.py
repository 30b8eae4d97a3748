"""Read queries: the asset list and one asset's details, as typed results.

`list_assets` stays cheap: it reads the scan (directory entries, each asset.json, `stat` of the
inputs), the per-asset hygiene, and duplicate content (hashing only files that share a size with
another); it never decodes an input. Format findings come from the validation cache
(packer.doctor.validation_cache, written by doctor): an asset whose validation is not known there
is `unchecked` (never `ok`), unless `validate=True` validates it (and saves the cache).
`get_asset_details` validates its one asset (or, given the listing's `WorkspaceIndex`, takes its
findings from the validation cache when they are still valid there), and reads only that asset
when given the index (packer.doctor.one_asset).
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, JsonValue

from packer.diagnostics import Diagnostic, count_by_severity, counts_text, plural
from packer.doctor.hash_cache import HashCache, load_hash_cache
from packer.doctor.hygiene import (
    SameSize,
    WorkspaceFile,
    by_size,
    duplicate_candidates,
    duplicate_diagnostics,
    find_duplicates,
    list_workspace_files,
    normalised_input,
    record_hygiene,
    workspace_files_of_walk,
)
from packer.doctor.one_asset import (
    OneAsset,
    WorkspaceIndex,
    normalise_root,
    read_one_asset,
    registry_fingerprint,
)
from packer.doctor.service import (
    cached_format_findings,
    format_applies,
    format_findings,
    save_quietly,
)
from packer.doctor.validation_cache import (
    ValidationCache,
    load_validation_cache,
    validation_key,
)
from packer.errors import AssetNotFoundError
from packer.files.declaration import DECLARATION_FILE, AssetDeclaration
from packer.files.paths import UnsafePathError, resolve_inside
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind, Outcome
from packer.lane.operation import Operation
from packer.lane.sinks import EventSink, NullSink
from packer.workspace.scan import (
    AssetRecord,
    AssetState,
    WorkspaceSnapshot,
    build_snapshot,
    build_snapshot_with_walk,
    diagnostics_detail,
)


class FormatCheck(StrEnum):
    """What is known of an asset's format validation."""

    CHECKED = "checked"  # validated (now or from the cache): its findings are counted
    UNCHECKED = "unchecked"  # not validated since it last changed: format errors unknown
    NOT_APPLICABLE = "not_applicable"  # nothing to validate (no valid declaration, missing…)


class AssetSummary(BaseModel):
    """One row of the asset list: identity, state and how many findings it has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    asset_id: int | None  # None when unregistered
    asset_uuid: str | None
    name: str | None  # None when asset.json cannot be read
    root: str  # relative to assets/, POSIX
    type: str | None
    state: AssetState
    included_in_build: bool
    preload: bool | None
    format: str | None
    codec: str | None
    errors: int
    warnings: int
    infos: int
    format_check: FormatCheck


class RuntimeContract(BaseModel):
    """What the runtime gets: the output part of asset.json, plus the bank type it implies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str
    codec: str
    bank_type: str
    metadata: dict[str, JsonValue]
    pipeline: dict[str, JsonValue]


class InputInfo(BaseModel):
    """One declared input. `size` is None when it is missing, escapes the root or is no file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str
    path: str
    exists: bool
    size: int | None = None
    escapes_root: bool = False


class FileInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str  # relative to the asset root
    size: int | None
    referenced: bool  # an input (or asset.json itself)


class AssetDetails(AssetSummary):
    """Everything about one asset, in the order the Studio shows it."""

    contract: RuntimeContract | None
    declaration: AssetDeclaration | None
    inputs: tuple[InputInfo, ...]
    files: tuple[FileInfo, ...]
    diagnostics: tuple[Diagnostic, ...]


def _summary_fields(record: AssetRecord, found: list[Diagnostic], check: FormatCheck
                    ) -> dict[str, object]:
    decl = record.declaration
    errors, warnings, infos = count_by_severity(found)
    return {
        "asset_id": record.asset_id, "asset_uuid": record.asset_uuid, "name": record.name,
        "root": record.root, "type": record.asset_type, "state": record.state,
        "included_in_build": record.included_in_build,
        "preload": decl.preload.enabled if decl else None,
        "format": decl.output.format if decl else None,
        "codec": decl.output.codec if decl else None,
        "errors": errors, "warnings": warnings, "infos": infos, "format_check": check,
    }


def _cheap_findings(assets_dir: Path, record: AssetRecord, nested: list[str]
                    ) -> list[Diagnostic]:
    """The record's own findings and its hygiene (`nested`: the roots on disk inside it)."""
    if record.state is AssetState.MISSING:
        return list(record.diagnostics)
    return [*record.diagnostics, *record_hygiene(record, assets_dir, nested)]


class AssetListing(BaseModel):
    """The asset list plus the workspace-level findings (registry problems, unreadable entries)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str
    assets: tuple[AssetSummary, ...]
    workspace_diagnostics: tuple[Diagnostic, ...]

    @property
    def blocking(self) -> bool:
        """An error known in the workspace or in the build set (registered and included, as
        doctor and build count it): the rest is never built."""
        return any(d.blocking for d in self.workspace_diagnostics) or any(
            a.errors for a in self.assets if a.asset_id is not None and a.included_in_build
        )

    @property
    def unchecked(self) -> int:
        return sum(1 for a in self.assets if a.format_check is FormatCheck.UNCHECKED)


def list_assets(
    project: Project, sink: EventSink | None = None, token: CancellationToken | None = None,
    *, validate: bool = False,
) -> list[AssetSummary]:
    """Every asset (registered, unregistered, missing, quarantined), registered first by id."""
    return list(list_assets_report(project, sink, token, validate=validate).assets)


def list_assets_report(
    project: Project, sink: EventSink | None = None, token: CancellationToken | None = None,
    *, validate: bool = False,
) -> AssetListing:
    """`list_assets` with the workspace-level findings kept (for the CLI and the Studio).

    Format findings are the validation cache's; `validate=True` validates every asset the cache
    does not know (decoding its inputs) and saves the cache."""
    return _list(project, sink, token, validate=validate, indexed=False)[0]


def list_assets_indexed(
    project: Project, sink: EventSink | None = None, token: CancellationToken | None = None,
) -> tuple[AssetListing, WorkspaceIndex]:
    """`list_assets_report`, plus the index that lets `get_asset_details` read one asset alone
    (what the Studio holds between listings)."""
    listing, index = _list(project, sink, token, validate=False, indexed=True)
    assert index is not None
    return listing, index


def _list(
    project: Project, sink: EventSink | None, token: CancellationToken | None, *,
    validate: bool, indexed: bool,
) -> tuple[AssetListing, WorkspaceIndex | None]:
    op = Operation(sink or NullSink(), project_id=project.project_id, operation="list",
                   token=token)
    with op:
        op.progress(0, None, phase="scan", summary="Listing assets…")
        fingerprint = registry_fingerprint(project) if indexed else None  # before it is read
        snapshot, walk = build_snapshot_with_walk(project, op.token)
        files = workspace_files_of_walk(project.assets_dir, walk, op.token)
        hashes = load_hash_cache(project.packer_dir)
        same_size: dict[int, SameSize] | None = {} if indexed else None
        duplicates = _duplicates_by_root(project, snapshot, files, hashes, op.token,
                                         same_size=same_size)
        cache = load_validation_cache(project)
        workspace = [*snapshot.diagnostics, *([cache.problem] if cache.problem else [])]
        summaries = []
        everything = list(workspace)
        for index, record in enumerate(snapshot.assets, start=1):
            op.check_cancelled()
            found, check = _listed_findings(project, snapshot, record, duplicates, cache,
                                            validate=validate)
            everything.extend(found)
            summaries.append(AssetSummary.model_validate(_summary_fields(record, found, check)))
            op.progress(index, len(snapshot.assets), phase="list")
        if validate:
            cache.keep_only({r.root for r in snapshot.assets if format_applies(r)})
            save_quietly(project, cache)
        errors, warnings, _infos = count_by_severity(everything)
        op.finish(
            EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED,
            f"Listed {plural(len(summaries), 'asset')}: {counts_text(errors, warnings)}",
            detail=diagnostics_detail(everything, assets_checked=len(summaries)),
        )
    listing = AssetListing(project_id=snapshot.project_id, assets=tuple(summaries),
                           workspace_diagnostics=tuple(workspace))
    return listing, (WorkspaceIndex(snapshot, files, hashes=hashes, validation=cache,
                                    fingerprint=fingerprint, same_size=same_size)
                     if indexed else None)


def workspace_index(project: Project, token: CancellationToken | None = None
                    ) -> WorkspaceIndex:
    """The index a listing would give, without the listing (after a mutation)."""
    token = token or CancellationToken()
    fingerprint = registry_fingerprint(project)
    snapshot, walk = build_snapshot_with_walk(project, token)
    files = workspace_files_of_walk(project.assets_dir, walk, token)
    return WorkspaceIndex(snapshot, files, hashes=load_hash_cache(project.packer_dir),
                          validation=load_validation_cache(project), fingerprint=fingerprint)


def _listed_findings(project: Project, snapshot: WorkspaceSnapshot, record: AssetRecord,
                     duplicates: dict[str, list[Diagnostic]], cache: ValidationCache, *,
                     validate: bool) -> tuple[list[Diagnostic], FormatCheck]:
    """What the listing counts for one asset: cheap findings, duplicates and the format
    findings the validation cache knows (all of them, validating, with `validate`)."""
    found = [*_cheap_findings(project.assets_dir, record,
                              snapshot.present_roots.nested(record.root)),
             *duplicates.get(record.root, ())]
    check = FormatCheck.NOT_APPLICABLE
    if format_applies(record):
        if validate:
            known: list[Diagnostic] | tuple[Diagnostic, ...] | None = (
                cached_format_findings(project, record, cache))
        elif record.root in cache.entries:  # (a key costs a hash of asset.json)
            known = cache.lookup(record.root, validation_key(record))
        else:
            known = None
        check = FormatCheck.UNCHECKED if known is None else FormatCheck.CHECKED
        found.extend(known or ())
    return found, check


def summaries_of(project: Project, snapshot: WorkspaceSnapshot, roots: Iterable[str],
                 token: CancellationToken | None = None, *,
                 files: list[WorkspaceFile] | None = None) -> tuple[AssetSummary, ...]:
    """The listing's summaries of these roots only, from a snapshot already taken (a rescan's):
    what changed is shown without listing, and without scanning, the whole project again.
    Roots the snapshot does not hold are left out; no events (the caller's operation told).
    `files`: the workspace's files, when the caller has listed them already."""
    wanted = [r for r in (snapshot.by_root(root) for root in roots) if r is not None]
    if not wanted:
        return ()
    token = token or CancellationToken()
    if files is None:
        files = list_workspace_files(project.assets_dir, token)
    duplicates = _duplicates_touching(project, snapshot, files, {r.root for r in wanted}, token)
    cache = load_validation_cache(project)
    summaries = []
    for record in wanted:
        token.raise_if_cancelled()
        found, check = _listed_findings(project, snapshot, record, duplicates, cache,
                                        validate=False)
        summaries.append(AssetSummary.model_validate(_summary_fields(record, found, check)))
    return tuple(summaries)


def _duplicates_touching(project: Project, snapshot: WorkspaceSnapshot,
                         files: list[WorkspaceFile], roots: set[str],
                         token: CancellationToken) -> dict[str, list[Diagnostic]]:
    """PK202 findings of these roots only: only the same-size groups of `files` that touch
    them are hashed (a few files, so without loading the whole hash cache)."""
    prefixes = tuple(f"{root}/" for root in roots)
    groups = [g for g in duplicate_candidates(files)
              if any(f.path.startswith(prefixes) for f in g)]
    ids = {r.root: r.asset_id for r in snapshot.assets}
    by_root: dict[str, list[Diagnostic]] = {}
    for found in duplicate_diagnostics(find_duplicates(project.assets_dir, groups, token), ids):
        if found.root in roots:
            by_root.setdefault(found.root, []).append(found)
    return by_root


# Workspace findings that mean the registry could not be read (so no id can be found in it).
_REGISTRY_CODES = frozenset({"PK002", "PK003", "PK004"})


def find_record(snapshot: WorkspaceSnapshot, asset: int | str, project: Project) -> AssetRecord:
    """By asset_id (int, or text like `7` / `#7`) or by root (relative to assets/)."""
    if isinstance(asset, int):
        found = snapshot.by_id(asset)
        if found is None:
            ids = ", ".join(str(r.asset_id) for r in snapshot.assets if r.asset_id is not None)
            unreadable = [d.message for d in snapshot.diagnostics if d.code in _REGISTRY_CODES]
            raise AssetNotFoundError(
                f"no asset has asset_id {asset} in {project.root}"
                + (f"; registered ids: {ids}" if ids else
                   f"; the registry cannot be read: {unreadable[0]}" if unreadable else
                   "; nothing is registered yet")
            )
        return found
    by_root = snapshot.by_root(normalise_root(asset))
    if by_root is not None:
        return by_root
    digits = asset.removeprefix("#")
    if digits.isdigit():
        return find_record(snapshot, int(digits), project)
    roots = [r.root for r in snapshot.assets]
    shown = ", ".join(roots[:10]) + (f" (+{len(roots) - 10} more)" if len(roots) > 10 else "")
    raise AssetNotFoundError(
        f"no asset root {asset!r} under {project.assets_dir}; expected an asset_id or a root "
        f"relative to assets/" + (f" such as: {shown}" if roots else " (the workspace is empty)")
    )


def _inputs(record: AssetRecord, root_path: Path) -> tuple[InputInfo, ...]:
    if record.declaration is None:
        return ()
    infos = []
    for role, path in record.declaration.all_inputs():
        try:
            target = resolve_inside(root_path, path)  # never follows a path out of the root
        except UnsafePathError:
            infos.append(InputInfo(role=role, path=path, exists=False, escapes_root=True))
            continue
        try:
            st = target.stat()
        except OSError:
            infos.append(InputInfo(role=role, path=path, exists=False))
            continue
        size = st.st_size if stat.S_ISREG(st.st_mode) else None
        infos.append(InputInfo(role=role, path=path, exists=True, size=size))
    return tuple(infos)


def _files(record: AssetRecord, root_path: Path) -> tuple[FileInfo, ...]:
    referenced = {DECLARATION_FILE}
    if record.declaration is not None:
        for _role, path in record.declaration.all_inputs():
            referenced.add(normalised_input(path))
    files = []
    for rel in record.files:
        try:
            size: int | None = (root_path / rel).lstat().st_size
        except OSError:
            size = None
        files.append(FileInfo(path=rel, size=size, referenced=rel in referenced))
    return tuple(files)


def _duplicates_by_root(project: Project, snapshot: WorkspaceSnapshot,
                        files: list[WorkspaceFile], hashes: HashCache,
                        token: CancellationToken, *,
                        same_size: dict[int, SameSize] | None = None
                        ) -> dict[str, list[Diagnostic]]:
    """PK202 findings of the whole workspace, by asset root (same-size groups of `files` only).
    `same_size` receives every size's files by hash, as a `WorkspaceIndex` keeps them."""
    sizes = sorted(by_size(files).items())
    groups = [group for _size, group in sizes if len(group) > 1]
    ids = {r.root: r.asset_id for r in snapshot.assets}
    by_root: dict[str, list[Diagnostic]] = {}
    duplicates = find_duplicates(project.assets_dir, groups, token, known=hashes,
                                 seen=same_size)
    if same_size is not None:
        for size, group in sizes:
            if len(group) == 1:
                same_size[size] = SameSize({}, group)  # no hash: nothing to compare it with
    hashes.save()
    for found in duplicate_diagnostics(duplicates, ids):
        if found.root is not None:
            by_root.setdefault(found.root, []).append(found)
    return by_root


def _duplicates_of(project: Project, snapshot: WorkspaceSnapshot, record: AssetRecord,
                   token: CancellationToken) -> list[Diagnostic]:
    """PK202 for this asset's files: hash only same-size groups that touch this root."""
    prefix = f"{record.root}/" if record.root else ""
    groups = [
        g for g in duplicate_candidates(list_workspace_files(project.assets_dir, token))
        if any(f.path.startswith(prefix) for f in g)
    ]
    ids = {r.root: r.asset_id for r in snapshot.assets}
    found = duplicate_diagnostics(find_duplicates(project.assets_dir, groups, token), ids)
    return [d for d in found if d.root == record.root]


def get_asset_details(
    project: Project,
    asset: int | str,
    sink: EventSink | None = None,
    token: CancellationToken | None = None,
    *,
    index: WorkspaceIndex | None = None,
) -> AssetDetails:
    """One asset by asset_id or root; raises AssetNotFoundError with what was expected.

    With `index` (the last listing's), only that asset is read, and the other assets are as the
    index saw them (packer.doctor.one_asset); the whole workspace is read when it cannot say."""
    project_id = index.project_id(project) if index is not None else project.project_id
    op = Operation(sink or NullSink(), project_id=project_id, operation="details", token=token)
    with op:
        op.progress(0, None, phase="scan", summary="Reading asset details…")
        one = read_one_asset(project, asset, index, op.token) if index is not None else None
        if one is None:
            one = _read_from_snapshot(project, asset, op.token)
        record = one.record
        root_path = project.assets_dir / record.root
        found = _cheap_findings(project.assets_dir, record, one.nested)
        found.extend(_format_findings(project, record, one))
        check = FormatCheck.CHECKED if format_applies(record) else FormatCheck.NOT_APPLICABLE
        found.extend(one.duplicates)
        decl = record.declaration
        contract = RuntimeContract(
            format=decl.output.format, codec=decl.output.codec, bank_type=decl.bank_type,
            metadata=decl.output.metadata, pipeline=decl.output.pipeline,
        ) if decl else None
        details = AssetDetails.model_validate({
            **_summary_fields(record, found, check), "contract": contract, "declaration": decl,
            "inputs": _inputs(record, root_path), "files": _files(record, root_path),
            "diagnostics": tuple(found),
        })
        errors, warnings, infos = count_by_severity(found)
        op.finish(
            EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED,
            f"{record.label()}: {counts_text(errors, warnings, infos)}",
            detail=diagnostics_detail(found, assets_checked=1),
            affected=(record.affected(),),
        )
    return details


def _read_from_snapshot(project: Project, asset: int | str, token: CancellationToken
                        ) -> OneAsset:
    snapshot = build_snapshot(project, token)
    record = find_record(snapshot, asset, project)
    duplicates = ([] if record.state is AssetState.MISSING
                  else _duplicates_of(project, snapshot, record, token))
    return OneAsset(record, snapshot.present_roots.nested(record.root), duplicates, None)


def _format_findings(project: Project, record: AssetRecord, one: OneAsset) -> list[Diagnostic]:
    """The validation cache's findings while they hold, else a validation of this asset."""
    if one.validation is not None and format_applies(record):
        known = one.validation.lookup(record.root, validation_key(record))
        if known is not None:
            return list(known)
    return format_findings(project, record)
