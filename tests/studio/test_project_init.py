"""Creating a project from the Studio runs the packer's `init`, whose events show in the new
project's Activity like any other operation."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from packer.files.initialise import init_project
from packer.lane.events import ActionAppliedDetail, EventKind, Outcome
from packer.lane.sinks import ListSink
from studio.panels.activity.records import OperationStatus
from tests.studio.helpers import ScriptedPrompter, running_studio


def test_init_project_publishes_one_init_operation(tmp_path: Path) -> None:
    sink = ListSink()
    result = init_project(tmp_path / "game", sink, create_name="game")
    [end] = sink.events
    assert end.operation == "init" and end.kind is EventKind.ACTION_APPLIED
    assert end.terminal and end.outcome is Outcome.SUCCEEDED
    assert isinstance(end.detail, ActionAppliedDetail)
    assert end.detail.changes == ("created prometeu.json",
                                  "created assets/.prometeu/index.json")
    assert end.project_id == result.registry.project_id
    again = ListSink()
    init_project(tmp_path / "game", again)
    assert again.events[0].summary == "Initialised game: already initialised"


def test_a_project_created_in_the_studio_shows_its_init_in_the_activity(
    qtbot: QtBot, tmp_path: Path
) -> None:
    prompter = ScriptedPrompter()
    prompter.folder = tmp_path / "new-game"
    prompter.text = "New Game"
    with running_studio(prompter) as studio:
        launcher = studio.show_launcher()
        with qtbot.waitSignal(studio.project_opened, timeout=10_000):
            launcher.create_requested.emit()
        model = studio.activity_model
        assert model is not None
        qtbot.waitUntil(lambda: any(r.operation == "init" for r in model.operations()),
                        timeout=10_000)
        [init] = [r for r in model.operations() if r.operation == "init"]
        assert init.status is OperationStatus.SUCCEEDED
        assert init.summary == ("Initialised New Game: created prometeu.json; "
                                "created assets/.prometeu/index.json")
        assert not model.is_foreign(init.project_id)
        qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)
