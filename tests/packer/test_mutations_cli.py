"""The mutation commands: preview first, confirmation on a terminal, --yes, --preview, --json,
--events jsonl, exit codes, and how ASSET may be written."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from packer.files.lock import write_lock
from packer.files.project import Project
from packer.lane.events import EventKind, read_event_lines
from packer.mutations import MutationPreview, preview_mutation
from packer.mutations import service as mutation_service
from tests.packer.cli_support import Captured, run
from tests.packer.mutation_support import make_project, tree_state


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_a_terminal_the_preview_is_shown_and_nothing_changes(
    project: Project, capsys: Captured
) -> None:
    before = tree_state(project)
    code, out, _ = run(capsys, "relocate", str(project.root), "1", "--to", "chars/hero")
    assert code == 1
    assert "move sprites/hero → chars/hero" in out and "needs consent" in out
    assert "Re-run with --yes" in out
    assert tree_state(project) == before


def test_a_real_process_with_no_terminal_exits_1(project: Project) -> None:
    before = tree_state(project)
    result = subprocess.run(
        [sys.executable, "-m", "packer.cli.main", "remove", str(project.root), "1"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 1, result.stderr
    assert "delete sprites/hero" in result.stdout
    assert tree_state(project) == before


def test_yes_applies(project: Project, capsys: Captured) -> None:
    code, out, _ = run(capsys, "relocate", str(project.root), "#1", "--to", "chars/hero", "--yes")
    assert code == 0 and "Applied: relocate #1 hero" in out
    assert project.load_registry().by_id(1).root == "chars/hero"  # type: ignore[union-attr]


def test_preview_only_shows(project: Project, capsys: Captured) -> None:
    before = tree_state(project)
    code, out, _ = run(capsys, "remove", str(project.root), "sprites/hero", "--preview")
    assert code == 0 and "Preview only: nothing was changed." in out
    assert "quarantine it instead" in out  # the safe fix, apart from the warnings
    code, out, _ = run(capsys, "forget", str(project.root), "42", "--preview")
    assert code == 1 and "no registered asset has asset_id 42" in out
    assert tree_state(project) == before


def test_a_terminal_asks_and_yes_applies(
    project: Project, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("packer.cli.mutate._stdin_is_terminal", lambda: True)
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    code, out, err = run(capsys, "quarantine", str(project.root), "2")
    assert "Apply these changes? [y/N]" in err
    assert code == 0 and "Applied: quarantine" in out
    assert project.load_registry().by_id(2).quarantined  # type: ignore[union-attr]


def test_a_terminal_answer_other_than_yes_changes_nothing(
    project: Project, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree_state(project)
    monkeypatch.setattr("packer.cli.mutate._stdin_is_terminal", lambda: True)
    monkeypatch.setattr(sys, "stdin", _Terminal("\n"))
    code, out, _ = run(capsys, "remove", str(project.root), "2")
    assert code == 1 and "Not confirmed: nothing was changed." in out
    assert tree_state(project) == before


def test_json_is_one_document_with_the_preview_and_the_result(
    project: Project, capsys: Captured
) -> None:
    code, out, err = run(capsys, "rename", str(project.root), "1", "--name", "player", "--yes",
                         "--json")
    assert code == 0
    document = json.loads(out)
    assert document["applied"] is True
    assert document["preview"]["action"] == "rename_asset"
    assert document["preview"]["disk_changes"][0]["kind"] == "rewrite"
    assert any("visible to game code" in w["message"] for w in document["preview"]["warnings"])
    assert document["result"]["outcome"] == "applied"
    assert "Applied" in err  # human text moved to stderr
    code, out, _ = run(capsys, "exclude", str(project.root), "1", "--json")
    document = json.loads(out)
    assert code == 1 and document["applied"] is False and document["result"] is None


def test_events_jsonl_streams_preview_then_apply(project: Project, capsys: Captured) -> None:
    code, out, err = run(capsys, "adopt", str(project.root), "wip/loose", "--yes",
                         "--events", "jsonl")
    assert code == 0
    events = list(read_event_lines(out.splitlines()))
    assert [e.kind for e in events] == [
        EventKind.PREVIEW_READY, EventKind.ASSET_CHANGED, EventKind.DIAGNOSTICS_UPDATED,
        EventKind.ACTION_APPLIED,
    ]
    assert events[0].operation == "adopt_asset.preview" and events[1].operation == "adopt_asset"
    assert events[-1].affected_assets[0].asset_id == 3
    assert "add #3 at wip/loose" in err


def test_asset_may_be_a_path_to_the_folder(
    project: Project, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, _ = run(capsys, "exclude", str(project.root),
                     str(project.assets_dir / "sounds/music"), "--yes")
    assert code == 0 and not project.load_registry().by_id(2).included_in_build  # type: ignore[union-attr]
    monkeypatch.chdir(project.root)
    code, _, _ = run(capsys, "include", str(project.root), "assets/sounds/music", "--yes")
    assert code == 0 and project.load_registry().by_id(2).included_in_build  # type: ignore[union-attr]
    code, _, err = run(capsys, "forget", str(project.root), str(project.root.parent), "--yes")
    assert code == 2 and "not inside the project's assets/" in err


def test_usage_errors_exit_2(project: Project, capsys: Captured, tmp_path: Path) -> None:
    assert run(capsys, "relocate", str(project.root), "1")[0] == 2  # --to is required
    assert run(capsys, "rename", str(project.root), "1")[0] == 2  # --name is required
    code, _, err = run(capsys, "forget", str(tmp_path / "nowhere"), "1")
    assert code == 2 and "does not exist" in err
    assert run(capsys, "remove", str(project.root), "1", "--yes", "--preview")[0] == 2


class _HolderThread:
    """Holds the project's write lock on another thread until released."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.held = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        with write_lock(self.project, command="studio relocate"):
            self.held.set()
            self.release.wait()

    def start(self) -> None:
        self.thread.start()
        assert self.held.wait(30)

    def stop(self) -> None:
        self.release.set()
        self.thread.join()


def test_a_writer_holding_the_lock_is_named_and_the_apply_exits_1(
    project: Project, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = _HolderThread(project)
    real_preview = preview_mutation

    def preview_then_someone_else_writes(*args: Any, **kwargs: Any) -> MutationPreview:
        preview = real_preview(*args, **kwargs)
        holder.start()  # between the preview and the apply
        return preview

    # the CLI imports it from the service when a mutation command runs
    monkeypatch.setattr(mutation_service, "preview_mutation", preview_then_someone_else_writes)
    try:
        code, out, _ = run(capsys, "exclude", str(project.root), "1", "--yes", "--wait", "0")
    finally:
        holder.stop()
    assert code == 1
    assert "Not applied" in out and "studio relocate" in out and f"pid {os.getpid()}" in out
    assert project.load_registry().by_id(1).included_in_build  # type: ignore[union-attr]


def test_a_preview_that_waits_too_long_says_who_holds_the_lock(
    project: Project, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    # --wait bounds the preview's read too (it used to wait the readers' 30 s whatever --wait
    # said), and a held lock means nothing was applied: exit 1, like a refused apply.
    holder = _HolderThread(project)
    monkeypatch.setattr("packer.files.lock.DEFAULT_READ_TIMEOUT_S", 60.0)
    holder.start()
    try:
        code, _, err = run(capsys, "exclude", str(project.root), "1", "--yes", "--wait", "0")
    finally:
        holder.stop()
    assert code == 1 and "cannot read" in err and "studio relocate" in err
    assert project.load_registry().by_id(1).included_in_build  # type: ignore[union-attr]
