"""SIGTERM / Ctrl+C end the Studio like a user's close: work cancelled, state saved, no question."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.app import StudioApp
from studio.shell.state import state_path
from studio.shell.termination import TerminationSignals
from tests.studio.helpers import ScriptedPrompter, open_and_list
from tests.studio.synthetic import make_raw_project
from tests.studio.test_shell import endless


@pytest.fixture
def termination(studio: StudioApp) -> Iterator[TerminationSignals]:
    watcher = TerminationSignals()
    watcher.requested.connect(studio.terminate)
    try:
        yield watcher
    finally:
        watcher.uninstall()
        watcher.deleteLater()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_termination_signal_closes_without_asking_and_keeps_the_state(
    qtbot: QtBot, studio: StudioApp, prompter: ScriptedPrompter, tmp_path: Path,
    termination: TerminationSignals, *, signum: signal.Signals,
) -> None:
    root = make_raw_project(tmp_path / "p").root
    window = open_and_list(qtbot, studio, root)
    started = threading.Event()
    with qtbot.waitSignal(studio.pool.job_failed, timeout=10_000) as failed:
        studio.pool.submit("Long job", endless(started))  # type: ignore[arg-type]
        qtbot.waitUntil(started.is_set)
        with qtbot.waitSignal(termination.requested, timeout=10_000) as requested:
            os.kill(os.getpid(), signum)  # the handler only notes it; the GUI thread acts
        assert requested.args == [signum.name]
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert failed.args[0].cancelled  # the running work was cancelled, not abandoned
    assert "confirm" not in prompter.kinds()
    assert studio.pool.active_thread_count() == 0
    qtbot.waitUntil(lambda: state_path(root).is_file(), timeout=10_000)


def test_uninstall_gives_the_previous_handlers_back(studio: StudioApp) -> None:
    before = signal.getsignal(signal.SIGTERM)
    watcher = TerminationSignals()
    assert signal.getsignal(signal.SIGTERM) is not before
    watcher.uninstall()
    watcher.deleteLater()
    assert signal.getsignal(signal.SIGTERM) is before
