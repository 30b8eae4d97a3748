"""The exact event sequence of every mutation's preview and apply, and the refusals: consent,
blockers, stale previews. Every event names the asset it concerns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import (
    ActionAppliedDetail,
    ActionFailedDetail,
    AssetChangedDetail,
    EventKind,
    Outcome,
    PackerEvent,
    PreviewReadyDetail,
)
from packer.lane.sinks import ListSink
from packer.mutations import (
    MutationAction,
    MutationOutcome,
    MutationRequest,
    apply_mutation,
    preview_mutation,
)
from tests.packer.mutation_support import FaultAt, make_project, mutate, tree_state

A = MutationAction

# action, asset, to, name, setup, expected (previous_state, state) of asset_changed
Case = tuple[MutationAction, int | str, str | None, str | None, list[tuple[MutationAction, int]],
             tuple[str | None, str | None]]
CASES: list[Case] = [
    (A.REGISTER, "wip/loose", None, None, [], ("unregistered", "registered")),
    (A.ADOPT, "wip/loose", None, None, [], ("unregistered", "registered")),
    (A.FORGET, 1, None, None, [], ("registered", "unregistered")),
    (A.REMOVE, 2, None, None, [], ("registered", None)),
    (A.QUARANTINE, 2, None, None, [], ("registered", "quarantined")),
    (A.RESTORE, 2, None, None, [(A.QUARANTINE, 2)], ("quarantined", "registered")),
    (A.RELOCATE, 1, "chars/hero", None, [], ("registered", "registered")),
    (A.INCLUDE, 1, None, None, [(A.EXCLUDE, 1)], ("registered", "registered")),
    (A.EXCLUDE, 1, None, None, [], ("registered", "registered")),
    (A.RENAME, 1, None, "player", [], ("registered", "registered")),
]
IDS = [c[0].value for c in CASES]


def _setup(project: Project, steps: list[tuple[MutationAction, int]]) -> None:
    for action, asset in steps:
        assert mutate(project, action, asset).applied


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_preview_then_apply_event_sequences(tmp_path: Path, case: Case) -> None:
    action, asset, to, name, setup, states = case
    project = make_project(tmp_path)
    _setup(project, setup)
    sink = ListSink()
    request = MutationRequest(action=action, asset=asset, to=to, name=name)
    preview = preview_mutation(project, request, sink)
    (ready,) = sink.events
    assert ready.kind is EventKind.PREVIEW_READY and ready.terminal
    assert ready.outcome is Outcome.SUCCEEDED and ready.sequence == 1
    assert ready.operation_id == preview.preview_id
    assert ready.operation == f"{action.value}.preview"
    assert isinstance(ready.detail, PreviewReadyDetail)
    assert ready.detail.action == action.value
    assert ready.detail.operation_class == preview.operation_class.value
    assert list(ready.detail.changes) == preview.change_lines()
    assert ready.affected_assets == (preview.target.affected(),)

    applied = ListSink()
    result = apply_mutation(project, preview, consent=True, sink=applied)
    assert result.applied, result.message
    events = applied.events
    assert [e.kind for e in events] == [
        EventKind.ASSET_CHANGED, EventKind.DIAGNOSTICS_UPDATED, EventKind.ACTION_APPLIED,
    ]
    assert [e.sequence for e in events] == [1, 2, 3]
    assert {e.operation_id for e in events} == {result.operation_id}
    assert {e.operation for e in events} == {action.value}
    assert [e.terminal for e in events] == [False, False, True]
    assert events[-1].outcome is Outcome.SUCCEEDED
    changed = events[0].detail
    assert isinstance(changed, AssetChangedDetail)
    assert (changed.previous_state, changed.state) == states
    done = events[-1].detail
    assert isinstance(done, ActionAppliedDetail) and done.action == action.value
    for event in events:
        assert _names_the_target(event, result.target.root, result.target.asset_id)


def _names_the_target(event: PackerEvent, root: str, asset_id: int | None) -> bool:
    assert event.affected_assets, f"{event.kind} names no asset"
    return any(a.root == root or (asset_id is not None and a.asset_id == asset_id)
               for a in event.affected_assets)


def test_blocked_preview_ends_blocked_and_its_apply_is_refused(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    sink = ListSink()
    preview = preview_mutation(project, MutationRequest(action=A.FORGET, asset=99), sink)
    assert sink.events[-1].outcome is Outcome.BLOCKED
    assert sink.events[-1].summary.startswith("Preview of forget 99: blocked")
    applied = ListSink()
    result = apply_mutation(project, preview, sink=applied)
    assert result.outcome is MutationOutcome.REFUSED and result.error_type == "Blocked"
    assert [e.kind for e in applied.events] == [EventKind.ACTION_FAILED]
    assert applied.events[0].outcome is Outcome.BLOCKED


@pytest.mark.parametrize("action", [A.REMOVE, A.QUARANTINE, A.RELOCATE])
def test_moving_and_destructive_applies_need_consent(
    tmp_path: Path, action: MutationAction
) -> None:
    project = make_project(tmp_path)
    before = tree_state(project)
    preview = preview_mutation(project, MutationRequest(
        action=action, asset=1, to="chars/hero" if action is A.RELOCATE else None))
    assert preview.consent_required
    sink = ListSink()
    result = apply_mutation(project, preview, sink=sink)
    assert result.outcome is MutationOutcome.REFUSED and result.error_type == "ConsentRequired"
    assert "needs explicit consent" in result.message
    (event,) = sink.events
    assert event.kind is EventKind.ACTION_FAILED and event.outcome is Outcome.BLOCKED
    assert isinstance(event.detail, ActionFailedDetail)
    assert event.detail.error_type == "ConsentRequired"
    assert event.affected_assets[0].asset_id == 1
    assert tree_state(project) == before
    assert apply_mutation(project, preview, consent=True).applied


def _touch_registry(project: Project) -> None:
    assert mutate(project, A.EXCLUDE, 2).applied


def _add_file(project: Project) -> None:
    (project.assets_dir / "sprites/hero/new.png").write_bytes(b"new")


def _edit_anchor(project: Project) -> None:
    anchor = project.assets_dir / "sprites/hero/asset.json"
    anchor.write_text(anchor.read_text(encoding="utf-8").replace('"hero"', '"hero2"'),
                      encoding="utf-8")


def _create_destination(project: Project) -> None:
    (project.assets_dir / "chars/hero").mkdir(parents=True)


StaleCase = tuple[MutationAction, str | None, str | None, Callable[[Project], None], str]
STALE_CASES: list[StaleCase] = [
    (A.EXCLUDE, None, None, _touch_registry, "the registry"),
    (A.REMOVE, None, None, _add_file, "assets/sprites/hero"),
    (A.RENAME, None, "player", _edit_anchor, "assets/sprites/hero/asset.json"),
    (A.RELOCATE, "chars/hero", None, _create_destination, "assets/chars/hero"),
    (A.QUARANTINE, None, None, _add_file, "assets/sprites/hero"),
]


@pytest.mark.parametrize("case", STALE_CASES, ids=[c[0].value for c in STALE_CASES])
def test_a_stale_preview_is_refused_and_nothing_changes(tmp_path: Path, case: StaleCase) -> None:
    action, to, name, change, named = case
    project = make_project(tmp_path)
    preview = preview_mutation(project, MutationRequest(action=action, asset=1, to=to, name=name))
    change(project)
    before = tree_state(project)
    sink = ListSink()
    result = apply_mutation(project, preview, consent=True, sink=sink)
    assert result.outcome is MutationOutcome.REFUSED and result.error_type == "StalePreview"
    assert "stale" in result.message and named in result.message
    assert [e.kind for e in sink.events] == [EventKind.ACTION_FAILED]
    assert sink.events[0].outcome is Outcome.BLOCKED
    assert tree_state(project) == before
    fresh = preview_mutation(project, preview.request)
    if not fresh.blocked:
        assert apply_mutation(project, fresh, consent=True).applied


def test_a_preview_from_another_project_is_stale(tmp_path: Path) -> None:
    first = make_project(tmp_path / "a")
    second = make_project(tmp_path / "b")
    preview = preview_mutation(first, MutationRequest(action=A.EXCLUDE, asset=1))
    result = apply_mutation(second, preview)
    assert result.error_type == "StalePreview"


def test_nothing_to_change_applies_with_only_the_terminal(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    preview = preview_mutation(project, MutationRequest(action=A.INCLUDE, asset=1))
    sink = ListSink()
    result = apply_mutation(project, preview, sink=sink)
    assert result.applied and result.changes == ("nothing to change",)
    assert [e.kind for e in sink.events] == [EventKind.ACTION_APPLIED]


def test_a_failed_apply_reports_action_failed_with_the_cause(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    preview = preview_mutation(project, MutationRequest(action=A.RELOCATE, asset=1,
                                                        to="chars/hero"))
    sink = ListSink()
    result = apply_mutation(project, preview, consent=True, sink=sink, faults=FaultAt(5))
    assert result.outcome is MutationOutcome.FAILED and result.rolled_back
    (event,) = sink.events
    assert event.kind is EventKind.ACTION_FAILED and event.outcome is Outcome.FAILED
    assert isinstance(event.detail, ActionFailedDetail)
    assert "no space left on device" in event.detail.error
    assert "rolled back" in event.summary
    assert event.affected_assets[0].asset_id == 1


def test_a_cancelled_apply_changes_nothing(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    preview = preview_mutation(project, MutationRequest(action=A.REMOVE, asset=1))
    before = tree_state(project)
    token = CancellationToken()

    def cancel_midway(point: str) -> None:
        if point.startswith("step 1"):
            token.cancel()

    sink = ListSink()
    result = apply_mutation(project, preview, consent=True, sink=sink, token=token,
                            faults=cancel_midway)
    assert result.outcome is MutationOutcome.CANCELLED
    assert sink.events[-1].outcome is Outcome.CANCELLED
    assert tree_state(project) == before
