"""preview_mutation and apply_mutation: the two public steps of every mutation, with their events.

A preview is its own operation, ending with the terminal `preview_ready`. An apply is another
operation: on success `asset_changed`, `diagnostics_updated`, then the terminal `action_applied`;
when it is refused or fails, only the terminal `action_failed` (see docs/mutations.md).
"""

from __future__ import annotations

from collections.abc import Callable

from packer.errors import PackerError
from packer.files.journal import RecoveryError
from packer.files.lock import LockHeldError, read_lock, write_lock
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken, OperationCancelled
from packer.lane.events import (
    ActionAppliedDetail,
    ActionFailedDetail,
    AffectedAsset,
    AssetChangedDetail,
    AssetDiscoveredDetail,
    EventKind,
    Outcome,
    PreviewReadyDetail,
)
from packer.lane.operation import Operation
from packer.lane.sinks import EventSink, NullSink
from packer.mutations.applier import ApplyFailed, FaultHook, execute
from packer.mutations.fingerprint import describe_differences, fingerprint
from packer.mutations.model import (
    DEFAULT_LOCK_TIMEOUT_S,
    AssetIdentity,
    MutationAction,
    MutationOutcome,
    MutationPreview,
    MutationRequest,
    MutationResult,
)
from packer.mutations.plan_new import plan_new
from packer.mutations.plan_registry import plan_forget, plan_include, plan_register
from packer.mutations.plan_rename import plan_rename
from packer.mutations.plan_workspace import (
    plan_quarantine,
    plan_relocate,
    plan_remove,
    plan_restore,
)
from packer.mutations.planning import Plan, World, to_preview
from packer.workspace import snapshot_memo
from packer.workspace.one_root import read_beside
from packer.workspace.scan import AssetRecord, WorkspaceSnapshot, build_snapshot, diagnostics_detail

Planner = Callable[[World, MutationRequest], Plan]
PLANNERS: dict[MutationAction, Planner] = {
    MutationAction.REGISTER: plan_register,
    MutationAction.ADOPT: plan_register,
    MutationAction.FORGET: plan_forget,
    MutationAction.INCLUDE: plan_include,
    MutationAction.EXCLUDE: plan_include,
    MutationAction.REMOVE: plan_remove,
    MutationAction.QUARANTINE: plan_quarantine,
    MutationAction.RESTORE: plan_restore,
    MutationAction.RELOCATE: plan_relocate,
    MutationAction.RENAME: plan_rename,
    MutationAction.NEW: plan_new,
}


def _compute(
    project: Project, request: MutationRequest, *, preview_id: str, operation_id: str,
    token: CancellationToken, lock_timeout: float | None = None,
    as_of_ns: int | None = None, remember: bool = False,
) -> tuple[Plan, World, MutationPreview]:
    # One read lock around the scan and the fingerprint: both describe the same moment.
    with read_lock(project, timeout=lock_timeout):
        snapshot = snapshot_memo.scan(project, token, remember=remember)
        world = World(project=project, snapshot=snapshot,
                      operation_id=operation_id, preview_id=preview_id, token=token)
        plan = PLANNERS[request.action](world, request)
        print_ = fingerprint(project, trees=tuple(plan.trees), files=tuple(plan.files),
                             sources=tuple(plan.sources), as_of_ns=as_of_ns)
    preview = to_preview(plan, world, request, preview_id=preview_id, fingerprint=print_)
    return plan, world, preview


def preview_mutation(
    project: Project,
    request: MutationRequest,
    sink: EventSink | None = None,
    token: CancellationToken | None = None,
    *,
    lock_timeout: float | None = None,
) -> MutationPreview:
    """Plan a mutation without changing anything; publishes `preview_ready` (its terminal).

    The outcome is `blocked` when the preview has blockers, else `succeeded`. The scan waits up
    to `lock_timeout` seconds (default: packer.files.lock's read timeout) for an apply in progress;
    past it, LockHeldError (after an `action_failed` terminal).
    """
    op = Operation(sink or NullSink(), project_id=project.project_id,
                   operation=f"{request.action.value}.preview", token=token)
    with op:
        _plan, _world, preview = _compute(
            project, request, preview_id=op.operation_id, operation_id=op.operation_id,
            token=op.token, lock_timeout=lock_timeout, remember=True,  # for its apply
        )
        lines = preview.change_lines()
        head = f"Preview of {request.action.verb} {preview.target.label()}"
        if preview.blocked:
            summary = f"{head}: blocked: {preview.blockers[0].message}"
        elif not lines:
            summary = f"{head}: nothing to change"
        else:
            summary = f"{head}: {'; '.join(lines)}"
        op.finish(
            EventKind.PREVIEW_READY, Outcome.BLOCKED if preview.blocked else Outcome.SUCCEEDED,
            summary,
            detail=PreviewReadyDetail(
                action=request.action.value, operation_class=preview.operation_class.value,
                blockers=len(preview.blockers), warnings=len(preview.warnings),
                changes=tuple(lines),
            ),
            affected=(preview.target.affected(),),
        )
    return preview


