"""The close-while-busy question follows the work while it is open."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.sinks import EventSink
from studio.panels.prompts import Prompter
from studio.services import session as session_module
from tests.studio.helpers import ScriptedPrompter, open_and_list, running_studio
from tests.studio.synthetic import make_raw_project


class Facts(QObject):
    changed = Signal(object)


def test_an_open_question_is_rewritten_when_the_facts_change(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    facts = Facts()
    state = {"text": "Build is still running. Cancel it and close?"}
    shown: list[str] = []

    def exec_(box: QMessageBox) -> int:  # the dialog is open: the work ends meanwhile
        shown.append(box.text())
        state["text"] = "The work has finished; nothing is running now. Close?"
        facts.changed.emit(None)
        shown.append(box.text())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    Prompter().confirm(None, "Work is running", state["text"],
                       live=([facts.changed], lambda: state["text"]))
    assert shown == ["Build is still running. Cancel it and close?",
                     "The work has finished; nothing is running now. Close?"]


def test_closing_while_a_build_runs_asks_and_the_question_follows_the_build(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_build(project: Project, sink: EventSink, token: CancellationToken) -> None:
        started.set()
        release.wait(30)

    monkeypatch.setattr(session_module, "build_in_child", slow_build)
    prompter = ScriptedPrompter()
    with running_studio(prompter) as studio:
        window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "game").root)
        assert studio.session is not None
        studio.session.build()
        qtbot.waitUntil(started.is_set)

        def build_ends_while_asking() -> None:
            release.set()
            qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)

        prompter.while_asking = build_ends_while_asking
        prompter.confirm_answer = False  # "Cancel": stay open
        window.close()
        [(kind, _title, text)] = prompter.asked
        assert kind == "confirm" and "still running" in text
        assert prompter.live_texts == ["The work has finished; nothing is running now. Close?"]
        assert window.isVisible()
