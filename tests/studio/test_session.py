"""The project session: the newest listing wins, and cancelled work does not start a rescan."""

from __future__ import annotations

import itertools
import shutil
import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from packer.doctor.one_asset import WorkspaceIndex
from packer.doctor.queries import AssetListing, get_asset_details, list_assets_indexed
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.sinks import EventSink
from studio.app import StudioApp
from studio.services import session as session_module
from studio.services.session import AssetDetailsFailed, AssetDetailsLoaded, AssetsListed
from studio.services.workers import JobInfo
from tests.studio.helpers import heard, open_and_list
from tests.studio.synthetic import make_raw_project


def test_an_older_scan_finishing_late_never_replaces_a_newer_listing(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    session = studio.session
    assert session is not None
    first_started, release = threading.Event(), threading.Event()
    calls = itertools.count()

    def scan(project: Project, sink: EventSink, token: CancellationToken
             ) -> tuple[AssetListing, WorkspaceIndex]:
        listing, index = list_assets_indexed(project, sink, token)
        if next(calls) == 0:  # the first scan is past its last cancellation check, and slow
            first_started.set()
            release.wait(30)
            return listing.model_copy(update={"assets": listing.assets[:1]}), index
        return listing, index

    monkeypatch.setattr(session_module, "list_assets_indexed", scan)
    session.refresh()
    qtbot.waitUntil(first_started.is_set)
    listed = heard(studio.bus, AssetsListed)
    session.refresh()  # F5 again: this one finishes first
    qtbot.waitUntil(lambda: bool(listed), timeout=10_000)
    release.set()
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
    assert session.listing is not None and len(session.listing.assets) == 3
    assert len(window.assets.navigator.rows()) == 3


def test_a_cancelled_build_does_not_start_a_rescan(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    assert studio.session is not None
    started = threading.Event()

    def endless_build(project: Project, sink: EventSink, token: CancellationToken) -> None:
        started.set()
        token.wait()
        token.raise_if_cancelled()

    monkeypatch.setattr(session_module, "build_in_child", endless_build)
    labels: list[str] = []

    def record(info: JobInfo) -> None:
        labels.append(info.label)

    studio.pool.job_started.connect(record)
    studio.session.build()
    qtbot.waitUntil(started.is_set)
    studio.pool.cancel_all()
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
    # Nothing changed on disk, and a rescan here would hold up what the cancel was for.
    assert not [label for label in labels if label.startswith("Scan")], labels


def test_a_project_folder_deleted_while_open_is_not_recreated_on_close(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    root = make_raw_project(tmp_path / "game").root
    window = open_and_list(qtbot, studio, root)
    # What was already written stays written: the history of the events so far is on disk
    # before the folder goes (else the journal's writer thread races the deletion below).
    studio.lane.drain_now()
    assert studio.activity_model is not None and studio.activity_model.flush_journal(timeout=10)
    shutil.rmtree(root)  # the user deletes it in the file manager
    window.rescan_action.trigger()
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
    window.close()
    studio.shutdown()
    # The window state and the Activity history are comfort: they are not worth a ghost folder
    # holding only .studio/ where the user deleted a project.
    assert not root.exists(), sorted(str(p) for p in root.rglob("*"))


def test_a_click_shows_details_while_the_build_and_background_reads_hold_every_thread(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    session = studio.session
    assert session is not None
    release = threading.Event()
    started = threading.Semaphore(0)

    def held_build(project: Project, sink: EventSink, token: CancellationToken) -> None:
        started.release()
        release.wait(30)

    def held_listing(project: Project, sink: EventSink, token: CancellationToken
                     ) -> tuple[AssetListing, WorkspaceIndex]:
        release.wait(30)
        return list_assets_indexed(project, sink, token)

    monkeypatch.setattr(session_module, "build_in_child", held_build)
    monkeypatch.setattr(session_module, "list_assets_indexed", held_listing)
    try:
        session.build()
        for _ in range(5):  # more background reads than the shared threads
            studio.pool.submit("background read", lambda sink, token: release.wait(30))
        session.refresh()
        assert started.acquire(timeout=10)
        loaded = heard(studio.bus, AssetDetailsLoaded)
        assert window.assets.select_asset(("id", 2))
        qtbot.waitUntil(lambda: bool(loaded), timeout=10_000)
        assert window.assets.shown is not None and window.assets.shown.key == ("id", 2)
    finally:
        release.set()
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)


def test_a_newer_click_cancels_the_details_read_still_running(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    session = studio.session
    assert session is not None
    first_started = threading.Event()
    cancelled: list[bool] = []

    def details(project: Project, asset: int | str, sink: EventSink,
                token: CancellationToken, *, index: WorkspaceIndex | None = None) -> object:
        if asset == 1:  # the first click's read: slow, until cancelled
            first_started.set()
            token.wait(30)
            cancelled.append(token.cancelled)
        return get_asset_details(project, asset, sink, token, index=index)

    monkeypatch.setattr(session_module, "get_asset_details", details)
    failures = heard(studio.bus, AssetDetailsFailed)
    loaded = heard(studio.bus, AssetDetailsLoaded)
    assert window.assets.select_asset(("id", 1))
    qtbot.waitUntil(first_started.is_set)
    assert window.assets.select_asset(("id", 2))
    qtbot.waitUntil(lambda: bool(loaded), timeout=10_000)
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
    assert cancelled == [True]
    assert window.assets.shown is not None and window.assets.shown.key == ("id", 2)
    assert failures == []  # the user moved on: no failure is shown for the first read
    assert not window.statusBar().currentMessage().endswith("was cancelled")


def test_a_click_reads_only_that_asset_once_the_project_is_listed(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    session = studio.session
    assert session is not None and session.index is not None
    full = get_asset_details(session.project, 2)

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("a click scanned the whole workspace")

    monkeypatch.setattr("packer.doctor.queries.build_snapshot", no_scan)
    loaded = heard(studio.bus, AssetDetailsLoaded)
    failed = heard(studio.bus, AssetDetailsFailed)
    assert window.assets.select_asset(("id", 2))
    qtbot.waitUntil(lambda: bool(loaded or failed), timeout=10_000)
    assert failed == []
    assert loaded[-1].result.details == full
