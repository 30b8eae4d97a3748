"""Doctor: everything wrong with a project, classed structural (blocking) or hygiene (advisory).

By default doctor checks the registered world: workspace-level problems (the registry), the
structural findings of every registered asset (missing and quarantined ones included) and the
format validation of each registered asset whose declaration is valid. `workspace=True` adds the
unregistered assets' findings and the hygiene scan of the whole `assets/` folder.

Only errors of the build set (registered and included, as the build selects it) and of the
workspace itself make the report blocking: an excluded, quarantined or unregistered asset is never
built, so its errors are reported (severity `error`) but block nothing, and doctor and build agree.
Format validation results are kept in the validation cache (packer.doctor.validation_cache), so an
asset is validated again only when its asset.json, an input or the packer changed.

`fix=True` applies only fixes that cannot lose data (see docs/diagnostics.md), then checks the
project again so the report describes the state after the fixes.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from packer.diagnostics import Diagnostic, count_by_severity, counts_text, plural
from packer.doctor.hash_cache import load_hash_cache
from packer.doctor.hygiene import (
    duplicate_candidates,
    duplicate_diagnostics,
    find_duplicates,
    record_hygiene,
    stale_staging,
    workspace_files_of_walk,
)
from packer.doctor.validation_cache import (
    ValidationCache,
    load_validation_cache,
    now_ns,
    validation_key,
)
from packer.files.atomic import atomic_write_bytes
from packer.files.declaration import DECLARATION_FILE
from packer.files.lock import write_lock
from packer.files.project import Project
from packer.files.safe_read import MAX_DECLARATION_BYTES, read_regular
from packer.formats import validate_format
from packer.lane.cancellation import CancellationToken
from packer.lane.events import AffectedAsset, AssetChangedDetail, EventKind, Outcome
from packer.lane.operation import Operation
from packer.lane.sinks import EventSink, NullSink
from packer.workspace.scan import (
    AssetRecord,
    AssetState,
    WorkspaceSnapshot,
    build_snapshot_with_walk,
    diagnostics_detail,
)
from packer.workspace.walk import Walk

# The only codes `fix=True` repairs (docs/diagnostics.md lists them; a test keeps both in step).
AUTO_FIXABLE_CODES = frozenset({"PK109", "PK208"})

# A pipeline is not run when the declaration's contract is wrong: it would only repeat the problem.
_SKIP_FORMAT_CODES = frozenset({"PK108"})


class AppliedFix(BaseModel):
    """One fix doctor applied (`doctor --fix`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    description: str
    root: str | None = None
    file: str | None = None


class DoctorReport(BaseModel):
    """What doctor found. `diagnostics`: workspace-level first, then per asset in snapshot order
    (registered by asset_id, then the others by root)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_id: str
    workspace: bool
    assets_checked: int
    diagnostics: tuple[Diagnostic, ...]
    errors: int
    warnings: int
    infos: int
    blocking: bool  # an error in the build set or the workspace: a build would be blocked
    blocking_count: int
    fixes: tuple[AppliedFix, ...] = ()

    @property
    def outcome(self) -> Outcome:
        return Outcome.BLOCKED if self.blocking else Outcome.SUCCEEDED


def _in_registered_world(record: AssetRecord) -> bool:
    return record.state is not AssetState.UNREGISTERED


def blocks_build(record: AssetRecord) -> bool:
    """Whether this asset's errors block a build: it is in the build set (registered and
    included; a missing one too), exactly what the build selects (packer.build.check.select).
    An excluded, quarantined or unregistered asset is never built, so its errors are reported
    but block nothing (docs/diagnostics.md, "What blocks a build")."""
    return record.asset_id is not None and record.included_in_build


def format_applies(record: AssetRecord) -> bool:
    """Whether the asset's format can be validated: a valid declaration on disk whose output
    contract is not already wrong (a pipeline would only repeat that problem)."""
    if record.declaration is None or record.state in (AssetState.QUARANTINED,
                                                      AssetState.MISSING):
        return False
    return not any(d.code in _SKIP_FORMAT_CODES for d in record.diagnostics)


def format_findings(project: Project, record: AssetRecord) -> list[Diagnostic]:
    """The format pipeline's own findings, for an asset whose declaration is valid."""
    decl = record.declaration
    if decl is None or not format_applies(record):
        return []
    return validate_format(
        decl, project.assets_dir / record.root, root=record.root, asset_id=record.asset_id
    )


def cached_format_findings(project: Project, record: AssetRecord,
                           cache: ValidationCache) -> list[Diagnostic]:
    """format_findings, from the validation cache when its entry still holds; a fresh
    validation is stored in `cache` (the caller saves it)."""
    if not format_applies(record):
        return []
    key = validation_key(record)
    known = cache.lookup(record.root, key)
    if known is not None:
        return list(known)
    started = now_ns()
    found = format_findings(project, record)
    cache.store(record.root, key, started, found)
    return found