def apply_mutation(
    project: Project,
    preview: MutationPreview,
    *,
    consent: bool = False,
    sink: EventSink | None = None,
    token: CancellationToken | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
    command: str | None = None,
    faults: FaultHook | None = None,
) -> MutationResult:
    """Apply a preview all-or-nothing, under the project's write lock.

    Refused (nothing touched) when the preview has blockers, when it needs consent and `consent`
    is False, when another writer holds the lock past `lock_timeout`, or when the world changed
    since the preview (stale). A failing step rolls everything back. `faults` is for tests: it
    is called before every step with the step's name and may raise.
    """
    op = Operation(sink or NullSink(), project_id=project.project_id,
                   operation=preview.action.value, token=token)
    with op:
        verb = preview.action.verb
        if preview.blocked:
            return _refuse(op, preview, f"cannot {verb} {preview.target.label()}: "
                           f"{preview.blockers[0].message}", "Blocked")
        if preview.consent_required and not consent:
            return _refuse(op, preview, f"{verb} moves or deletes files: it needs explicit "
                           "consent (review the preview, then confirm)", "ConsentRequired")
        if op.token.cancelled:
            return _fail(op, preview, OperationCancelled("the operation was cancelled"),
                         rolled_back=True)
        try:
            with write_lock(project, timeout=lock_timeout,
                            command=command or preview.action.value) as handle:
                return _apply_locked(op, project, preview, handle.recovered, faults)
        except LockHeldError as exc:
            return _refuse(op, preview, str(exc), "LockHeld")
        except RecoveryError as exc:
            return _fail(op, preview, exc, rolled_back=False)
        except (PackerError, OperationCancelled) as exc:
            # Raised before any step ran (lock file unusable, cancelled while re-planning).
            return _fail(op, preview, exc, rolled_back=True)
    raise AssertionError("unreachable")  # pragma: no cover


def _apply_locked(
    op: Operation, project: Project, preview: MutationPreview, recovered: list[str],
    faults: FaultHook | None,
) -> MutationResult:
    plan, world, current = _compute(
        project, preview.request, preview_id=preview.preview_id, operation_id=op.operation_id,
        token=op.token, as_of_ns=preview.fingerprint.taken_at_ns,
    )
    changed = preview.fingerprint.differences(current.fingerprint)
    if changed or not current.same_changes(preview) or current.blocked:
        what = describe_differences(changed) if changed else "what the preview would change"
        return _refuse(op, preview, f"the preview is stale: {what} changed since it was made; "
                       "nothing was applied. Preview again and review the new changes.",
                       "StalePreview")
    warnings = tuple(recovered)
    if current.changes_nothing:
        return _applied(op, preview, ("nothing to change",), warnings)
    snapshot_memo.forget(project)  # whatever happens next, the workspace is not as it was
    try:
        report = execute(
            project, operation_id=op.operation_id, action=preview.action.value,
            steps=plan.all_steps(world), cleanup=tuple(plan.cleanup), token=op.token,
            faults=faults,
        )
    except ApplyFailed as failure:
        return _fail(op, preview, failure.cause, rolled_back=failure.rolled_back,
                     undo_error=failure.undo_error)
    if report.cleanup_error:
        warnings += (f"applied, but leftovers could not be deleted ({report.cleanup_error}); "
                     "the next change to this project deletes them",)
    _publish_effects(op, project, preview, plan, world.snapshot)
    return _applied(op, preview, tuple(current.change_lines()), warnings,
                    after=plan.after or preview.target)


def _record_for(snapshot: WorkspaceSnapshot | None, who: AssetIdentity) -> AssetRecord | None:
    return snapshot.by_identity(who.asset_id, who.root) if snapshot is not None else None


def _record_after(project: Project, plan: Plan, preview: MutationPreview,
                  before: WorkspaceSnapshot, old: AssetRecord | None) -> AssetRecord | None:
    """The changed asset's record as a scan would give it now. Its own folder is read again,
    the other assets taken from `before` (the apply's world: only this asset changed since,
    under the write lock), instead of scanning the workspace (≈ 0.8 s at 10k). When only a
    scan can tell (a symlink on the way, an unreadable registry, no record or one of another
    id where the plan says what it is), it scans. Not cancellable: the change is committed."""
    token = CancellationToken()
    after = plan.after
    root = after.root if after is not None else preview.target.root
    others = [r for r in before.assets if r is not old and r.root != root]
    known, record = read_beside(project, root, others, token)
    if known and (after is None or (record is not None and record.asset_id == after.asset_id)):
        return record
    snapshot = build_snapshot(project, token)
    return _record_for(snapshot, after) if after is not None else snapshot.by_root(root)


