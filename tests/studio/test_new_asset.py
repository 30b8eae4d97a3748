"""New assets from files in the Studio: a folder dropped on the navigator (or chosen with
"New Asset…") is previewed with its declaration and diagnostics, nothing written until Apply;
applying adds the asset to the navigator and an operation to the Activity. A dropped project
folder still opens; files from outside are copied in only where the user says, on Apply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from packer.files.project import Project
from studio.app import StudioApp
from studio.shell.drop import DropKind
from studio.shell.main_window import MainWindow
from tests.studio.helpers import (
    ScriptedPrompter,
    drop_on_navigator,
    open_and_list,
    running_studio,
)
from tests.studio.synthetic import make_raw_project

RED, KEY = (255, 0, 0), (255, 0, 255)


def write_tiles(folder: Path, count: int = 3) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        image = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
        image.putpixel((2, 2), (*RED, 255))
        image.save(folder / f"{index}_tile.png")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_raw_project(tmp_path / "game", registered=1, unregistered=0)


@pytest.fixture
def studio(qtbot: QtBot, prompter: ScriptedPrompter, project: Project
           ) -> Iterator[tuple[StudioApp, MainWindow]]:
    with running_studio(prompter) as app:
        window = open_and_list(qtbot, app, project.root)
        yield app, window


def test_dropping_a_folder_of_pngs_previews_then_applying_adds_the_asset(
    qtbot: QtBot, studio: tuple[StudioApp, MainWindow], project: Project
) -> None:
    app, window = studio
    folder = project.assets_dir / "art" / "hero tiles"
    write_tiles(folder)
    palette = Image.new("RGB", (2, 1), KEY)
    palette.putpixel((1, 0), (0, 0, 255))
    palette.save(folder / "palette.png")
    drop_on_navigator(window, folder)
    dialog = window.assets.new_asset
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.preview is not None, timeout=10_000)
    body = dialog.body.text()
    assert "asset.json" in body and "&quot;type&quot;: &quot;glyph_bank&quot;" in body
    assert "Diagnostics the new asset would have" in body
    assert "PK126" in body  # the palette lacks red: said before anything is written
    assert not (folder / "asset.json").exists()
    assert dialog.apply_button.isEnabled()

    with qtbot.waitSignal(dialog.applied, timeout=10_000) as applied:
        dialog.apply_button.click()
    assert applied.args is not None and applied.args[0].applied
    assert (folder / "asset.json").is_file()
    navigator = window.assets.navigator
    qtbot.waitUntil(lambda: any(r.root == "art/hero tiles" and r.asset_id == 2
                                for r in navigator.rows()), timeout=10_000)
    assert navigator.selected_key() == ("id", 2)
    assert not dialog.isVisible()
    model = app.activity_model
    assert model is not None
    qtbot.waitUntil(lambda: "new_asset" in [r.operation for r in model.operations()],
                    timeout=10_000)
    assert "new_asset.preview" in [r.operation for r in model.operations()]


def test_settings_ask_for_a_new_preview(
    qtbot: QtBot, studio: tuple[StudioApp, MainWindow], project: Project
) -> None:
    _app, window = studio
    folder = project.assets_dir / "tiles"
    write_tiles(folder)
    drop_on_navigator(window, folder)
    dialog = window.assets.new_asset
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    assert "PK123" in dialog.body.text()  # no palette
    dialog.derive_palette.setChecked(True)
    qtbot.waitUntil(lambda: dialog.preview is not None
                    and dialog.preview.request.derive_palette, timeout=10_000)
    assert "palette.png" in dialog.body.text() and "PK123" not in dialog.body.text()
    dialog.type_choice.setCurrentIndex(dialog.type_choice.findData("sound_bank"))
    qtbot.waitUntil(lambda: dialog.preview is not None
                    and dialog.preview.request.asset_type == "sound_bank", timeout=10_000)
    assert dialog.preview is not None and dialog.preview.blocked
    assert not dialog.apply_button.isEnabled()


def test_files_from_outside_are_copied_in_only_on_apply(
    qtbot: QtBot, studio: tuple[StudioApp, MainWindow], project: Project, tmp_path: Path
) -> None:
    _app, window = studio
    outside = tmp_path / "downloads" / "boss"
    write_tiles(outside, count=2)
    drop_on_navigator(window, *sorted(outside.iterdir()))
    dialog = window.assets.new_asset
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    assert dialog.destination.isVisibleTo(dialog) and dialog.destination.text() == "boss"
    dialog.destination.setText("imported/boss")
    dialog.destination.editingFinished.emit()
    qtbot.waitUntil(lambda: dialog.preview is not None
                    and dialog.preview.request.asset == "imported/boss", timeout=10_000)
    assert "copy " in dialog.body.text()
    assert not (project.assets_dir / "imported").exists()
    with qtbot.waitSignal(dialog.applied, timeout=10_000):
        dialog.apply_button.click()
    assert sorted(p.name for p in (project.assets_dir / "imported/boss").iterdir()) == [
        "0_tile.png", "1_tile.png", "asset.json"]
    qtbot.waitUntil(lambda: any(r.root == "imported/boss"
                                for r in window.assets.navigator.rows()), timeout=10_000)


def test_a_project_folder_dropped_on_the_navigator_still_opens(
    qtbot: QtBot, studio: tuple[StudioApp, MainWindow], tmp_path: Path
) -> None:
    app, window = studio
    other = make_raw_project(tmp_path / "other", registered=0, unregistered=1, name="other")
    with qtbot.waitSignal(app.project_opened, timeout=10_000) as opened:
        drop_on_navigator(window, other.root)
    assert opened.args is not None and opened.args[0].root == other.root
    assert not window.assets.new_asset.isVisible()


def test_new_asset_from_the_menu_and_the_context_menu(
    qtbot: QtBot, studio: tuple[StudioApp, MainWindow], project: Project,
    prompter: ScriptedPrompter,
) -> None:
    _app, window = studio
    folder = project.assets_dir / "data"
    folder.mkdir()
    (folder / "level.bin").write_bytes(b"\x01")
    assert window.assets.navigator.new_asset_action in window.assets.navigator.tree.actions()
    prompter.folder = folder
    window.new_asset_action.trigger()
    dialog = window.assets.new_asset
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    assert dialog.preview is not None
    assert dialog.preview.proposal is not None
    assert dialog.preview.proposal.declaration["type"] == "raw"
    assert ("folder", "Choose the folder of files for the new asset", "") in prompter.asked
    dialog.close()
    prompter.folder = project.assets_dir  # assets/ itself cannot be one asset
    window.assets.navigator.new_asset_action.trigger()
    qtbot.waitUntil(lambda: prompter.kinds().count("refuse") == 1, timeout=10_000)


def test_a_folder_of_the_project_dropped_anywhere_on_the_window_proposes_an_asset(
    qtbot: QtBot, studio: tuple[StudioApp, MainWindow], project: Project,
    prompter: ScriptedPrompter,
) -> None:
    app, window = studio
    folder = project.assets_dir / "tiles"
    write_tiles(folder)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)  # the window's own drop filter, not the navigator
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(app.drop_decided, timeout=10_000) as decided:
        QApplication.sendEvent(window, drop)
    assert decided.args is not None and decided.args[0].kind is DropKind.ASSET_FILES
    dialog = window.assets.new_asset
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    assert "confirm" not in prompter.kinds()  # never "initialise it as a new project?"


def test_the_files_with_errors_can_be_left_out(
    qtbot: QtBot, studio: tuple[StudioApp, MainWindow], project: Project
) -> None:
    _app, window = studio
    folder = project.assets_dir / "tiles"
    write_tiles(folder)
    (folder / "3_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    drop_on_navigator(window, folder)
    dialog = window.assets.new_asset
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=10_000)
    assert "PK128" in dialog.body.text() and dialog.fix_button.isVisibleTo(dialog)
    dialog.fix_button.click()
    qtbot.waitUntil(lambda: dialog.preview is not None
                    and dialog.preview.request.files is not None, timeout=10_000)
    assert dialog.preview is not None and dialog.preview.proposal is not None
    assert "3_broken.png" not in str(dialog.preview.proposal.declaration)
    assert "PK128" not in dialog.body.text()
