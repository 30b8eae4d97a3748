"""Run a plan's steps all-or-nothing: journal first, steps in order, commit, then clean up.

Every action that can fail is preceded by a call to the fault hook with the name of the point
(`journal: begin`, `journal: step 2`, `step 2: move a → b`, `journal: commit`, `cleanup`, ...),
so tests can make any one of them fail and check that nothing is left half done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from packer.files.journal import Journal
from packer.files.project import Project
from packer.files.steps import Step, run_step
from packer.lane.cancellation import CancellationToken

FaultHook = Callable[[str], None]


def _no_faults(point: str) -> None:
    return None


class ApplyFailed(Exception):
    """A step failed before the commit point; `rolled_back` says whether the undo completed."""

    def __init__(self, cause: BaseException, *, rolled_back: bool, undo_error: str | None) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.cause = cause
        self.rolled_back = rolled_back
        self.undo_error = undo_error


@dataclass
class ExecutionReport:
    steps_run: int
    cleanup_error: str | None = None  # committed, but leftovers wait for the next lock holder
    warnings: list[str] = field(default_factory=list)


def execute(
    project: Project,
    *,
    operation_id: str,
    action: str,
    steps: tuple[Step, ...],
    cleanup: tuple[str, ...] = (),
    token: CancellationToken | None = None,
    faults: FaultHook | None = None,
) -> ExecutionReport:
    """Apply `steps` (the registry write is the last one). Raises ApplyFailed after undoing."""
    hook = faults or _no_faults
    token = token or CancellationToken()
    journal = Journal(project=project, operation_id=operation_id, action=action,
                      steps=steps, cleanup=cleanup)
    completed = 0
    try:
        hook("journal: begin")
        journal.begin()
        for index, step in enumerate(journal.steps):
            token.raise_if_cancelled()
            hook(f"journal: step {index}")
            journal.mark_started(index + 1)
            hook(f"step {index}: {step.describe()}")
            run_step(project.assets_dir, step)
            completed = index + 1
        token.raise_if_cancelled()
        hook("journal: commit")
        journal.mark_committed()
    except BaseException as exc:
        undo_error = _undo(journal, completed)
        raise ApplyFailed(exc, rolled_back=undo_error is None, undo_error=undo_error) from exc
    report = ExecutionReport(steps_run=completed)
    try:
        hook("cleanup")
        journal.run_cleanup()
        hook("journal: close")
        journal.close()
    except Exception as exc:
        # The change is committed; what is left is deleted by the next holder of the lock.
        report.cleanup_error = f"{type(exc).__name__}: {exc}"
    return report


def _undo(journal: Journal, completed: int) -> str | None:
    """Undo the completed steps and drop the journal; on failure keep it for recovery."""
    try:
        journal.undo(completed)
        journal.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