def _publish_effects(
    op: Operation, project: Project, preview: MutationPreview, plan: Plan,
    before: WorkspaceSnapshot,
) -> None:
    """`asset_changed` (`asset_discovered` for new) then `diagnostics_updated` for the asset the
    apply changed."""
    if not op.wants_events:
        return
    after_id = plan.after or preview.target
    old = _record_for(before, preview.target)
    try:
        new = _record_after(project, plan, preview, before, old)
    except Exception:  # a report, never a reason to call a committed change failed
        new = None
    affected = (new.affected() if new is not None else after_id.affected(),)
    if preview.action is MutationAction.NEW:
        op.emit(
            EventKind.ASSET_DISCOVERED,
            f"{after_id.label()} is a new asset: {'; '.join(plan.asset_changes)}",
            detail=AssetDiscoveredDetail(state=new.state.value if new else "registered",
                                         asset_type=new.asset_type if new else None),
            affected=affected,
        )
    else:
        op.emit(
            EventKind.ASSET_CHANGED,
            f"{preview.target.label()} changed: {'; '.join(plan.asset_changes)}",
            detail=AssetChangedDetail(
                changes=tuple(plan.asset_changes),
                previous_state=old.state.value if old else None,
                state=new.state.value if new else None,
            ),
            affected=affected,
        )
    found = list(new.diagnostics) if new is not None else []
    if preview.proposal is not None and new is not None:
        # A scan checks structure only; new also reports the format findings its preview showed.
        seen = {(d.code, d.message) for d in found}
        found += [d.model_copy(update={"asset_id": new.asset_id})
                  for d in preview.proposal.diagnostics if (d.code, d.message) not in seen]
    errors = sum(1 for d in found if d.blocking)
    label = new.label() if new is not None else after_id.label()
    op.emit(
        EventKind.DIAGNOSTICS_UPDATED,
        f"{label}: {errors} errors after {preview.action.verb}",
        detail=diagnostics_detail(found, assets_checked=1 if new is not None else 0),
        affected=affected,
    )


def _applied(
    op: Operation, preview: MutationPreview, changes: tuple[str, ...], warnings: tuple[str, ...],
    *, after: AssetIdentity | None = None,
) -> MutationResult:
    who = after or preview.target
    message = f"{preview.action.verb} {preview.target.label()}: " + "; ".join(changes)
    affected: tuple[AffectedAsset, ...] = (who.affected(),)
    op.finish(EventKind.ACTION_APPLIED, Outcome.SUCCEEDED, message,
              detail=ActionAppliedDetail(action=preview.action.value, changes=changes),
              affected=affected)
    return MutationResult(action=preview.action, outcome=MutationOutcome.APPLIED, message=message,
                          target=who, changes=changes, warnings=warnings,
                          operation_id=op.operation_id)


def _refuse(op: Operation, preview: MutationPreview, message: str, reason: str) -> MutationResult:
    op.finish(EventKind.ACTION_FAILED, Outcome.BLOCKED, message,
              detail=ActionFailedDetail(action=preview.action.value, error=message,
                                        error_type=reason),
              affected=(preview.target.affected(),))
    return MutationResult(action=preview.action, outcome=MutationOutcome.REFUSED, message=message,
                          target=preview.target, error_type=reason,
                          operation_id=op.operation_id)


def _fail(
    op: Operation, preview: MutationPreview, cause: BaseException, *, rolled_back: bool,
    undo_error: str | None = None,
) -> MutationResult:
    verb = preview.action.verb
    cancelled = isinstance(cause, OperationCancelled)
    reason = str(cause) or type(cause).__name__
    if cancelled:
        message = f"{verb} was cancelled; nothing was changed"
    elif isinstance(cause, PackerError) and not isinstance(cause, RecoveryError):
        message = f"cannot {verb}: {reason}"
    elif rolled_back:
        message = f"{verb} failed and was rolled back, nothing changed: {reason}"
    else:
        message = (f"{verb} failed: {reason}; undoing it also failed ({undo_error or 'see above'})"
                   "; the next change to this project finishes the rollback")
    op.finish(EventKind.ACTION_FAILED, Outcome.CANCELLED if cancelled else Outcome.FAILED,
              message,
              detail=ActionFailedDetail(action=preview.action.value, error=message,
                                        error_type=type(cause).__name__),
              affected=(preview.target.affected(),))
    return MutationResult(
        action=preview.action,
        outcome=MutationOutcome.CANCELLED if cancelled else MutationOutcome.FAILED,
        message=message, target=preview.target, error_type=type(cause).__name__,
        rolled_back=rolled_back, operation_id=op.operation_id,
    )
