"""All-or-nothing: a fault at any point of any mutation leaves the registry bytes and the whole
disk tree (paths and contents) exactly as they were; a crash is undone from the journal."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

from packer.files.lock import write_lock
from packer.files.project import Project, open_project
from packer.mutations import (
    MutationAction,
    MutationOutcome,
    MutationRequest,
    apply_mutation,
    preview_mutation,
)
from packer.mutations.applier import FaultHook
from packer.workspace.scan import build_snapshot
from tests.packer.mutation_support import FaultAt, make_project, mutate, tree_state

A = MutationAction
POST_COMMIT_POINTS = {"cleanup", "journal: close"}

# action, asset, to, name, setup
SCENARIOS: list[tuple[MutationAction, int | str, str | None, str | None,
                      list[tuple[MutationAction, int]]]] = [
    (A.REGISTER, "wip/loose", None, None, []),
    (A.ADOPT, "wip/loose", None, None, []),
    (A.FORGET, 2, None, None, []),
    (A.REMOVE, 2, None, None, []),
    (A.REMOVE, "wip/loose", None, None, []),
    (A.QUARANTINE, 2, None, None, []),
    (A.RESTORE, 2, None, None, [(A.QUARANTINE, 2)]),
    (A.RESTORE, 2, "elsewhere/deep/music", None, [(A.QUARANTINE, 2)]),
    (A.RELOCATE, 2, "new/place/music", None, []),
    (A.RELOCATE, "wip/loose", "wip/renamed", None, []),
    (A.INCLUDE, 1, None, None, [(A.EXCLUDE, 1)]),
    (A.EXCLUDE, 1, None, None, []),
    (A.RENAME, 2, None, "soundtrack", []),
]
IDS = [f"{s[0].verb}-{s[1]}-{s[2]}".replace("/", "_") for s in SCENARIOS]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("template")).root


def _fresh(template: Path, where: Path, setup: list[tuple[MutationAction, int]]) -> Project:
    shutil.copytree(template, where)
    project = open_project(where)
    for action, asset in setup:
        assert mutate(project, action, asset).applied
    return project


def _request(action: MutationAction, asset: int | str, to: str | None,
             name: str | None) -> MutationRequest:
    return MutationRequest(action=action, asset=asset, to=to, name=name)


def _expected_after(template: Path, where: Path, scenario: tuple) -> dict[str, bytes | None]:  # type: ignore[type-arg]
    action, asset, to, name, setup = scenario
    project = _fresh(template, where, setup)
    preview = preview_mutation(project, _request(action, asset, to, name))
    assert apply_mutation(project, preview, consent=True).applied
    return tree_state(project)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_a_fault_at_every_point_rolls_everything_back(
    tmp_path: Path, template: Path, scenario: tuple  # type: ignore[type-arg]
) -> None:
    action, asset, to, name, setup = scenario
    after = _expected_after(template, tmp_path / "clean", scenario)
    points_seen: list[str] = []
    writes_registry = False
    for n in range(100):
        project = _fresh(template, tmp_path / f"run{n}", setup)
        preview = preview_mutation(project, _request(action, asset, to, name))
        before = tree_state(project)
        writes_registry = bool(preview.registry_changes)
        fault = FaultAt(n)
        result = apply_mutation(project, preview, consent=True, faults=fault)
        if fault.hit is None:
            assert result.applied, result.message
            assert tree_state(project) == after
            break
        points_seen.append(fault.hit)
        if fault.hit in POST_COMMIT_POINTS:
            # Committed: the change stands, the leftovers go with the next lock holder.
            assert result.applied and result.warnings, fault.hit
            with write_lock(project) as handle:
                assert handle.recovered
            assert tree_state(project) == after, fault.hit
        else:
            assert result.outcome is MutationOutcome.FAILED, fault.hit
            assert result.rolled_back and "no space left" in result.message
            assert tree_state(project) == before, f"not rolled back after a fault at {fault.hit}"
    else:
        pytest.fail("the apply never completed")
    # Every step of the plan was a fault point: the journal, each step, the commit.
    assert points_seen[0] == "journal: begin" and "journal: commit" in points_seen
    assert any(p.startswith("step ") for p in points_seen)
    assert any(p.startswith("step ") and "write .prometeu/index.json" in p
               for p in points_seen) == writes_registry


def test_undo_that_fails_too_is_finished_by_the_next_writer(
    tmp_path: Path, template: Path
) -> None:
    project = _fresh(template, tmp_path / "p", [])
    preview = preview_mutation(project, _request(A.RELOCATE, 2, "new/place/music", None))
    before = tree_state(project)
    real_rename = os.rename
    calls = {"n": 0}

    def flaky_rename(src: str | Path, dst: str | Path) -> None:
        # The forward move works; the move back (during the undo) fails once.
        calls["n"] += 1
        if calls["n"] == 2:
            raise PermissionError(13, "injected: permission denied")
        real_rename(src, dst)

    fault = FaultAt(7)  # after the move, before the registry is written
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("packer.files.steps.os.rename", flaky_rename)
        result = apply_mutation(project, preview, consent=True, faults=fault)
    assert fault.hit is not None and result.outcome is MutationOutcome.FAILED
    assert not result.rolled_back and "next change" in result.message
    assert (project.packer_dir / "journal").is_dir()
    build_snapshot(project)  # a reader finds the journal and has it recovered first
    assert tree_state(project) == before


def _crash_at(project: Project, preview_json: str, n: int) -> int:
    """Apply in a forked child that dies (os._exit, no clean-up) at fault point n."""
    with warnings.catch_warnings():
        # Python >= 3.12 warns about forking a process with threads; the child here only
        # touches files and dies, so the warning does not apply.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            from packer.mutations import MutationPreview

            def die(point: str, seen: list[str] = []) -> None:  # noqa: B006
                seen.append(point)
                if len(seen) - 1 == n:
                    os._exit(86)

            preview = MutationPreview.model_validate_json(preview_json)
            hook: FaultHook = die
            apply_mutation(project, preview, consent=True, faults=hook)
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


CRASH_SCENARIOS = [s for s in SCENARIOS if s[0] in {
    A.REMOVE, A.QUARANTINE, A.RESTORE, A.RELOCATE, A.RENAME, A.REGISTER,
}]


@pytest.mark.parametrize("scenario", CRASH_SCENARIOS,
                         ids=[f"{s[0].verb}-{s[1]}-{s[2]}".replace("/", "_")
                              for s in CRASH_SCENARIOS])
def test_a_crash_at_every_point_is_recovered_from_the_journal(
    tmp_path: Path, template: Path, scenario: tuple  # type: ignore[type-arg]
) -> None:
    action, asset, to, name, setup = scenario
    after = _expected_after(template, tmp_path / "clean", scenario)
    for n in range(100):
        project = _fresh(template, tmp_path / f"run{n}", setup)
        preview = preview_mutation(project, _request(action, asset, to, name))
        before = tree_state(project)
        code = _crash_at(project, preview.model_dump_json(), n)
        if code == 0:
            assert tree_state(project) == after
            break
        assert code == 86, f"the child failed instead of crashing at point {n}"
        journal_left = (project.packer_dir / "journal").exists()
        # Alternate the two ways recovery happens: the next writer, or the next reader.
        if n % 2:
            with write_lock(project):
                pass
        else:
            build_snapshot(project)
        assert not (project.packer_dir / "journal").exists()
        state = tree_state(project)
        assert state in (before, after), f"crash at point {n} left a torn state"
        if state == after:
            assert journal_left  # only a committed journal is rolled forward
    else:
        pytest.fail("the apply never completed")
