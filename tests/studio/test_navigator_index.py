"""The navigator finds a row's item by key (no search of the model), also after rows change."""

from __future__ import annotations

from dataclasses import replace

from pytestqt.qtbot import QtBot

from studio.panels.assets.navigator import KEY_ROLE, AssetNavigator, key_text
from studio.panels.assets.rows import AssetRow, RowState


def _row(asset_id: int, root: str) -> AssetRow:
    return AssetRow(key=("id", asset_id), root=root, name=root.rsplit("/", 1)[-1],
                    asset_id=asset_id, state=RowState.REGISTERED, asset_type="raw",
                    errors=0, warnings=0, infos=0)


def test_select_finds_rows_after_a_rebuild_and_after_rows_change_in_place(qtbot: QtBot) -> None:
    navigator = AssetNavigator()
    qtbot.addWidget(navigator)
    rows = [_row(n, f"dir{n % 3}/a{n}") for n in range(1, 40)]
    navigator.set_rows(rows)
    for row in rows:
        assert navigator.select(row.key)
        current = navigator.tree.currentIndex()
        assert current.data(KEY_ROLE) == key_text(row.key)
        assert current.data() == row.title
    changed = replace(rows[7], name="renamed", errors=2)
    navigator.update_rows([changed])  # the item is replaced in place
    assert navigator.select(changed.key)
    assert navigator.tree.currentIndex().data() == changed.title
    navigator.replace_rows([rows[3].key], [])  # a removed row is no longer found
    assert not navigator.select(rows[3].key)
    assert navigator.select(rows[4].key)
