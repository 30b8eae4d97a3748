"""Rows changed in place (after a build's or a validation's findings): every one named is
updated wherever it sits in the folder tree, and no other row is touched."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.panels.assets.navigator import AssetNavigator
from studio.panels.assets.rows import AssetRow, RowState

MARK = Qt.ItemDataRole.UserRole + 99


def row(asset_id: int, root: str) -> AssetRow:
    return AssetRow(key=("id", asset_id), root=root, name=root.rsplit("/", 1)[-1],
                    asset_id=asset_id, state=RowState.REGISTERED, asset_type="raw",
                    errors=0, warnings=0, infos=0, unchecked=True)


def test_update_rows_changes_every_named_row_in_any_folder_and_no_other(qtbot: QtBot) -> None:
    navigator = AssetNavigator()
    qtbot.addWidget(navigator)
    rows = [row(1, "top"), row(2, "a/one"), row(3, "a/b/two"), row(4, "a/b/c/three"),
            row(5, "z/four"), row(6, "top/nested")]
    navigator.set_rows(rows)
    for asset_id in range(1, 7):
        navigator.model.itemFromIndex(navigator._index_of(("id", asset_id))).setData("x", MARK)

    updated = [replace(rows[i], errors=1, unchecked=False) for i in (1, 3, 5)]
    navigator.update_rows(updated)

    for asset_id in (2, 4, 6):
        item = navigator.model.itemFromIndex(navigator._index_of(("id", asset_id)))
        assert item.data(MARK) is None  # new items
        badge = navigator.model.itemFromIndex(
            navigator._index_of(("id", asset_id)).siblingAtColumn(2))
        assert badge.text() == "✖ 1"
        assert navigator.row_for(("id", asset_id)) in updated
    for asset_id in (1, 3, 5):
        item = navigator.model.itemFromIndex(navigator._index_of(("id", asset_id)))
        assert item.data(MARK) == "x"
    assert len(navigator.rows()) == 6
