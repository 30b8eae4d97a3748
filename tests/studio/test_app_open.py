"""Opening projects: by argument, from the recent list, the sample copy, and by dropping folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from packer.doctor.queries import list_assets
from packer.files.project import is_project_dir, open_project
from studio.app import StudioApp
from studio.shell import sample
from studio.shell.drop import DropKind
from studio.shell.recent import load_recent, save_recent
from tests.studio.helpers import ScriptedPrompter
from tests.studio.synthetic import make_raw_project


def wait_listed(qtbot: QtBot, app: StudioApp, count: int) -> None:
    qtbot.waitUntil(
        lambda: app.window is not None and len(app.window.assets.navigator.rows()) == count
    )


def test_open_by_argument_lists_exactly_the_packers_assets(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(
        tmp_path / "game", registered=3, unregistered=2, missing=1, name="game"
    )
    expected = list_assets(project)
    with qtbot.waitSignal(studio.project_opened, timeout=10_000):
        studio.start(project.root)
    wait_listed(qtbot, studio, len(expected))
    assert studio.window is not None and studio.window.isVisible()
    rows = studio.window.assets.navigator.rows()
    assert [(r.asset_id, r.root, r.name, r.state.value) for r in rows] == [
        (a.asset_id, a.root, a.name, a.state.value) for a in expected
    ]
    assert studio.window.windowTitle().startswith("game")
    qtbot.waitUntil(lambda: load_recent() == [project.root])


def test_a_corrupt_registry_is_said_above_the_asset_list(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0)
    (project.assets_dir / ".prometeu" / "index.json").write_text("{not json")
    with qtbot.waitSignal(studio.project_opened, timeout=10_000):
        studio.start(project.root)
    wait_listed(qtbot, studio, 2)
    assert studio.window is not None
    navigator = studio.window.assets.navigator
    # Every asset now looks unregistered: without the reason, the list would mislead.
    assert navigator.workspace_problems.isVisible()
    assert "index.json is not valid" in navigator.workspace_problems.text()
    assert "Restore assets/.prometeu/index.json" in navigator.workspace_problems.text()


def test_open_from_the_recent_list(qtbot: QtBot, studio: StudioApp, tmp_path: Path) -> None:
    project = make_raw_project(tmp_path / "recent-one", registered=1, unregistered=0)
    save_recent([project.root, tmp_path / "gone"])
    studio.start(None)
    qtbot.waitUntil(lambda: studio.launcher is not None and studio.launcher.isVisible())
    assert studio.launcher is not None
    assert studio.launcher.recent.count() == 2
    # The newest is current and focused: Enter opens it, with no mouse.
    assert studio.launcher.recent.currentRow() == 0
    assert studio.launcher.focusWidget() is studio.launcher.recent
    with qtbot.waitSignal(studio.project_opened, timeout=10_000):
        QTest.keyClick(studio.launcher.recent, Qt.Key.Key_Return)
    wait_listed(qtbot, studio, 1)
    assert not studio.launcher.isVisible()


def test_a_recent_project_that_vanished_says_so_in_the_launcher(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    save_recent([tmp_path / "gone"])
    studio.start(None)
    qtbot.waitUntil(lambda: studio.launcher is not None and studio.launcher.isVisible())
    assert studio.launcher is not None
    studio.launcher.recent.itemActivated.emit(studio.launcher.recent.item(0))
    qtbot.waitUntil(lambda: "does not exist" in studio.launcher.message.text())  # type: ignore[union-attr]
    assert studio.window is None


def test_first_start_opens_a_writable_copy_of_the_sample_once(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path, studio_profile: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundled = make_raw_project(tmp_path / "bundled", registered=2, unregistered=1)
    monkeypatch.setattr(sample, "bundled_sample_project", lambda: bundled.root)
    with qtbot.waitSignal(studio.project_opened, timeout=10_000) as opened:
        studio.start(None)
    copy = opened.args[0].root
    assert copy == (studio_profile / "data" / "sample-project").resolve()
    assert copy != bundled.root and is_project_dir(copy)
    wait_listed(qtbot, studio, 3)
    marker = copy / "assets" / "mine.txt"
    marker.write_text("the user's own change")
    assert sample.writable_sample_copy() == copy  # a second start keeps the user's copy
    assert marker.exists()


def _drop(qtbot: QtBot, target: QWidget, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    assert drop.isAccepted()


def test_dropping_a_project_folder_on_the_launcher_opens_it(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "dropped", registered=2, unregistered=0)
    launcher = studio.show_launcher()
    with qtbot.waitSignal(studio.project_opened, timeout=10_000):
        _drop(qtbot, launcher, [project.root])
    wait_listed(qtbot, studio, 2)


def test_dropping_a_plain_folder_offers_to_initialise_it(
    qtbot: QtBot, studio: StudioApp, prompter: ScriptedPrompter, tmp_path: Path
) -> None:
    first = make_raw_project(tmp_path / "first", registered=1, unregistered=0)
    with qtbot.waitSignal(studio.project_opened, timeout=10_000):
        studio.start(first.root)
    wait_listed(qtbot, studio, 1)
    plain = tmp_path / "My Game"
    plain.mkdir()
    assert studio.window is not None
    prompter.confirm_answer = False
    with qtbot.waitSignal(studio.drop_decided) as decided:
        _drop(qtbot, studio.window, [plain])
    assert decided.args[0].kind is DropKind.NOT_A_PROJECT
    assert "not a PROMETEU project" in prompter.asked[-1][2]
    assert not is_project_dir(plain)  # declined: nothing written

    prompter.confirm_answer = True
    with qtbot.waitSignal(studio.project_opened, timeout=10_000) as opened:
        _drop(qtbot, studio.window, [plain])
    assert opened.args[0].root == plain.resolve()
    assert open_project(plain).name == "My Game" and open_project(plain).initialised
    wait_listed(qtbot, studio, 0)


@pytest.mark.parametrize("what", ["file", "two folders", "missing"])
def test_files_several_folders_and_missing_paths_are_refused_clearly(
    qtbot: QtBot, studio: StudioApp, prompter: ScriptedPrompter, tmp_path: Path, what: str
) -> None:
    launcher = studio.show_launcher()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "notes.txt").write_text("hi")
    paths = {
        "file": [tmp_path / "notes.txt"],
        "two folders": [tmp_path / "a", tmp_path / "b"],
        "missing": [tmp_path / "nowhere"],
    }[what]
    with qtbot.waitSignal(studio.drop_decided) as decided:
        _drop(qtbot, launcher, paths)
    decision = decided.args[0]
    assert decision.kind is DropKind.REFUSED
    expected = {"file": "is a file", "two folders": "2 items were dropped",
                "missing": "does not exist"}[what]
    assert expected in decision.message
    assert prompter.asked[-1][0] == "refuse" and expected in prompter.asked[-1][2]
    assert studio.window is None


def test_a_dropped_path_that_cannot_even_be_looked_at_is_refused_clearly(
    qtbot: QtBot, studio: StudioApp, prompter: ScriptedPrompter, tmp_path: Path
) -> None:
    launcher = studio.show_launcher()
    unreachable = tmp_path / ("x" * 300)  # stat() fails with "File name too long"
    with qtbot.waitSignal(studio.drop_decided, timeout=10_000) as decided:
        _drop(qtbot, launcher, [unreachable])
    decision = decided.args[0]
    assert decision.kind is DropKind.REFUSED and "cannot be read" in decision.message
    assert prompter.asked[-1][0] == "refuse"


def test_a_failing_job_shows_in_the_launcher_when_no_project_is_open(
    qtbot: QtBot, studio: StudioApp
) -> None:
    launcher = studio.show_launcher()

    def broken(sink: object, token: object) -> None:
        raise RuntimeError("the disk went away")

    with qtbot.waitSignal(studio.pool.job_failed, timeout=10_000):
        studio.pool.submit("Look at the dropped item", broken)
    assert "Look at the dropped item failed: the disk went away" in launcher.message.text()
