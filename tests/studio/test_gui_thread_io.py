"""The GUI thread never touches the disk: a whole session (open the sample, look at every asset,
preview and apply a mutation, build, rescan, quit) is run while every Python-level file access
(open, stat, lstat, scandir, listdir, access, mkdir, replace, readlink) made on the main thread is
recorded. Workers may do all of these; the GUI thread may do none."""

from __future__ import annotations

import builtins
import io
import itertools
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from packer.mutations import MutationAction
from tests.studio.helpers import ScriptedPrompter, drop_on_navigator, running_studio

WATCHED_OS = ("stat", "lstat", "open", "scandir", "listdir", "access", "mkdir", "replace",
              "readlink", "makedirs", "rename", "unlink")


class GuiThreadDiskWatch:
    def __init__(self) -> None:
        self.active = False
        self.hits: list[str] = []

    def wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def watched(*args: Any, **kwargs: Any) -> Any:
            if self.active and threading.current_thread() is threading.main_thread():
                # Frames by hand: the traceback module reads source files (file access too).
                frames = itertools.islice(traceback.walk_stack(sys._getframe(1)), 10)
                stack = "\n".join(f"  {f.f_code.co_filename}:{line} {f.f_code.co_name}"
                                  for f, line in frames)
                self.hits.append(f"{name}{args[:1]!r}\n{stack}")
            return original(*args, **kwargs)
        return watched


@pytest.fixture
def disk_watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[GuiThreadDiskWatch]:
    watch = GuiThreadDiskWatch()
    for name in WATCHED_OS:
        monkeypatch.setattr(os, name, watch.wrap(f"os.{name}", getattr(os, name)))
    monkeypatch.setattr(builtins, "open", watch.wrap("open", builtins.open))
    monkeypatch.setattr(io, "open", watch.wrap("io.open", io.open))
    yield watch
    watch.active = False


def test_a_whole_session_does_no_file_io_on_the_gui_thread(
    qtbot: QtBot, sample_project: Path, disk_watch: GuiThreadDiskWatch
) -> None:
    prompter = ScriptedPrompter()
    dropped = sample_project / "assets" / "wip" / "dropped"
    dropped.mkdir(parents=True)
    (dropped / "table.bin").write_bytes(b"\x01\x02")
    with running_studio(prompter) as app:
        disk_watch.active = True
        with qtbot.waitSignal(app.project_opened, timeout=15_000):
            app.start(sample_project)
        window = app.window
        assert window is not None
        workspace = window.assets
        qtbot.waitUntil(lambda: app.session is not None and app.session.listing is not None
                        and not app.pool.busy, timeout=15_000)
        for row in workspace.navigator.rows():
            assert workspace.select_asset(row.key)
            qtbot.waitUntil(lambda key=row.key: workspace.shown is not None  # type: ignore[misc]
                            and workspace.shown.key == key and not app.pool.busy,
                            timeout=15_000)
        wip = next(r for r in workspace.navigator.rows() if r.asset_id is None)
        assert workspace.select_asset(wip.key)
        qtbot.waitUntil(lambda: workspace.action_panel.buttons != {} and not app.pool.busy,
                        timeout=15_000)
        panel = workspace.action_panel
        panel.buttons[MutationAction.ADOPT].click()
        qtbot.waitUntil(lambda: panel.preview is not None, timeout=15_000)
        with qtbot.waitSignal(panel.applied, timeout=15_000):
            panel.apply_button.click()
        drop_on_navigator(window, dropped)  # a new asset from files: looked at, previewed, made
        dialog = workspace.new_asset
        qtbot.waitUntil(lambda: dialog.preview is not None, timeout=15_000)
        with qtbot.waitSignal(dialog.applied, timeout=15_000):
            dialog.apply_button.click()
        with qtbot.waitSignal(app.build_ended, timeout=30_000):
            window.build_action.trigger()
        qtbot.waitUntil(lambda: not app.pool.busy, timeout=15_000)
        window.rescan_action.trigger()
        qtbot.waitUntil(lambda: not app.pool.busy, timeout=15_000)
        window.close()
        disk_watch.active = False
    assert not disk_watch.hits, (
        f"{len(disk_watch.hits)} file accesses on the GUI thread; the first:\n"
        + "\n".join(disk_watch.hits[:3])
    )
