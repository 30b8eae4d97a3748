"""Issue 12, item 9: no action text of the Assets workspace is cut at the default window size
("Move a… folder" was the Move / Rename Folder… question's title, elided by the window manager
because the dialog was narrower than its title bar needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QComboBox, QLineEdit, QStyle, QStyleOptionComboBox
from pytestqt.qtbot import QtBot

from packer.mutations import MutationAction
from studio.panels.assets.actions import MOVE_LABEL, MOVE_TITLE, RENAME_LABEL, RENAME_TITLE
from studio.panels.prompts import TITLE_BAR_ROOM, TITLE_SCALE, text_question
from tests.studio.helpers import ScriptedPrompter, open_and_list, running_studio

LONG_ROOT = "characters/heroes/knight_of_the_northern_realm"


@pytest.mark.parametrize(("title", "label", "default"), [
    (MOVE_TITLE, MOVE_LABEL, "tiles/overworld"), (MOVE_TITLE, MOVE_LABEL, LONG_ROOT),
    (RENAME_TITLE, RENAME_LABEL, "overworld"),
])
def test_the_questions_of_the_actions_are_wide_enough_for_their_title_and_answer(
    qtbot: QtBot, title: str, label: str, default: str
) -> None:
    dialog = text_question(None, title, label, default)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    title_width = QFontMetrics(dialog.font()).horizontalAdvance(title)
    # Beside a title bar's icon and buttons, in its larger bold font, the title is whole.
    assert dialog.width() >= title_width * TITLE_SCALE + TITLE_BAR_ROOM
    field = dialog.findChild(QLineEdit)
    assert field is not None and field.text() == default
    assert field.width() >= field.fontMetrics().horizontalAdvance(default) + 8  # path whole
    dialog.reject()


def _shown_whole(combo: QComboBox) -> bool:
    """The combo's current text fits its text field (the arrow and frame take the rest)."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    return combo.fontMetrics().horizontalAdvance(combo.currentText()) <= field.width()


def test_action_buttons_show_their_whole_text_at_the_default_window_size(
    qtbot: QtBot, sample_project: Path
) -> None:
    with running_studio(ScriptedPrompter()) as app:
        window = open_and_list(qtbot, app, sample_project)
        size = QSize(1440, 870)  # the screen the Studio is shown and photographed at
        window.showNormal()
        window.resize(size)
        window.apply_default_layout(size)
        workspace = window.assets
        assert workspace.select_asset(("id", 1))
        qtbot.waitUntil(lambda: not app.pool.busy and workspace.action_panel.buttons != {},
                        timeout=10_000)
        buttons = workspace.action_panel.buttons
        assert MutationAction.RELOCATE in buttons
        qtbot.waitUntil(lambda: all(b.isVisible() for b in buttons.values()))
        for button in buttons.values():
            assert button.width() >= button.sizeHint().width(), button.text()
            assert "…" not in button.text().rstrip("…")  # never elided, only a trailing "…"
        # The glyph bank's palette choice read "As built (eac" (README screenshot).
        glyph = workspace.details.preview.glyph
        qtbot.waitUntil(glyph.palette_choice.isVisible, timeout=10_000)
        for index in range(glyph.palette_choice.count()):
            glyph.palette_choice.setCurrentIndex(index)
            assert _shown_whole(glyph.palette_choice), glyph.palette_choice.currentText()
