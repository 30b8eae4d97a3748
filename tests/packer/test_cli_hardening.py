"""The command line against careless and hostile use (issue 13): closed pipes, odd numbers,
control characters in names, paths as the shell completes them, a full disk at the lock."""

from __future__ import annotations

import errno
import io
import json
import os
from pathlib import Path

import pytest

from packer.cli.main import main
from packer.files.project import Project
from tests.packer.cli_support import Captured, run
from tests.packer.project_builder import declaration_dict, make_project, write_asset


def _project(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    write_asset(project, "data/level1")
    return project


# ---- D10: a closed pipe ends the command quietly, as standard tools do

def test_a_closed_pipe_ends_the_command_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Captured
) -> None:
    project = _project(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head -1` has read its line and gone
    closed = io.TextIOWrapper(os.fdopen(write_end, "wb"), encoding="utf-8")
    monkeypatch.setattr("sys.stdout", closed)
    code = main(["list", str(project.root)])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 141
    assert err == ""
    with open(os.devnull, "w") as sink:  # its fd now points at /dev/null: closing is quiet
        os.dup2(sink.fileno(), closed.fileno())
    closed.close()


# ---- D17: --wait takes a finite number of seconds, 0 or more

@pytest.mark.parametrize("value", ["-5", "nan", "inf", "soon"])
def test_wait_refuses_what_is_not_a_number_of_seconds(
    tmp_path: Path, capsys: Captured, value: str
) -> None:
    project = _project(tmp_path)
    code, _out, err = run(capsys, "rename", str(project.root), "1", "--name", "x",
                          "--yes", "--wait", value)
    assert code == 2
    assert "--wait" in err and "seconds" in err
    assert json.loads(project.registry_path.read_text())["assets"][0]["root"] == "data/level1"


def test_wait_accepts_zero(tmp_path: Path, capsys: Captured) -> None:
    project = _project(tmp_path)
    assert run(capsys, "rename", str(project.root), "1", "--name", "x", "--yes",
               "--wait", "0")[0] == 0


# ---- D11: names with control characters are refused; everything printed is escaped

ESCAPE = "lvl\x1b[31mred\x07"


def test_rename_refuses_a_name_with_control_characters(tmp_path: Path, capsys: Captured) -> None:
    project = _project(tmp_path)
    before = (project.assets_dir / "data" / "level1" / "asset.json").read_bytes()
    code, out, err = run(capsys, "rename", str(project.root), "1", "--name", ESCAPE, "--yes")
    assert code == 1
    assert "control character" in out
    assert "\x1b" not in out + err
    assert (project.assets_dir / "data" / "level1" / "asset.json").read_bytes() == before


@pytest.mark.parametrize("command", ["register", "adopt"])
def test_register_and_adopt_refuse_a_name_with_control_characters(
    tmp_path: Path, capsys: Captured, command: str
) -> None:
    project = _project(tmp_path)
    write_asset(project, "wip/evil", declaration=declaration_dict(ESCAPE), register=False)
    code, out, err = run(capsys, command, str(project.root), "wip/evil", "--yes")
    assert code == 1
    assert "control character" in out
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert len(json.loads(project.registry_path.read_text())["assets"]) == 1


def test_list_show_and_doctor_print_control_characters_escaped(
    tmp_path: Path, capsys: Captured
) -> None:
    project = _project(tmp_path)
    write_asset(project, "wip/evil", declaration=declaration_dict(ESCAPE))
    write_asset(project, "wip/\x1b]0;title\x07dir", register=False)
    for argv in (["list"], ["show", "2"], ["doctor", "--workspace"]):
        _code, out, err = run(capsys, argv[0], str(project.root), *argv[1:])
        assert "\x1b" not in out + err and "\x07" not in out + err, argv
    assert "lvl\\x1b[31mred" in run(capsys, "list", str(project.root))[1]


def test_inspect_prints_control_characters_escaped(tmp_path: Path, capsys: Captured) -> None:
    project = _project(tmp_path)
    write_asset(project, "wip/evil", declaration=declaration_dict(ESCAPE))
    assert run(capsys, "build", str(project.root))[0] == 0
    code, out, err = run(capsys, "inspect", str(project.build_dir / "assets.pa"))
    assert code == 0
    assert "\x1b" not in out + err and "lvl\\x1b[31mred" in out


# ---- D18: every path argument reads relative to assets/, an `assets/` prefix stripped

def test_paths_as_the_shell_completes_them_read_the_same_as_roots(
    tmp_path: Path, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project.root)
    code, _out, _err = run(capsys, "relocate", ".", "assets/data/level1",
                           "--to", "assets/moved/level1", "--yes")
    assert code == 0
    assert (project.assets_dir / "moved" / "level1" / "asset.json").is_file()
    assert not (project.assets_dir / "assets").exists()
    registry = json.loads(project.registry_path.read_text())
    assert registry["assets"][0]["root"] == "moved/level1"


def test_an_asset_path_is_not_read_relative_to_the_current_folder(
    tmp_path: Path, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    monkeypatch.chdir(project.assets_dir / "data")
    # `level1` exists in the current folder, but roots read relative to assets/
    code, out, err = run(capsys, "relocate", str(project.root), "level1", "--to", "x", "--yes")
    assert code != 0
    assert "level1" in out + err
    assert (project.assets_dir / "data" / "level1").is_dir()


# ---- D15: fix hints quote paths, so they can be pasted into a shell

def test_fix_hints_quote_paths_with_spaces(tmp_path: Path, capsys: Captured) -> None:
    project = _project(tmp_path)
    write_asset(project, "wip/boss tiles", register=False)
    out = run(capsys, "doctor", "--workspace", str(project.root))[1]
    assert "adopt PROJECT 'wip/boss tiles'" in out
    folder = tmp_path / "new game"
    folder.mkdir()
    err = run(capsys, "init", str(folder))[2]
    assert f"init --create NAME '{folder}'" in err


# ---- D9: a full disk while taking the lock is "Not applied", in text and in --json

def test_a_full_disk_at_the_lock_is_not_applied(
    tmp_path: Path, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)

    def pwrite(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("packer.files.lock.os.pwrite", pwrite)
    code, out, _err = run(capsys, "rename", str(project.root), "1", "--name", "x", "--yes")
    assert code == 1
    assert "Not applied" in out and "No space left on device" in out
    code, out, _err = run(capsys, "rename", str(project.root), "1", "--name", "x", "--yes",
                          "--json")
    document = json.loads(out)
    assert code == 1 and document["applied"] is False
    assert "No space left on device" in document["result"]["message"]
