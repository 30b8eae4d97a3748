"""The bus is how panels hear about the project: every event on it has a subscriber, the Assets
workspace has its own bus, and each panel changes from what it hears, not from another panel."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from packer.doctor.one_asset import WorkspaceIndex
from packer.doctor.queries import AssetListing, list_assets_indexed, list_assets_report
from packer.doctor.scan_record import SCAN_RECORD_FILE
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind, Outcome
from packer.lane.operation import Operation
from packer.lane.sinks import EventSink
from studio.app import StudioApp
from studio.services import session as session_module
from studio.services.bus import PackerEventsDelivered, StudioBus, StudioEvent
from studio.services.lane_items import LaneEvent
from studio.services.session import AssetsListed
from tests.studio.helpers import open_and_list
from tests.studio.lane_events import event, finished
from tests.studio.synthetic import make_raw_project


def studio_events() -> list[type[StudioEvent]]:
    found: list[type[StudioEvent]] = []
    pending = list(StudioEvent.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        # dataclass(slots=True) makes a new class: the one its module names is the real one.
        if (cls.__module__.startswith("studio.")
                and getattr(sys.modules[cls.__module__], cls.__name__, None) is cls):
            found.append(cls)
    return found


def subscribers(buses: list[StudioBus], event_type: type[StudioEvent]) -> int:
    return sum(bus.subscriber_count(cls) for bus in buses for cls in event_type.__mro__
               if isinstance(cls, type) and issubclass(cls, StudioEvent))


def test_every_event_published_on_the_bus_has_a_subscriber(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    kinds = studio_events()
    assert {"AssetsListed", "AssetDetailsLoaded", "BuildRunning", "PackerEventsDelivered",
            "OperationProgressChanged"} <= {k.__name__ for k in kinds}
    lonely = [k.__name__ for k in kinds if not subscribers([studio.bus, studio.assets_bus], k)]
    assert lonely == []


def test_the_session_publishes_on_the_assets_workspace_bus(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    assert studio.session is not None
    assert studio.session.bus is studio.assets_bus
    assert studio.assets_bus.parent is studio.bus


def test_panels_show_what_they_hear_on_the_bus(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    game = make_raw_project(tmp_path / "game", registered=3, unregistered=0)
    window = open_and_list(qtbot, studio, game.root)
    listing = list_assets_report(game)
    # A listing heard on the Assets bus: the navigator and the status-bar counts follow.
    fewer = AssetListing(project_id=listing.project_id, assets=listing.assets[:2],
                         workspace_diagnostics=())
    studio.assets_bus.publish(AssetsListed(fewer))
    assert len(window.assets.navigator.rows()) == 2
    assert window.asset_counts.text() == "2 assets"
    # A build's terminal heard on the global bus: the run surface, the Logs and the status bar.
    ours = game.project_id
    done = finished("op-b", 2, operation="build", summary="built 3 assets", project=ours)
    started = event("op-b", 1, operation="build", project=ours)
    studio.bus.publish(PackerEventsDelivered((LaneEvent(started), LaneEvent(done))))
    assert window.run_surface.status_text == "built 3 assets"
    assert "[build] built 3 assets" in window.logs.contents()
    assert window.statusBar().currentMessage() == "built 3 assets"
    # A replayed build (a CI log) is history: the run surface keeps this project's last build.
    replayed = finished("op-r", 1, Outcome.FAILED, operation="build", summary="CI build failed",
                        project=ours)
    studio.bus.publish(PackerEventsDelivered((LaneEvent(replayed, origin="replayed"),)))
    assert window.run_surface.status_text == "built 3 assets"
    # Nor does a late build terminal of another project (the one open before).
    other = finished("op-o", 1, Outcome.FAILED, operation="build", summary="other failed",
                     project="another-project")
    studio.bus.publish(PackerEventsDelivered((LaneEvent(other),)))
    assert window.run_surface.status_text == "built 3 assets"
    assert window.statusBar().currentMessage() == "built 3 assets"


def test_the_assets_workspace_shows_its_own_progress_bar_while_a_scan_runs(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    bar = window.assets.operation_bar
    assert bar is not None and window.assets.isAncestorOf(bar)
    assert not bar.isVisible()
    release = threading.Event()

    def slow_listing(project: Project, sink: EventSink, token: CancellationToken
                     ) -> tuple[AssetListing, WorkspaceIndex]:
        with Operation(sink, project_id=project.project_id, operation="list") as op:
            op.progress(1, 3, force=True)
            release.wait(30)
            op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "listed")
        return list_assets_indexed(project)

    monkeypatch.setattr(session_module, "list_assets_indexed", slow_listing)
    assert studio.session is not None
    # No scan record: F5 takes a new baseline and lists the whole project (the slow listing).
    (studio.session.project.packer_dir / SCAN_RECORD_FILE).unlink()
    try:
        window.rescan_action.trigger()
        qtbot.waitUntil(bar.isVisible, timeout=10_000)
    finally:
        release.set()
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=10_000)
