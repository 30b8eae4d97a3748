"""Studio test fixtures: a throwaway user profile, and no leaked workers or windows.

Every test gets its own data and config folders (so nothing touches the real user's), and fails
if it leaves a worker job, an Activity history writer or a top-level widget alive once pytest-qt
has closed its own.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from studio.app import StudioApp
from studio.panels.activity.journal import ActivityJournal
from studio.panels.activity.journal_writer import THREAD_NAME as JOURNAL_WRITER_THREAD
from studio.panels.activity.journal_writer import JournalWriter
from studio.services import workers
from studio.shell.dirs import CONFIG_DIR_ENV, DATA_DIR_ENV, bundled_sample_project
from tests.studio.helpers import ScriptedPrompter, running_studio


@pytest.fixture(autouse=True)
def studio_profile(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    profile = tmp_path_factory.mktemp("studio-profile")
    monkeypatch.setenv(DATA_DIR_ENV, str(profile / "data"))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(profile / "config"))
    return profile


@pytest.fixture(autouse=True)
def no_leaked_workers_or_windows(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    pools: list[workers.WorkerPool] = []
    original_init = workers.WorkerPool.__init__

    def tracking_init(self: workers.WorkerPool, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        pools.append(self)

    monkeypatch.setattr(workers.WorkerPool, "__init__", tracking_init)
    before = {id(w) for w in QApplication.topLevelWidgets()}
    yield
    for pool in pools:
        try:
            running = pool.active_thread_count()
        except RuntimeError:  # the pool's C++ side is gone, so were its threads
            continue
        assert running == 0, f"a test left {running} worker thread(s) running"
    writers = [t for t in threading.enumerate() if t.name == JOURNAL_WRITER_THREAD]
    assert not writers, "a test left an Activity history writer running (close it)"
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    leaked = [w for w in QApplication.topLevelWidgets() if id(w) not in before]
    for widget in leaked:
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not leaked, f"a test left top-level widgets alive: {leaked}"


@pytest.fixture
def journal_writer() -> Iterator[Callable[[Path], JournalWriter]]:
    """Makes history writers for a path; every one is closed (flushed, joined) at the end."""
    made: list[JournalWriter] = []

    def make(path: Path) -> JournalWriter:
        writer = JournalWriter(ActivityJournal(path))
        made.append(writer)
        return writer

    yield make
    for writer in made:
        writer.close()


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    """A private copy of the bundled sample project."""
    target = tmp_path / "sample"
    shutil.copytree(
        bundled_sample_project(), target, ignore=shutil.ignore_patterns("build", ".studio")
    )
    return target


@pytest.fixture
def prompter() -> ScriptedPrompter:
    """Answers the Studio's questions from a script instead of a modal dialog."""
    return ScriptedPrompter()


@pytest.fixture
def studio(prompter: ScriptedPrompter) -> Iterator[StudioApp]:
    """A running Studio (no window yet); test modules may override it with their own."""
    with running_studio(prompter) as app:
        yield app