def save_quietly(project: Project, cache: ValidationCache) -> None:
    """Save the validation cache if the workspace exists; a cache that cannot be written
    (a read-only project) only costs time on the next run, so it never fails the command."""
    if not project.packer_dir.is_dir():
        return
    with contextlib.suppress(OSError):
        cache.save()


def _new_uuid_fixes(
    project: Project, snapshot: WorkspaceSnapshot, op: Operation
) -> list[AppliedFix]:
    """PK109: every unregistered copy sharing an asset_uuid gets a fresh one. The keeper of each
    group is its registered member (or, with none registered, the first root by path)."""
    by_uuid: dict[str, list[AssetRecord]] = {}
    for record in snapshot.assets:
        if record.declaration is not None:
            by_uuid.setdefault(record.declaration.asset_uuid, []).append(record)
    fixes = []
    for old_uuid, group in sorted(by_uuid.items()):
        if len(group) < 2:
            continue
        ordered = sorted(group, key=lambda r: (not r.registered, r.root))
        for record in ordered[1:]:
            op.check_cancelled()
            if record.registered:
                continue  # two registered roots: the user must decide, never automatic
            new_uuid = str(uuid.uuid4())
            if not _rewrite_uuid(project.assets_dir / record.root / DECLARATION_FILE,
                                 old_uuid, new_uuid):
                continue
            fix = AppliedFix(
                code="PK109", root=record.root, file=DECLARATION_FILE,
                description=f"gave {record.root} a new asset_uuid {new_uuid} (was {old_uuid}, "
                f"shared with {ordered[0].root})",
            )
            fixes.append(fix)
            op.emit(
                EventKind.ASSET_CHANGED, f"Fixed PK109: {fix.description}",
                detail=AssetChangedDetail(
                    changes=(f"asset_uuid {old_uuid} → {new_uuid}",),
                    previous_state=record.state.value, state=record.state.value,
                ),
                affected=(record.affected(),),
            )
    return fixes


def _rewrite_uuid(path: Path, old_uuid: str, new_uuid: str) -> bool:
    """Atomically replace asset_uuid in one asset.json, keeping every other key and value.

    The text is edited in place when the old uuid occurs exactly once, so formatting and key order
    survive byte for byte; otherwise the object is re-serialised in its original key order. The new
    bytes are parsed back and compared before anything is written. Returns False (nothing written)
    when the file no longer holds `old_uuid` or cannot be read.
    """
    try:
        raw = read_regular(path, follow_symlinks=False, limit=MAX_DECLARATION_BYTES)
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (OSError, ValueError, RecursionError):  # ValueError: also digits past int's limit
        return False
    if not isinstance(data, dict) or data.get("asset_uuid") != old_uuid:
        return False
    expected = {**data, "asset_uuid": new_uuid}
    quoted = f'"{old_uuid}"'
    if text.count(quoted) == 1:
        new_text = text.replace(quoted, f'"{new_uuid}"')
    else:
        new_text = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    if json.loads(new_text) != expected:
        return False
    atomic_write_bytes(path, new_text.encode("utf-8"))
    return True


def _staging_fix(project: Project, op: Operation) -> list[AppliedFix]:
    """PK208: what the next build would do first, under the build lock so that no build is
    running: roll a committed promotion forward (deleting it would leave build/ half old, half
    new) and delete abandoned staging folders (copies of an unfinished build). Nothing is lost."""
    if stale_staging(project) is None:
        return []
    from packer.build import manifest_file  # only a fix needs the build's staging and manifest
    from packer.build.buildlock import BuildRunningError, build_lock
    from packer.build.staging import pending_promotions, recover_staging

    try:
        with build_lock(project.packer_dir):
            if pending_promotions(project.build_dir):
                manifest_file.forget(project)  # build/ is about to change under the manifest
            actions = recover_staging(project.build_dir)
    except BuildRunningError:
        return []  # a build started meanwhile: the staging folder is its work in progress
    if not actions:
        return []
    fix = AppliedFix(code="PK208", file="build/.staging",
                     description="cleaned build/.staging: " + "; ".join(actions))
    op.emit(
        EventKind.ASSET_CHANGED, f"Fixed PK208: {fix.description}",
        detail=AssetChangedDetail(changes=tuple(actions)),
    )
    return [fix]


