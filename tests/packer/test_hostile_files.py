"""Hostile files where the packer expects JSON: FIFOs, devices, symlinks out of the project and
numbers past Python's digit limit. Every command ends promptly with a message naming the file,
never a hang or a traceback (issue 13: D1, D2, D12)."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from packer.build.runner import build
from packer.files.project import Project
from tests.packer.cli_support import Captured, run
from tests.packer.project_builder import make_project, write_asset
from tests.packer.test_scan_security import forbid_open, run_bounded

__all__ = ["forbid_open"]  # a fixture: imported so the tests below can ask for it

HUGE = "9" * 5000  # past sys.get_int_max_str_digits() (4,300)


def _project(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    write_asset(project, "data/level1")
    (project.assets_dir / "junk").mkdir()
    return project


def _target(project: Project, which: str) -> Path:
    return {
        "unregistered asset.json": project.assets_dir / "junk" / "asset.json",
        "registered asset.json": project.assets_dir / "data" / "level1" / "asset.json",
        "index.json": project.registry_path,
        "prometeu.json": project.root / "prometeu.json",
    }[which]


TARGETS = ["unregistered asset.json", "registered asset.json", "index.json", "prometeu.json"]
COMMANDS: list[list[str]] = [
    ["list"], ["doctor", "--workspace"], ["build"], ["show", "1"],
    ["rename", "1", "--name", "other", "--yes"],
]


def _replace_with_fifo(path: Path, *, through_link: bool) -> Path:
    path.unlink(missing_ok=True)
    if through_link:
        fifo = path.parent.parent / f"{path.name}.fifo"
        os.mkfifo(fifo)
        os.symlink(fifo, path)
        return fifo
    os.mkfifo(path)
    return path


def _run_quiet(capsys: Captured, argv: list[str], fifo: Path) -> tuple[int, str, str]:
    result: list[tuple[int, str, str]] = []
    run_bounded(lambda: result.append(run(capsys, *argv)), fifo)
    return result[0]


@pytest.mark.parametrize("through_link", [False, True], ids=["fifo", "link-to-fifo"])
@pytest.mark.parametrize("which", TARGETS)
def test_a_fifo_in_place_of_a_json_file_never_blocks_a_command(
    tmp_path: Path, capsys: Captured, which: str, through_link: bool
) -> None:
    project = _project(tmp_path)
    fifo = _replace_with_fifo(_target(project, which), through_link=through_link)
    for argv in COMMANDS:
        _code, out, err = _run_quiet(capsys, [argv[0], str(project.root), *argv[1:]], fifo)
        assert "Traceback" not in out + err
        if argv[0] != "list" and (which != "unregistered asset.json" or argv[0] == "doctor"):
            expected = "asset.json" if argv[0] == "rename" and "asset.json" in which else "FIFO"
            assert expected in out + err or "symlink" in out + err, (argv, out, err)


def test_an_asset_json_linked_to_dev_zero_is_refused_not_read(
    tmp_path: Path, capsys: Captured
) -> None:
    project = _project(tmp_path)
    os.symlink("/dev/zero", project.assets_dir / "junk" / "asset.json")
    _code, out, _err = run(capsys, "doctor", "--workspace", str(project.root))
    assert "junk/asset.json cannot be read" in out
    assert "symlink" in out


def test_an_oversized_asset_json_is_refused_with_its_size(
    tmp_path: Path, capsys: Captured
) -> None:
    project = _project(tmp_path)
    (project.assets_dir / "junk" / "asset.json").write_bytes(b" " * (2 << 20) + b"{}")
    _code, out, _err = run(capsys, "doctor", "--workspace", str(project.root))
    assert "junk/asset.json cannot be read" in out and "more than the" in out


def test_an_asset_json_linked_out_of_the_project_is_never_opened(
    tmp_path: Path, capsys: Captured, forbid_open: Callable[[Path], None]
) -> None:
    project = _project(tmp_path)
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"name": "secret"}))
    anchor = project.assets_dir / "data" / "level1" / "asset.json"
    anchor.unlink()
    os.symlink(secret, anchor)
    forbid_open(secret)
    for argv in COMMANDS:
        code, out, err = run(capsys, argv[0], str(project.root), *argv[1:])
        assert "Traceback" not in out + err
        assert code != 0 or argv[0] in ("list", "show"), argv
    assert "symlink" in run(capsys, "doctor", str(project.root))[1]


@pytest.mark.parametrize("which", TARGETS)
def test_a_number_past_the_digit_limit_is_a_finding_naming_the_file(
    tmp_path: Path, capsys: Captured, which: str
) -> None:
    project = _project(tmp_path)
    target = _target(project, which)
    target.write_text('{"schema_version": ' + HUGE + "}")
    name = which.rsplit(maxsplit=1)[-1]
    for argv in COMMANDS:
        code, out, err = run(capsys, argv[0], str(project.root), *argv[1:])
        assert "Traceback" not in out + err
        if argv[0] != "list" and (which != "unregistered asset.json" or argv[0] == "doctor"):
            if argv[0] != "rename" or "asset.json" not in which:
                assert "too many digits" in out + err, (argv, out, err)
            assert name in out + err
        if which != "unregistered asset.json":
            assert code != 0, argv


def test_build_names_the_file_with_a_huge_number(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project.assets_dir / "data" / "level1" / "asset.json").write_text(
        '{"name": ' + HUGE + "}")
    result = build(project)
    text = json.dumps(result.model_dump(mode="json"))
    assert "data/level1/asset.json" in text and "too many digits" in text


def forged_artifact(path: Path, header: bytes) -> Path:
    """An assets.pa with a valid prelude around `header` (docs/formats.md, "assets.pa")."""
    payload_offset = (28 + len(header) + 15) // 16 * 16
    prelude = struct.pack("<4sIIQII", b"PPAK", 1, len(header), payload_offset, 0, 0)
    path.write_bytes(prelude + header + bytes(payload_offset - 28 - len(header)))
    return path


def test_inspect_of_a_header_with_a_huge_number_is_a_message(
    tmp_path: Path, capsys: Captured
) -> None:
    header = b'{"asset_table":[{"asset_id":' + HUGE.encode() + b'}],"preload":[]}'
    artifact = forged_artifact(tmp_path / "assets.pa", header)
    code, out, err = run(capsys, "inspect", str(artifact))
    assert "Traceback" not in out + err
    assert "too many digits" in err
    assert code != 0
