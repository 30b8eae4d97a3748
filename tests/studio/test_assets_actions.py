"""Actions: every mutation goes preview (inline) → consent → apply, and the workspace follows
the packer's result; destructive actions ask again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from packer.files.project import Project
from packer.mutations import MutationAction, MutationResult, preview_mutation
from studio.panels.assets.actions import ACTIONS_BY_STATE, LABELS, TOOLTIPS, button_columns
from studio.panels.assets.rows import AssetRow, RowState
from studio.panels.assets.workspace import AssetsWorkspace
from studio.services import session as session_module
from studio.services.asset_key import asset_key
from tests.studio.helpers import ScriptedPrompter, running_studio
from tests.studio.synthetic import make_raw_project

A = MutationAction


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_raw_project(tmp_path / "game", registered=2, unregistered=1)


@pytest.fixture
def workspace(qtbot: QtBot, project: Project, prompter: ScriptedPrompter
              ) -> Iterator[AssetsWorkspace]:
    with running_studio(prompter) as app:
        with qtbot.waitSignal(app.project_opened, timeout=10_000):
            app.start(project.root)
        qtbot.waitUntil(lambda: app.window is not None
                        and len(app.window.assets.navigator.rows()) == 3)
        assert app.window is not None
        yield app.window.assets


def select(qtbot: QtBot, workspace: AssetsWorkspace, key: tuple[str, int | str]) -> None:
    assert workspace.select_asset(key)
    assert workspace.session is not None
    pool = workspace.session.pool
    qtbot.waitUntil(lambda: not pool.busy and workspace.shown is not None
                    and workspace.shown.key == key and workspace.action_panel.buttons != {},
                    timeout=10_000)


def preview_and_apply(qtbot: QtBot, workspace: AssetsWorkspace, action: MutationAction
                      ) -> MutationResult:
    panel = workspace.action_panel
    assert action in panel.buttons, f"{action} not offered: {list(panel.buttons)}"
    panel.buttons[action].click()
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=10_000)
    assert panel.preview_card.isVisibleTo(panel) and panel.apply_button.isEnabled()
    with qtbot.waitSignal(panel.applied, timeout=10_000) as applied:
        panel.apply_button.click()
    result: MutationResult = applied.args[0]
    return result


def row(workspace: AssetsWorkspace, root: str) -> AssetRow | None:
    return next((r for r in workspace.navigator.rows() if r.root == root), None)


def test_register_then_follow_the_asset_to_its_new_id(
    qtbot: QtBot, workspace: AssetsWorkspace, prompter: ScriptedPrompter
) -> None:
    select(qtbot, workspace, asset_key(None, "wip/loose_0"))
    selections: list[object] = []
    workspace.navigator.asset_selected.connect(selections.append)
    # 'Adopt', the word the packer's PK201 fix and its CLI use for registering.
    assert set(workspace.action_panel.buttons) == {A.ADOPT, A.RELOCATE, A.REMOVE}
    workspace.action_panel.buttons[A.ADOPT].click()
    qtbot.waitUntil(lambda: workspace.action_panel.preview is not None, timeout=10_000)
    text = workspace.action_panel.preview_text()
    assert "registry only" in text and "wip/loose_0" in text
    with qtbot.waitSignal(workspace.action_panel.applied, timeout=10_000) as applied:
        workspace.action_panel.apply_button.click()
    result = applied.args[0]
    assert result.applied and result.target.asset_id == 3
    assert prompter.kinds() == []  # a registry mutation needs no second question
    qtbot.waitUntil(lambda: workspace.navigator.selected_key() == ("id", 3)
                    and workspace.shown is not None and workspace.shown.key == ("id", 3),
                    timeout=10_000)
    registered = row(workspace, "wip/loose_0")
    assert registered is not None and registered.state is RowState.REGISTERED
    # Followed in one step (the details never blanked), and the outcome is still said where
    # the user clicked, and in the status bar.
    assert None not in selections
    assert workspace.action_panel.result.text() == result.message
    window = workspace.window()
    assert isinstance(window, QMainWindow)
    assert window.statusBar().currentMessage() == result.message


def test_exclude_include_and_rename(qtbot: QtBot, workspace: AssetsWorkspace,
                                    prompter: ScriptedPrompter) -> None:
    key = asset_key(1, "raw/blob_00000")
    select(qtbot, workspace, key)
    assert preview_and_apply(qtbot, workspace, A.EXCLUDE).applied
    qtbot.waitUntil(lambda: (r := row(workspace, "raw/blob_00000")) is not None
                    and r.state is RowState.EXCLUDED, timeout=10_000)
    select(qtbot, workspace, key)
    qtbot.waitUntil(lambda: A.INCLUDE in workspace.action_panel.buttons, timeout=10_000)
    assert preview_and_apply(qtbot, workspace, A.INCLUDE).applied
    qtbot.waitUntil(lambda: (r := row(workspace, "raw/blob_00000")) is not None
                    and r.state is RowState.REGISTERED, timeout=10_000)
    prompter.text = "renamed_blob"
    select(qtbot, workspace, key)
    qtbot.waitUntil(lambda: A.RENAME in workspace.action_panel.buttons, timeout=10_000)
    assert preview_and_apply(qtbot, workspace, A.RENAME).applied
    qtbot.waitUntil(lambda: (r := row(workspace, "raw/blob_00000")) is not None
                    and r.name == "renamed_blob", timeout=10_000)


def test_relocate_keeps_the_id_and_asks_for_consent(
    qtbot: QtBot, workspace: AssetsWorkspace, prompter: ScriptedPrompter, project: Project
) -> None:
    select(qtbot, workspace, asset_key(2, "raw/blob_00001"))
    prompter.text = "moved/blob"
    result = preview_and_apply(qtbot, workspace, A.RELOCATE)
    assert result.applied
    assert [k for k in prompter.kinds() if k == "confirm"] == ["confirm"]
    qtbot.waitUntil(lambda: (r := row(workspace, "moved/blob")) is not None
                    and r.asset_id == 2, timeout=10_000)
    assert (project.assets_dir / "moved" / "blob" / "asset.json").is_file()
    assert workspace.navigator.selected_key() == ("id", 2)


def test_quarantine_restore_and_forget(qtbot: QtBot, workspace: AssetsWorkspace) -> None:
    key = asset_key(1, "raw/blob_00000")
    select(qtbot, workspace, key)
    assert preview_and_apply(qtbot, workspace, A.QUARANTINE).applied
    qtbot.waitUntil(lambda: any(r.asset_id == 1 and r.state is RowState.QUARANTINED
                                for r in workspace.navigator.rows()), timeout=10_000)
    quarantined = next(r for r in workspace.navigator.rows() if r.asset_id == 1)
    select(qtbot, workspace, quarantined.key)
    qtbot.waitUntil(lambda: A.RESTORE in workspace.action_panel.buttons, timeout=10_000)
    assert preview_and_apply(qtbot, workspace, A.RESTORE).applied
    qtbot.waitUntil(lambda: any(r.asset_id == 1 and r.state is RowState.REGISTERED
                                for r in workspace.navigator.rows()), timeout=10_000)
    restored = next(r for r in workspace.navigator.rows() if r.asset_id == 1)
    select(qtbot, workspace, restored.key)
    assert preview_and_apply(qtbot, workspace, A.FORGET).applied
    qtbot.waitUntil(lambda: (r := row(workspace, restored.root)) is not None
                    and r.state is RowState.UNREGISTERED, timeout=10_000)


def test_remove_is_destructive_and_asks_again(
    qtbot: QtBot, workspace: AssetsWorkspace, prompter: ScriptedPrompter, project: Project
) -> None:
    select(qtbot, workspace, asset_key(None, "wip/loose_0"))
    panel = workspace.action_panel
    panel.buttons[A.REMOVE].click()
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=10_000)
    assert "deletes files" in panel.preview_text()
    prompter.confirm_answer = False
    panel.apply_button.click()
    assert panel.result.text() == "Not applied."
    assert prompter.kinds() == ["confirm"]
    assert (project.assets_dir / "wip" / "loose_0" / "asset.json").exists()
    prompter.confirm_answer = True
    with qtbot.waitSignal(panel.applied, timeout=10_000) as applied:
        panel.apply_button.click()
    assert applied.args[0].applied
    assert not (project.assets_dir / "wip" / "loose_0").exists()
    qtbot.waitUntil(lambda: row(workspace, "wip/loose_0") is None, timeout=10_000)


def test_a_blocked_preview_cannot_be_applied(
    qtbot: QtBot, workspace: AssetsWorkspace, prompter: ScriptedPrompter
) -> None:
    select(qtbot, workspace, asset_key(1, "raw/blob_00000"))
    prompter.text = "raw/blob_00001"  # onto another asset's root
    panel = workspace.action_panel
    panel.buttons[A.RELOCATE].click()
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=10_000)
    assert panel.preview is not None and panel.preview.blocked
    assert "Blocked" in panel.preview_text()
    assert not panel.apply_button.isEnabled()


def test_a_preview_or_apply_that_raises_says_so_in_the_actions_section(
    qtbot: QtBot, workspace: AssetsWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    select(qtbot, workspace, asset_key(1, "raw/blob_00000"))
    panel = workspace.action_panel

    def broken(*args: object, **kwargs: object) -> object:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(session_module, "preview_mutation", broken)
    panel.buttons[A.EXCLUDE].click()
    # Not stuck on "Previewing exclude…": the failure is shown where the user looks.
    qtbot.waitUntil(lambda: "Read-only file system" in panel.result.text(), timeout=10_000)
    assert "Previewing" not in panel.result.text() and panel.preview is None

    monkeypatch.setattr(session_module, "preview_mutation", preview_mutation)
    monkeypatch.setattr(session_module, "apply_mutation", broken)
    panel.buttons[A.EXCLUDE].click()
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=10_000)
    panel.apply_button.click()
    qtbot.waitUntil(lambda: "Read-only file system" in panel.result.text(), timeout=10_000)
    # No preview card left with a disabled Apply: the user previews again to retry.
    assert panel.preview is None and not panel.preview_card.isVisibleTo(panel)


def test_a_preview_scrolls_into_view_as_a_card_with_its_buttons(
    qtbot: QtBot, workspace: AssetsWorkspace
) -> None:
    window = workspace.window()
    window.resize(1440, 520)  # a short pane: the Actions section starts below the fold
    select(qtbot, workspace, asset_key(1, "raw/blob_00000"))
    details, panel = workspace.details, workspace.action_panel
    details.verticalScrollBar().setValue(0)
    qtbot.waitUntil(lambda: details.verticalScrollBar().maximum() > 0)
    panel.buttons[A.REMOVE].click()
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=10_000)

    def card_in_view() -> bool:
        card = panel.preview_card
        top_left = card.mapTo(details.viewport(), card.rect().topLeft())
        bottom_right = card.mapTo(details.viewport(), card.rect().bottomRight())
        view = details.viewport().rect()
        return card.isVisible() and view.contains(top_left) and view.contains(bottom_right)

    qtbot.waitUntil(card_in_view, timeout=5_000)
    assert details.verticalScrollBar().value() > 0
    # The card says what changes where, and holds the consent buttons.
    text = panel.preview_text()
    assert "In the registry" in text and "On disk" in text and "delete raw/blob_00000" in text
    assert panel.preview_card.isAncestorOf(panel.apply_button)
    assert panel.preview_card.isAncestorOf(panel.discard_button)
    assert panel.apply_button.text().endswith("…")  # it asks once more


def test_action_buttons_wrap_instead_of_being_clipped() -> None:
    assert button_columns(440, 150, 6) == 2
    assert button_columns(1200, 150, 6) == 3
    assert button_columns(100, 150, 6) == 1
    assert button_columns(300, 0, 6) == 3


def test_every_offered_action_has_a_label_and_says_what_it_does() -> None:
    offered = {action for actions in ACTIONS_BY_STATE.values() for action in actions}
    assert offered <= set(LABELS) and offered <= set(TOOLTIPS)
