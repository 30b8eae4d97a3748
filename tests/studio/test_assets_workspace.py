"""The Assets workspace: details of each asset kind, previews, filters, identity across rescans."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from packer.files.project import Project
from studio.app import StudioApp
from studio.panels.assets.details import SECTION_TITLES, AssetDetails, ElidedLabel
from studio.panels.assets.preview import (
    FIT,
    FIT_MAX_HEIGHT,
    MAX_FIT_ZOOM,
    SHEET_MARGIN,
    fit_layout,
    fit_zoom,
    reflow_tiles,
    used_area,
)
from studio.panels.assets.rows import RowState
from studio.services.asset_key import asset_key
from studio.services.preview_data import hex_dump
from studio.shell.main_window import MainWindow
from tests.studio.helpers import ScriptedPrompter, running_studio
from tests.studio.synthetic import add_glyph_bank, add_sound_bank, make_raw_project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=1, missing=1)
    add_glyph_bank(project, "gfx/hero", tiles=3)  # id 4
    add_sound_bank(project, "sfx/beeps")  # id 5
    return project


@pytest.fixture
def studio(qtbot: QtBot, project: Project) -> Iterator[StudioApp]:
    with running_studio(ScriptedPrompter()) as app:
        with qtbot.waitSignal(app.project_opened, timeout=10_000):
            app.start(project.root)
        qtbot.waitUntil(lambda: app.window is not None
                        and len(app.window.assets.navigator.rows()) == 6)
        yield app


def window_of(app: StudioApp) -> MainWindow:
    assert app.window is not None
    return app.window


def show(qtbot: QtBot, app: StudioApp, key: tuple[str, int | str]) -> None:
    workspace = window_of(app).assets
    assert workspace.select_asset(key)
    qtbot.waitUntil(lambda: workspace.shown is not None and workspace.shown.key == key,
                    timeout=10_000)


def test_details_sections_come_in_the_documented_order(qtbot: QtBot, studio: StudioApp) -> None:
    details = window_of(studio).assets.details
    titles = [t.split(" (")[0] for t in details.section_titles()]
    assert titles == list(SECTION_TITLES)


def test_glyph_bank_details_and_its_sheet_with_palette_and_zoom(
    qtbot: QtBot, studio: StudioApp
) -> None:
    show(qtbot, studio, asset_key(4, "gfx/hero"))
    details = window_of(studio).assets.details
    assert details.summary.values["Name"].text() == "hero"
    assert details.summary.values["Asset id"].text() == "#4"
    assert details.summary.values["State"].text() == "registered"
    assert details.contract.values["Format"].text() == "GLYPH/indexed_v1"
    assert json.loads(details.contract.values["Metadata"].text()) == {"tile_size": 8}
    assert details.contract.values["Preload"].text() == "enabled"
    inputs = [details.inputs.item(i).text() for i in range(details.inputs.count())]
    assert inputs[0].startswith("tiles: 000_tile.png") and inputs[-1].startswith("palettes:")
    glyph = details.preview.glyph
    assert details.preview.currentWidget() is glyph
    assert "3 tiles of 8×8 px, 1 palette(s)" in glyph.facts.text()
    as_built = glyph.image()
    assert (as_built.width(), as_built.height()) == (3 * 8, 8)  # the used tiles, not 256×256
    assert as_built.pixelColor(0, 0).alpha() == 255  # tile 0 is opaque
    assert glyph.zoom_choice.currentData() == FIT  # by default the tiles fill the pane
    available = glyph.scroller.viewport().width() - SHEET_MARGIN
    assert glyph.zoom == fit_zoom(24, available) and 2 <= glyph.zoom <= MAX_FIT_ZOOM
    assert glyph.sheet.pixmap().width() == 24 * glyph.zoom
    glyph.palette_choice.setCurrentIndex(1)  # "Palette 0"
    by_palette = glyph.image()
    assert by_palette.format() == QImage.Format.Format_Indexed8
    assert by_palette.pixelColor(0, 0).rgb() == as_built.pixelColor(0, 0).rgb()
    glyph.zoom_choice.setCurrentIndex(glyph.zoom_choice.findData(4))
    pixmap = glyph.sheet.pixmap().toImage()
    assert (pixmap.width(), pixmap.height()) == (24 * 4, 8 * 4)
    # Nearest neighbour: each source pixel is a sharp 4×4 block.
    assert len({pixmap.pixel(x, y) for x in range(4) for y in range(4)}) == 1


def test_the_used_area_of_a_sheet_and_the_fit_zoom() -> None:
    assert used_area(3, 8) == (24, 8)
    assert used_area(12, 16) == (192, 16)
    assert used_area(40, 16) == (256, 48)  # 16 per row: three rows
    assert used_area(64, 32) == (256, 256)
    assert fit_zoom(192, 600) == 3
    assert fit_zoom(24, 2000) == MAX_FIT_ZOOM
    assert fit_zoom(256, 100) == 1  # never below 1: the pane scrolls instead


def test_sound_bank_details_show_duration_rate_channels_and_waveform(
    qtbot: QtBot, studio: StudioApp
) -> None:
    show(qtbot, studio, asset_key(5, "sfx/beeps"))
    preview = window_of(studio).assets.details.preview
    assert preview.currentWidget() is preview.sound
    facts = preview.sound.facts.text()
    assert "Duration 0.50 s" in facts and "8,000 Hz" in facts and "mono" in facts
    assert "beep (0.50 s)" in facts
    peaks = preview.sound.waveform.peaks
    assert len(peaks) > 100
    assert min(p[0] for p in peaks) == pytest.approx(-12000 / 32768)
    assert max(p[1] for p in peaks) == pytest.approx(12000 / 32768)


def test_raw_unregistered_and_missing_assets(qtbot: QtBot, studio: StudioApp) -> None:
    details = window_of(studio).assets.details
    show(qtbot, studio, asset_key(1, "raw/blob_00000"))
    assert details.preview.currentWidget() is details.preview.raw
    assert "64 bytes, stored unchanged" in details.preview.raw.facts.text()
    assert details.contract.values["Format"].text() == "RAW/bytes_v1"

    show(qtbot, studio, asset_key(None, "wip/loose_0"))
    assert details.summary.values["Asset id"].text() == "not registered"
    assert details.summary.values["State"].text() == "unregistered"
    assert details.summary.values["Included in build"].text() == "no"

    show(qtbot, studio, asset_key(3, "gone/lost_0"))
    assert details.summary.values["State"].text() == "missing"
    table = details.diagnostics
    cells = [[(item.text() if (item := table.item(r, c)) else "") for c in range(5)]
             for r in range(table.rowCount())]
    codes = [row[0] for row in cells]
    assert "PK101" in codes
    row = cells[codes.index("PK101")]
    assert row[1] == "error"
    assert row[3]  # a suggested fix is shown
    assert "missing" in details.preview.message.text()


def test_navigator_shows_identity_state_badges_and_filters(qtbot: QtBot, studio: StudioApp) -> None:
    navigator = window_of(studio).assets.navigator
    rows = {r.root: r for r in navigator.rows()}
    assert rows["gfx/hero"].title == "hero  #4"
    assert rows["wip/loose_0"].title == "loose_0  (no id)"
    assert rows["gone/lost_0"].state is RowState.MISSING and rows["gone/lost_0"].errors >= 1
    assert "✖" in rows["gone/lost_0"].badge
    # nothing validated this workspace yet: its formats are unchecked, shown neutrally, never ok
    assert rows["gfx/hero"].unchecked and rows["gfx/hero"].badge.endswith("?")
    assert not rows["gone/lost_0"].unchecked  # missing: nothing to validate

    navigator.state_filter.setCurrentIndex(navigator.state_filter.findData("unregistered"))
    assert [r.root for r in navigator.visible_rows()] == ["wip/loose_0"]
    navigator.state_filter.setCurrentIndex(0)
    navigator.type_filter.setCurrentIndex(navigator.type_filter.findData("sound_bank"))
    assert [r.root for r in navigator.visible_rows()] == ["sfx/beeps"]
    navigator.type_filter.setCurrentIndex(0)
    navigator.errors_only.setChecked(True)
    assert [r.root for r in navigator.visible_rows()] == ["gone/lost_0"]
    navigator.errors_only.setChecked(False)
    navigator.search.setText("#4")
    assert [r.root for r in navigator.visible_rows()] == ["gfx/hero"]
    navigator.search.setText("blob")
    assert len(navigator.visible_rows()) == 2
    assert navigator.count_label.text() == "2 of 6 assets"


def test_selection_follows_the_asset_identity_across_a_rescan(
    qtbot: QtBot, studio: StudioApp, project: Project
) -> None:
    show(qtbot, studio, asset_key(4, "gfx/hero"))
    # Someone relocates the asset outside the Studio: same id, new root.
    shutil.move(project.assets_dir / "gfx" / "hero", project.assets_dir / "heroes")
    registry = project.load_registry()
    project.save_registry(registry.model_copy(update={"assets": tuple(
        e.model_copy(update={"root": "heroes"}) if e.asset_id == 4 else e
        for e in registry.assets
    )}))
    workspace = window_of(studio).assets
    window_of(studio).rescan_action.trigger()
    qtbot.waitUntil(lambda: workspace.shown is not None
                    and workspace.shown.details.root == "heroes", timeout=10_000)
    assert workspace.navigator.selected_key() == ("id", 4)


def _fits_its_pane(details: AssetDetails) -> bool:
    """No part of the details is wider than the pane (nothing to scroll sideways to)."""
    body, viewport = details.widget(), details.viewport()
    assert body is not None
    if body.minimumSizeHint().width() > viewport.width() or body.width() > viewport.width():
        return False
    for widget in body.findChildren(QWidget):
        if not widget.isVisible():
            continue
        right = widget.mapTo(viewport, widget.rect().topRight()).x()
        if right > viewport.width():
            return False
    return True


def test_details_fit_the_pane_at_1440_and_stack_when_narrow(
    qtbot: QtBot, studio: StudioApp
) -> None:
    window = window_of(studio)
    window.resize(1440, 900)
    show(qtbot, studio, asset_key(4, "gfx/hero"))
    details = window.assets.details
    panel = window.assets.action_panel
    qtbot.waitUntil(lambda: _fits_its_pane(details))
    # Every action button shows its whole label.
    assert all(b.width() >= b.sizeHint().width() for b in panel.buttons.values())
    facts = details.facts
    assert facts.side_by_side == (facts.width() >= facts.needed_width())

    splitter = window.assets.splitter
    total = sum(splitter.sizes())
    splitter.setSizes([total - 340, 340])
    qtbot.waitUntil(lambda: details.width() <= 360 and _fits_its_pane(details))
    assert not facts.side_by_side  # stacked: side by side would cut both in half
    uuid = details.summary.values["UUID"]
    assert uuid.is_elided() and uuid.toolTip() == uuid.text() and len(uuid.text()) == 36
    assert all(b.width() >= b.sizeHint().width() for b in panel.buttons.values())

    window.resize(2400, 900)
    splitter.setSizes([300, 2000])
    qtbot.waitUntil(lambda: facts.side_by_side and _fits_its_pane(details))
    assert not uuid.is_elided()


def test_an_elided_value_keeps_its_whole_text(qtbot: QtBot) -> None:
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.setText("assets/a/very/long/root/that/cannot/fit/in/a/narrow/pane")
    label.show()
    label.resize(100, 20)
    assert label.is_elided() and "…" in QLabel.text(label)
    assert label.text() == label.toolTip() == (
        "assets/a/very/long/root/that/cannot/fit/in/a/narrow/pane")
    label.resize(label.sizeHint().width() + 10, 20)
    assert not label.is_elided()


def test_a_raw_asset_shows_its_first_bytes_without_a_gap(
    qtbot: QtBot, studio: StudioApp
) -> None:
    window = window_of(studio)
    window.resize(1440, 900)
    show(qtbot, studio, asset_key(2, "raw/blob_00001"))
    preview = window.assets.details.preview
    raw = preview.raw
    assert preview.currentWidget() is raw
    assert raw.facts.text().startswith("64 bytes, stored unchanged")
    lines = raw.dump.text().splitlines()
    assert len(lines) == -(-64 // raw.per_line)
    assert lines[0].startswith("0000  01 01 01")
    # The preview is as tall as what it shows: the hidden glyph sheet takes no room.
    qtbot.waitUntil(lambda: preview.height() <= raw.sizeHint().height() + 4)


def test_hex_dump_lines() -> None:
    assert hex_dump(b"LVL1\x00\xff", 4).splitlines() == [
        "0000  4c 56 4c 31  LVL1",
        "0004  00 ff        ..",
    ]
    assert hex_dump(b"") == ""


def test_fit_lays_the_tiles_out_to_fill_the_width() -> None:
    assert fit_layout(3, 8, 2000) == (3, MAX_FIT_ZOOM)
    assert fit_layout(14, 8, 420) == (6, 8)  # 3 rows of 64 px
    columns, zoom = fit_layout(96, 8, 430)
    assert (columns, zoom) == (13, 4)  # not the built sheet's 32-wide strip at zoom 1
    assert -(-96 // columns) * 8 * zoom <= FIT_MAX_HEIGHT
    assert fit_layout(1024, 8, 200) == (25, 1)  # too many to fit the height: zoom 1, scrolls


def test_reflowing_moves_tiles_not_pixels(qtbot: QtBot) -> None:
    sheet = QImage(3 * 8, 8, QImage.Format.Format_ARGB32)
    for index, colour in enumerate((Qt.GlobalColor.red, Qt.GlobalColor.green,
                                    Qt.GlobalColor.blue)):
        for x in range(8):
            for y in range(8):
                sheet.setPixelColor(index * 8 + x, y, colour)
    column = reflow_tiles(sheet, 3, 8, 1)
    assert (column.width(), column.height()) == (8, 24)
    assert [column.pixelColor(3, 8 * i + 3) for i in range(3)] == [
        sheet.pixelColor(8 * i + 3, 3) for i in range(3)]
    assert reflow_tiles(sheet, 3, 8, 3) is sheet  # already that layout


def test_a_pending_reveal_is_dropped_with_its_deleted_details_pane(qtbot: QtBot) -> None:
    target = QLabel("the outcome")
    details = AssetDetails(target)
    details.show()
    details.reveal(target)  # queued for the next event-loop turn
    details.close()
    details.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    # Zero-delay timers fire in the order they were started, so once this one has, the queued
    # reveal has run (pytest-qt fails the test on an exception raised in the event loop).
    later = QTimer()
    later.setSingleShot(True)
    with qtbot.waitSignal(later.timeout, timeout=5_000):
        later.start(0)
