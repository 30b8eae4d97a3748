"""The collector policy: no full collection while packer work runs; collect and freeze at idle."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from packer.lane.cancellation import CancellationToken
from packer.lane.gcquiet import quiet_gc
from packer.lane.sinks import EventSink
from studio.app import StudioApp
from studio.services.collector import DEFERRED_THRESHOLD, SWEEP_GROWTH, CollectorPolicy
from studio.services.session import BuildRunning
from studio.services.workers import WorkerPool
from tests.studio.helpers import open_and_list
from tests.studio.synthetic import make_raw_project


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def policy(qtbot: QtBot) -> Iterator[tuple[WorkerPool, CollectorPolicy]]:
    pool = WorkerPool()
    collector = CollectorPolicy(idle_delay_ms=300)
    pool.busy_changed.connect(collector.on_busy_changed)
    yield pool, collector
    collector.release()


def test_no_full_collection_while_work_runs_then_one_at_idle(
    qtbot: QtBot, policy: tuple[WorkerPool, CollectorPolicy]
) -> None:
    pool, _collector = policy
    full: list[str] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(threading.current_thread().name)

    garbage: list[weakref.ref[Cycle]] = []
    release = threading.Event()

    def job(sink: EventSink, token: CancellationToken) -> int:
        # A working set big enough to trigger full collections under the normal thresholds,
        # and cyclic garbage that only a full collection can free.
        kept = [[i] for i in range(max(400_000, len(gc.get_objects()) // 2))]
        for _ in range(1000):
            garbage.append(weakref.ref(Cycle()))
        release.wait(10)
        return len(kept)

    gc.callbacks.append(watch)
    try:
        pool.submit("a big read", job)
        qtbot.waitUntil(lambda: len(garbage) == 1000, timeout=20_000)
        assert gc.get_threshold()[2] == DEFERRED_THRESHOLD
        assert full == [], "a full collection ran while work ran"
        release.set()
        qtbot.waitUntil(lambda: not pool.busy, timeout=20_000)
        qtbot.waitUntil(lambda: _collector.settled == 1, timeout=5_000)
    finally:
        release.set()
        gc.callbacks.remove(watch)
    assert len(full) == 1  # the idle moment's own collection
    assert all(ref() is None for ref in garbage)  # cycles made during the work are gone
    assert gc.get_threshold()[2] != DEFERRED_THRESHOLD
    assert gc.get_freeze_count() > 0
    qtbot.waitUntil(lambda: pool.active_thread_count() == 0)


def test_release_leaves_the_collector_as_it_was(qtbot: QtBot) -> None:
    normal = gc.get_threshold()
    collector = CollectorPolicy(idle_delay_ms=0)
    collector.defer()
    collector.settle()
    collector.defer()
    collector.release()
    assert gc.get_threshold() == normal
    assert gc.get_freeze_count() == 0
    collector.on_busy_changed(True)  # released: no longer applies
    assert gc.get_threshold() == normal


def test_work_that_starts_before_the_idle_delay_postpones_the_collection(
    qtbot: QtBot, policy: tuple[WorkerPool, CollectorPolicy]
) -> None:
    pool, collector = policy
    release = threading.Event()
    pool.submit("a quick read", lambda sink, token: None)
    qtbot.waitUntil(lambda: not pool.busy)
    assert [collector.pending] == [True]  # the idle collection waits for its delay
    pool.submit("the next click", lambda sink, token: release.wait(10))  # within the delay
    assert [collector.pending, collector.settled] == [False, 0]
    assert gc.get_threshold()[2] == DEFERRED_THRESHOLD
    release.set()
    qtbot.waitUntil(lambda: collector.settled == 1, timeout=5_000)
    assert gc.get_threshold()[2] != DEFERRED_THRESHOLD
    qtbot.waitUntil(lambda: pool.active_thread_count() == 0)


def test_a_build_in_the_studio_leaves_its_frozen_heap_frozen(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    """The packer's quiet_gc used to unfreeze everything at a build's end, handing the Studio's
    whole heap back to the next full collection (0.1–0.45 s at 10k)."""
    open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
    session = studio.session
    assert session is not None
    qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
    studio.collector.settle()  # the idle moment: the project's heap frozen
    frozen = gc.get_freeze_count()
    at_end: list[int] = []

    def ended(event: BuildRunning) -> None:
        if not event.running:
            at_end.append(gc.get_freeze_count())

    studio.bus.subscribe(BuildRunning, ended)
    assert session.build() is not None
    qtbot.waitUntil(lambda: bool(at_end), timeout=20_000)
    assert at_end[0] > frozen // 2 > 0


def test_an_idle_collection_sweeps_everything_once_the_frozen_heap_grew(
    qtbot: QtBot, policy: tuple[WorkerPool, CollectorPolicy]
) -> None:
    """What builds leave frozen (their cyclic garbage) is swept, but only once it adds up."""
    _pool, collector = policy
    collector.settle()  # the first idle moment: what is frozen then is the baseline

    def frozen_garbage(count: int) -> list[weakref.ref[Cycle]]:
        with quiet_gc():  # a build's leftovers: promoted, frozen, then dropped
            cycles = [Cycle() for _ in range(count)]
            gc.collect(1)
            refs = [weakref.ref(c) for c in cycles]
            del cycles
        return refs

    few = frozen_garbage(100)
    collector.settle()
    assert collector.sweeps == 0 and all(r() is not None for r in few)  # not worth a sweep
    many = frozen_garbage(int(gc.get_freeze_count() * SWEEP_GROWTH))
    collector.settle()
    assert collector.sweeps == 1
    assert all(r() is None for r in few + many)
