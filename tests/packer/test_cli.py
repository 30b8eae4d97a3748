"""The command line: text by default, --json, --events jsonl, exit codes 0/1/2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from packer.cli.common import CommandContext, RichProgressSink
from packer.cli.main import build_parser
from packer.doctor.service import doctor
from packer.files.project import Project, open_project
from packer.lane.events import EventKind, parse_event_line
from packer.lane.sinks import FanOutSink, JsonLinesSink, ListSink, NullSink
from tests.packer.cli_support import Captured, run
from tests.packer.project_builder import declaration_dict, make_project, write_asset


@pytest.fixture
def clean(tmp_path: Path) -> Project:
    project = make_project(tmp_path, "clean")
    write_asset(project, "banks/hero")
    write_asset(project, "wip/draft", register=False)
    return project


@pytest.fixture
def broken(tmp_path: Path) -> Project:
    project = make_project(tmp_path, "broken")
    write_asset(project, "sfx", declaration=declaration_dict("sfx", inputs={"data": ["x.bin"]}),
                files={})
    return project


# ---- init ------------------------------------------------------------------------------------


def test_init_without_project_file_offers_create(tmp_path: Path, capsys: Captured) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    code, out, err = run(capsys, "init", str(folder))
    assert code == 2 and out == ""
    assert "no prometeu.json" in err and f"init --create NAME {folder}" in err


def test_init_when_assets_is_a_file_says_so_without_a_traceback(
    tmp_path: Path, capsys: Captured
) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "prometeu.json").write_text('{"name": "odd"}', encoding="utf-8")
    (folder / "assets").write_text("not a folder", encoding="utf-8")
    code, out, err = run(capsys, "init", str(folder))
    assert code == 2 and out == ""
    assert "Not a directory" in err and "assets/ must be a folder" in err
    assert "Traceback" not in err


def test_an_os_error_escaping_a_command_is_a_message_and_exit_1(
    clean: Project, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_disk(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/somewhere/index.json")

    monkeypatch.setattr("packer.doctor.queries.list_assets_report", broken_disk)  # imported by list
    code, out, err = run(capsys, "list", str(clean.root))
    assert code == 1 and out == ""
    assert "Permission denied (/somewhere/index.json)" in err and "Traceback" not in err


def test_init_create_then_idempotent_then_refuses_create_again(
    tmp_path: Path, capsys: Captured
) -> None:
    folder = tmp_path / "new_game"
    code, out, _ = run(capsys, "init", "--create", "New Game", str(folder))
    assert code == 0 and "Created project New Game" in out
    project = open_project(folder)
    assert project.name == "New Game" and project.initialised
    registry_before = project.registry_path.read_bytes()
    code, out, _ = run(capsys, "init", str(folder))
    assert code == 0 and "already initialised" in out
    assert project.registry_path.read_bytes() == registry_before
    code, _, err = run(capsys, "init", "--create", "Other", str(folder))
    assert code == 2 and "already holds a project" in err
    assert open_project(folder).name == "New Game"


def test_init_existing_project_without_registry(tmp_path: Path, capsys: Captured) -> None:
    project = make_project(tmp_path)
    project.registry_path.unlink()
    code, out, _ = run(capsys, "init", "--json", str(project.root))
    assert code == 0
    data = json.loads(out)
    assert data["created_registry"] is True and data["created_project"] is False
    assert data["project_id"] == project.file.project_id  # copied from prometeu.json
    assert project.registry_path.is_file()


def test_init_events(tmp_path: Path, capsys: Captured) -> None:
    code, out, err = run(capsys, "init", "--create", "g", str(tmp_path / "g"), "--events",
                         "jsonl")
    assert code == 0
    (event,) = [parse_event_line(line) for line in out.splitlines()]
    assert event.kind is EventKind.ACTION_APPLIED and event.terminal
    assert event.operation == "init"
    assert "Created project" in err


def test_init_events_carry_the_id_the_registry_gets(tmp_path: Path, capsys: Captured) -> None:
    # A hand-written prometeu.json without project_id: before init the id is derived from the
    # name, but the registry gets a fresh one; the init's event must carry the lasting one.
    root = tmp_path / "hand"
    root.mkdir()
    (root / "prometeu.json").write_text('{"name": "hand"}', encoding="utf-8")
    code, out, _err = run(capsys, "init", str(root), "--events", "jsonl")
    assert code == 0
    (event,) = [parse_event_line(line) for line in out.splitlines()]
    assert event.project_id == open_project(root).project_id == open_project(
        root).load_registry().project_id


# ---- not a project / usage ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["list", "doctor"])
def test_not_a_project_is_exit_2_with_what_was_expected(
    tmp_path: Path, capsys: Captured, command: str
) -> None:
    code, out, err = run(capsys, command, str(tmp_path))
    assert code == 2 and out == ""
    assert "prometeu.json" in err
    code, _, err = run(capsys, command, str(tmp_path / "nope"))
    assert code == 2 and "does not exist; expected a project folder" in err


def test_invalid_project_file_is_exit_2(tmp_path: Path, capsys: Captured) -> None:
    (tmp_path / "prometeu.json").write_text("{")
    code, _, err = run(capsys, "list", str(tmp_path))
    assert code == 2 and "not valid UTF-8 JSON" in err


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["show"], ["doctor", "--bogus", "x"],
                                  ["list", "x", "--json", "--events", "jsonl"],
                                  ["list", "x", "--events", "xml"]])
def test_usage_errors_exit_2(capsys: Captured, argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert "usage:" in err


def test_help_exits_0(capsys: Captured) -> None:
    code, out, _ = run(capsys, "doctor", "--help")
    assert code == 0 and "--workspace" in out and "--fix" in out


# ---- list / show / doctor ------------------------------------------------------------------


def test_list_piped_keeps_each_row_on_one_line(
    tmp_path: Path, capsys: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    project = make_project(tmp_path, "wide")
    root = "levels/world_one/underground/caverns_of_the_very_long_name"
    write_asset(project, root, register=False)
    code, out, _err = run(capsys, "list", str(project.root))
    assert code == 0
    rows = [line for line in out.splitlines() if root in line]
    assert len(rows) == 1 and "unregistered" in rows[0]


def test_inspect_offers_no_event_stream(tmp_path: Path, capsys: Captured) -> None:
    # inspect reads one file and runs no operation: --events would print nothing at all.
    code, _out, err = run(capsys, "inspect", "--events", "jsonl", str(tmp_path / "a.pa"))
    assert code == 2 and "unrecognized arguments" in err


def test_list_text_json_and_exit_codes(clean: Project, broken: Project, capsys: Captured) -> None:
    code, out, err = run(capsys, "list", str(clean.root))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "TYPE", "STATE", "BUILD", "PRELOAD", "FINDINGS",
                                "ROOT"]
    assert lines[1].split()[:4] == ["1", "hero", "raw", "registered"]
    assert lines[2].split()[:4] == ["-", "draft", "raw", "unregistered"]
    code, out, _ = run(capsys, "list", "--json", str(clean.root))
    data = json.loads(out)
    assert [a["root"] for a in data["assets"]] == ["banks/hero", "wip/draft"]
    code, _, _ = run(capsys, "list", str(broken.root))
    assert code == 1


def test_show_text_json_and_unknown_asset(clean: Project, capsys: Captured) -> None:
    code, out, _ = run(capsys, "show", str(clean.root), "banks/hero")
    assert code == 0
    for section in ("#1 hero", "Runtime contract", "Inputs", "Diagnostics"):
        assert section in out
    assert out.index("Runtime contract") < out.index("Inputs") < out.index("Diagnostics")
    code, out, _ = run(capsys, "show", "--json", str(clean.root), "1")
    assert code == 0 and json.loads(out)["contract"]["format"] == "RAW/bytes_v1"
    code, out, err = run(capsys, "show", str(clean.root), "99")
    assert code == 2 and out == "" and "no asset has asset_id 99" in err


def test_doctor_exit_codes_and_json(clean: Project, broken: Project, capsys: Captured) -> None:
    code, out, _ = run(capsys, "doctor", str(clean.root))
    assert code == 0 and "Nothing blocks a build." in out
    code, out, _ = run(capsys, "doctor", str(broken.root))
    assert code == 1 and "PK106" in out and "fix:" in out
    code, out, _ = run(capsys, "doctor", "--workspace", "--json", str(clean.root))
    report = json.loads(out)
    assert code == 0 and report["workspace"] is True and report["blocking"] is False
    assert "PK201" in [d["code"] for d in report["diagnostics"]]


def test_doctor_fix_reports_what_it_fixed(tmp_path: Path, capsys: Captured) -> None:
    project = make_project(tmp_path)
    decl = write_asset(project, "orig")
    write_asset(project, "copy", declaration=dict(decl, name="copy"), register=False)
    code, _, _ = run(capsys, "doctor", str(project.root))
    assert code == 1  # the registered original collides
    code, out, _ = run(capsys, "doctor", "--fix", str(project.root))
    assert code == 0 and "fixed PK109" in out


@pytest.mark.parametrize("argv", [["list"], ["doctor", "--workspace"], ["show", "@", "1"]])
def test_events_jsonl_stdout_only_events_human_text_on_stderr(
    broken: Project, capsys: Captured, argv: list[str]
) -> None:
    args = [a if a != "@" else str(broken.root) for a in argv]
    if "@" not in argv:
        args.append(str(broken.root))
    code, out, err = run(capsys, *args, "--events", "jsonl")
    assert code == 1
    events = [parse_event_line(line) for line in out.splitlines()]
    assert events and events[-1].terminal
    assert [e.terminal for e in events].count(True) == 1
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert "sfx" in err  # the readable report moved to stderr
    assert "error" in err


def test_console_script_subprocess(broken: Project) -> None:
    script = Path(sys.executable).parent / "prometeu-packer"
    done = subprocess.run([str(script), "doctor", str(broken.root), "--events", "jsonl"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    events = [parse_event_line(line) for line in done.stdout.splitlines()]
    assert events[-1].kind is EventKind.DIAGNOSTICS_UPDATED and events[-1].terminal
    assert "PK106" in done.stderr


# ---- the live progress bar -------------------------------------------------------------------


def test_rich_progress_sink_follows_progress_and_clears_on_terminal(broken: Project) -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    events = ListSink()
    with RichProgressSink(console) as bar:
        doctor(broken, workspace=True, sink=FanOutSink(bar, events))
        assert bar._tasks == {}  # the terminal removed the operation's bar
    assert any(e.kind is EventKind.PROGRESS_UPDATED for e in events.events)
    assert stream.getvalue() != ""  # something was drawn


def test_event_sink_choice_follows_the_output_mode(tmp_path: Path) -> None:
    parser = build_parser()

    def sink_type(argv: list[str], *, terminal: bool) -> type:
        ctx = CommandContext(parser.parse_args(argv), stdout=io.StringIO(),
                             stderr=io.StringIO())
        ctx.out = Console(file=ctx.out.file, force_terminal=terminal)
        with ctx.event_sink() as sink:
            return type(sink)

    assert sink_type(["list", str(tmp_path)], terminal=False) is NullSink
    assert sink_type(["list", str(tmp_path)], terminal=True) is RichProgressSink
    assert sink_type(["list", str(tmp_path), "--json"], terminal=True) is NullSink
    assert sink_type(["list", str(tmp_path), "--events", "jsonl"], terminal=True) is JsonLinesSink