def _collect(
    project: Project, snapshot: WorkspaceSnapshot, walk: Walk, *, workspace: bool,
    op: Operation,
) -> tuple[list[Diagnostic], dict[str, list[Diagnostic]], list[AssetRecord]]:
    """Workspace-level findings, findings per asset root, and the records checked (`walk`:
    the snapshot's, whose files the duplicate check takes instead of walking again)."""
    records = [r for r in snapshot.assets if workspace or _in_registered_world(r)]
    workspace_level = [d for d in snapshot.diagnostics if workspace or d.code != "PK207"]
    candidates = []
    if workspace:
        files = workspace_files_of_walk(project.assets_dir, walk, op.token)
        candidates = duplicate_candidates(files)
    total = len(records) + sum(len(g) for g in candidates)
    done = 0
    per_asset: dict[str, list[Diagnostic]] = {}
    cache = load_validation_cache(project)
    if cache.problem is not None:
        workspace_level.append(cache.problem)
    assets_dir = project.assets_dir
    for record in records:
        op.check_cancelled()
        found = [*record.diagnostics, *cached_format_findings(project, record, cache)]
        if workspace:
            found.extend(record_hygiene(
                record, assets_dir,
                snapshot.present_roots.nested(record.root),
            ))
        per_asset[record.root] = found
        done += 1
        op.progress(done, total, unit="checks", phase="check")
    cache.keep_only({r.root for r in snapshot.assets if format_applies(r)})
    save_quietly(project, cache)
    if workspace:
        def hashed() -> None:
            nonlocal done
            done += 1
            op.progress(done, total, unit="checks", phase="hash")

        hashes = load_hash_cache(project.packer_dir)
        duplicates = find_duplicates(project.assets_dir, candidates, op.token, hashed, hashes)
        hashes.save()
        ids = {r.root: r.asset_id for r in snapshot.assets}
        for diag in duplicate_diagnostics(duplicates, ids):
            if diag.root is not None and diag.root in per_asset:
                per_asset[diag.root].append(diag)
            else:
                workspace_level.append(diag)
        staging = stale_staging(project)
        if staging is not None:
            workspace_level.append(staging)
    return workspace_level, per_asset, records


def doctor(
    project: Project,
    *,
    workspace: bool = False,
    fix: bool = False,
    sink: EventSink | None = None,
    token: CancellationToken | None = None,
) -> DoctorReport:
    """Check the project; publish progress, one `diagnostics_updated` per asset with findings and
    a terminal `diagnostics_updated` (outcome `succeeded`, or `blocked` on a blocking finding)."""
    op = Operation(sink or NullSink(), project_id=project.project_id, operation="doctor",
                   token=token)
    with op:
        op.progress(0, None, phase="scan", summary="Doctor: scanning assets/…")
        fixes: list[AppliedFix] = []
        if not fix:
            snapshot, walk = build_snapshot_with_walk(project, op.token)
        else:
            # A fix is a write: hold the project's writer lock, so no mutation or build runs
            # meanwhile (a staging folder is only stale when no build holds the lock).
            guard: contextlib.AbstractContextManager[object] = (
                write_lock(project, command="doctor --fix") if project.packer_dir.is_dir()
                else contextlib.nullcontext()
            )
            with guard:
                snapshot, walk = build_snapshot_with_walk(project, op.token)
                fixes = [*_new_uuid_fixes(project, snapshot, op), *_staging_fix(project, op)]
                if fixes:
                    snapshot, walk = build_snapshot_with_walk(project, op.token)
        workspace_level, per_asset, records = _collect(
            project, snapshot, walk, workspace=workspace, op=op
        )
        ordered = list(workspace_level)
        blocking = [d for d in workspace_level if d.blocking]
        for record in records:
            found = per_asset[record.root]
            ordered.extend(found)
            if blocks_build(record):
                blocking.extend(d for d in found if d.blocking)
            if found:
                errors, warnings, infos = count_by_severity(found)
                op.emit(
                    EventKind.DIAGNOSTICS_UPDATED,
                    f"{record.label()}: {counts_text(errors, warnings, infos)}",
                    detail=diagnostics_detail(found),
                    affected=(record.affected(),),
                )
        errors, warnings, infos = count_by_severity(ordered)
        report = DoctorReport(
            project_id=snapshot.project_id, workspace=workspace, assets_checked=len(records),
            diagnostics=tuple(ordered), errors=errors, warnings=warnings, infos=infos,
            blocking=bool(blocking), blocking_count=len(blocking), fixes=tuple(fixes),
        )
        verdict = "blocking findings" if report.blocking else "nothing blocks a build"
        op.finish(
            EventKind.DIAGNOSTICS_UPDATED,
            report.outcome,
            f"Doctor checked {plural(len(records), 'asset')}: "
            f"{counts_text(errors, warnings, infos)}; {verdict}",
            detail=diagnostics_detail(ordered, assets_checked=len(records)),
            affected=_affected(records, per_asset),
        )
    return report


def _affected(records: list[AssetRecord], per_asset: dict[str, list[Diagnostic]]
              ) -> list[AffectedAsset]:
    return [r.affected() for r in records if per_asset[r.root]]

