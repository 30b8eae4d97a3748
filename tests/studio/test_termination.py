"""SIGTERM / Ctrl+C end the Studio like a user's close: work cancelled, state saved, no question."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from studio.app import StudioApp
from studio.shell.dirs import CONFIG_DIR_ENV, DATA_DIR_ENV
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


STUCK_STUDIO = """
import sys, threading
from studio import __main__ as entry
from studio.app import StudioApp

never = threading.Event()

def stuck(sink, token):  # blocked as in open() on a FIFO: it never looks at its token
    print("stuck job started", flush=True)
    never.wait()

real_start = StudioApp.start

def start(self, project_path=None):
    # Once the project is open (so there is a window state to save), a read gets stuck.
    self.project_opened.connect(lambda project: self.pool.submit("Stuck read", stuck))
    real_start(self, project_path)

StudioApp.start = start
sys.exit(entry.main([sys.argv[1]]))
"""


def test_sigterm_closes_the_studio_even_while_a_worker_is_stuck(tmp_path: Path) -> None:
    root = make_raw_project(tmp_path / "p").root
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", CONFIG_DIR_ENV: str(tmp_path / "c"),
           DATA_DIR_ENV: str(tmp_path / "d")}
    child = subprocess.Popen([sys.executable, "-c", STUCK_STUDIO, str(root)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "stuck job started"
        child.send_signal(signal.SIGTERM)
        _out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert "did not stop when cancelled" in err and "Stuck read" in err
    assert "Traceback" not in err
    assert state_path(root).is_file()
