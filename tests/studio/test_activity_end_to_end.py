"""Real packer operations on the sample project, run by the worker pool, drive the Activity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from packer.build.runner import build
from packer.doctor.service import doctor
from packer.files.project import open_project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import AffectedAsset, EventKind
from packer.lane.sinks import EventSink
from packer.mutations.model import MutationAction, MutationRequest
from packer.mutations.service import apply_mutation, preview_mutation
from packer.workspace.scan import scan_workspace
from studio.panels.activity.journal import ActivityJournal, journal_path
from studio.panels.activity.journal_writer import JournalWriter
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import ActivityPanel
from studio.panels.activity.records import EventNode, GroupNode, OperationStatus
from studio.services.event_lane import EventLane
from studio.services.workers import JobClass, WorkerPool


def test_scan_doctor_mutation_and_build_land_in_the_panel(
    qtbot: QtBot, sample_project: Path, journal_writer: Callable[[Path], JournalWriter]
) -> None:
    project = open_project(sample_project)
    lane = EventLane()
    writer = journal_writer(journal_path(project.root))
    model = ActivityModel(writer)
    lane.events_delivered.connect(model.apply)
    panel = ActivityPanel(model)
    qtbot.addWidget(panel)
    pool = WorkerPool(lane)

    def run(label: str, job: object, job_class: JobClass = JobClass.READ) -> None:
        done: list[object] = []
        pool.submit(label, job, job_class=job_class,  # type: ignore[arg-type]
                    on_result=done.append, on_failure=done.append)
        qtbot.waitUntil(lambda: bool(done) and not pool.busy and lane.is_idle(), timeout=30_000)

    def exclude(sink: EventSink, token: CancellationToken) -> object:
        request = MutationRequest(action=MutationAction.EXCLUDE, asset=4)
        preview = preview_mutation(project, request, sink, token)
        return apply_mutation(project, preview, consent=True, sink=sink, token=token)

    run("Scan", lambda sink, token: scan_workspace(project, sink, token))
    run("Doctor", lambda sink, token: doctor(project, workspace=True, sink=sink, token=token))
    run("Exclude", exclude, JobClass.WRITE)
    run("Build", lambda sink, token: build(project, sink, token), JobClass.WRITE)

    operations = [rec.operation for rec in model.operations()]
    assert operations == [
        "build", "exclude_asset", "exclude_asset.preview", "doctor", "scan"
    ]  # newest first, one row per operation
    by_name = {rec.operation: rec for rec in model.operations()}
    assert not model.running_operations()  # every operation visibly ended
    assert by_name["build"].status is OperationStatus.SUCCEEDED
    assert by_name["build"].terminal is not None
    assert by_name["build"].terminal.event.kind is EventKind.BUILD_FINISHED
    assert by_name["exclude_asset"].status is OperationStatus.SUCCEEDED
    scan = by_name["scan"]
    assert scan.assets and scan.events_total >= len(scan.assets)
    assert all(not rec.terminal.made_by_lane for rec in model.operations() if rec.terminal)

    # The panel shows it: expand the scan, open its discoveries, follow an asset link.
    assert panel.select_operation(scan.operation_id)
    op_index = panel.view.currentIndex()
    panel.view.expand(op_index)
    shown = panel.view.model()
    first = shown.index(0, 0, op_index)
    group = model.node(first)
    assert isinstance(group, GroupNode) and group.kind is EventKind.ASSET_DISCOVERED
    panel.view.expand(first)
    event_index = shown.index(0, 0, first)
    panel.select_index(event_index)
    node = panel.selected_node()
    assert isinstance(node, EventNode) and node.item.event.affected_assets
    with qtbot.waitSignal(panel.asset_link_activated) as blocker:
        panel.inspection.activate_asset(0)
    linked = blocker.args[0]
    assert isinstance(linked, AffectedAsset) and linked == node.item.event.affected_assets[0]

    # And the history on disk restores the same timeline.
    writer.close()
    restored = ActivityModel()
    restored.restore(ActivityJournal(journal_path(project.root)).load())
    assert [rec.operation for rec in restored.operations()] == operations
    assert [rec.status for rec in restored.operations()] == [
        rec.status for rec in model.operations()
    ]
