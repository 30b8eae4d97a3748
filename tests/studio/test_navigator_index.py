"""The navigator finds a row's item by key (no search of the model), also after rows change,
and fills a big list in slices, in order and complete."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from PySide6.QtCore import QModelIndex
from pytestqt.qtbot import QtBot

from studio.panels.assets import navigator as navigator_module
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


def test_a_big_list_fills_in_slices_in_order_and_complete(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(navigator_module, "FILL_AT_ONCE", 10)  # "big" from 11 rows
    monkeypatch.setattr(navigator_module, "FILL_SLICE_S", 0.0)  # one row per slice
    navigator = AssetNavigator()
    qtbot.addWidget(navigator)
    selected: list[AssetRow | None] = []
    navigator.asset_selected.connect(selected.append)
    rows = [_row(n, f"dir{n % 7}/sub{n % 3}/a{n:03d}") for n in range(1, 200)]
    navigator.set_rows(list(reversed(rows)), select=rows[50].key)
    assert navigator.filling and len(navigator.visible_rows()) < len(rows)  # control returned
    assert selected == []
    changed = replace(rows[150], name="changed while filling")
    navigator.update_rows([changed])  # not in the tree yet: it goes in as it is now
    qtbot.waitUntil(lambda: not navigator.filling, timeout=10_000)
    expected = sorted([*rows[:150], changed, *rows[151:]], key=lambda r: r.root)
    assert navigator.visible_rows() == expected
    assert set(selected) == {rows[50]} and navigator.select(rows[50].key)  # at the end only
    assert navigator.tree.isExpanded(navigator.model.index(0, 0))
    assert navigator.count_label.text() == f"{len(rows)} of {len(rows)} assets"


def test_a_new_list_during_a_fill_replaces_it(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    monkeypatch.setattr(navigator_module, "FILL_AT_ONCE", 10)
    monkeypatch.setattr(navigator_module, "FILL_SLICE_S", 0.0)
    navigator = AssetNavigator()
    qtbot.addWidget(navigator)
    navigator.set_rows([_row(n, f"old/a{n:03d}") for n in range(1, 100)])
    assert navigator.filling
    fresh = [_row(n, f"new/a{n:03d}") for n in range(100, 150)]
    navigator.set_rows(fresh)
    qtbot.waitUntil(lambda: not navigator.filling, timeout=10_000)
    assert navigator.visible_rows() == fresh  # nothing of the first list, nothing twice


def _tree(navigator: AssetNavigator) -> list[object]:
    """The tree as shown: each item's three texts, its key, whether it is open, its children."""

    def dump(parent_index: QModelIndex) -> list[object]:
        model = navigator.model
        out: list[object] = []
        for i in range(model.rowCount(parent_index)):
            index = model.index(i, 0, parent_index)
            texts = [model.index(i, c, parent_index).data() for c in range(3)]
            has_children = model.rowCount(index) > 0  # a leaf's "expanded" shows nothing
            out.append((texts, index.data(KEY_ROLE),
                        has_children and navigator.tree.isExpanded(index), dump(index)))
        return out

    return dump(QModelIndex())


def test_a_moved_renamed_or_removed_asset_changes_the_tree_as_a_rebuild_would(
    qtbot: QtBot
) -> None:
    rng = random.Random(7)
    folders = ["a", "a/b", "a-b", "c", "c/d/e", "z"]
    rows = {n: _row(n, f"{rng.choice(folders)}/r{n:02d}") for n in range(1, 60)}
    rows[60] = _row(60, "a")  # an asset named like a folder beside it
    rows[61] = _row(61, "deep/x/y/alone")  # moved out at the end: three folders go
    navigator = AssetNavigator()
    qtbot.addWidget(navigator)
    navigator.set_rows(list(rows.values()))
    for step in range(41):
        removed, changed = [], []
        n = 61 if step == 40 else rng.choice(sorted(set(rows) - {61}))
        if step == 40:
            rows[n] = replace(rows[n], root="top")
            changed.append(rows[n])
        elif step % 4 == 0:  # removed
            removed.append(rows.pop(n).key)
        elif step % 4 == 1:  # a new id for the same asset (adopted, forgotten)
            old = rows.pop(n)
            rows[100 + step] = replace(old, key=("id", 100 + step), asset_id=100 + step)
            removed.append(old.key)
            changed.append(rows[100 + step])
        else:  # moved (or renamed) to another folder, maybe a new one
            rows[n] = replace(rows[n], root=f"{rng.choice([*folders, 'new', 'a/new'])}/m{step}")
            changed.append(rows[n])
        navigator.replace_rows(removed, changed)
        fresh = AssetNavigator()
        qtbot.addWidget(fresh)
        fresh.set_rows(list(rows.values()))
        assert _tree(navigator) == _tree(fresh), step
        assert not navigator.filling
    assert navigator.count_label.text() == f"{len(rows)} of {len(rows)} assets"
