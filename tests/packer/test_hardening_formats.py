"""Registry types, duplicate names, a blocked first build and a malformed artifact header
(issue 13: D13, D6, D14, D3)."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

from packer.build import build
from packer.doctor.service import doctor
from packer.lane.events import Outcome
from tests.packer.build_support import add_raw, new_project
from tests.packer.cli_support import Captured, run
from tests.packer.project_builder import make_project, write_asset
from tests.packer.test_build_format_blocking import pk130

# ---- D13: wrong types in the registry are refused, not coerced

def test_registry_values_of_the_wrong_type_are_refused(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "data/level1")
    data = json.loads(project.registry_path.read_text())
    for key, value in (("asset_id", "1"), ("included_in_build", "false"),
                       ("quarantined", 0)):
        broken = json.loads(json.dumps(data))
        broken["assets"][0][key] = value
        project.registry_path.write_text(json.dumps(broken))
        report = doctor(project)
        assert report.blocking, key
        assert [d.code for d in report.diagnostics] == ["PK003"], key
        assert f"assets.0.{key}" in report.diagnostics[0].message


# ---- D6: two assets of the build with one name are a structural error (PK116)

def test_two_assets_of_the_build_with_one_name_block_it(tmp_path: Path, capsys: Captured) -> None:
    project = make_project(tmp_path)
    write_asset(project, "data/level1")
    shutil.copytree(project.assets_dir / "data" / "level1", project.assets_dir / "data" / "copy")
    assert run(capsys, "doctor", "--fix", str(project.root))[0] == 0  # a fresh uuid for the copy
    code, out, _err = run(capsys, "adopt", str(project.root), "data/copy", "--yes")
    assert code == 0
    assert "PK116" in out and "already named 'level1'" in out
    report = doctor(project)
    assert report.blocking
    assert sorted((d.code, d.root) for d in report.diagnostics) == [
        ("PK116", "data/copy"), ("PK116", "data/level1")]
    result = build(project)
    assert result.outcome is Outcome.BLOCKED
    assert {d.code for d in result.blocking} == {"PK116"}
    # excluding one of them leaves one `level1` in the artifact: the build goes ahead
    assert run(capsys, "exclude", str(project.root), "data/copy", "--yes")[0] == 0
    assert build(project).succeeded


# ---- D14: a blocked first build leaves no build/ behind

def test_a_first_build_blocked_by_a_format_error_creates_no_build_folder(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "good", b"good")
    pk130(project, project.assets_dir / "bad")
    result = build(project)
    assert result.outcome is Outcome.BLOCKED
    assert not project.build_dir.exists()


def test_a_blocked_build_keeps_an_existing_empty_build_folder(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    project.build_dir.mkdir()
    pk130(project, project.assets_dir / "bad")
    assert build(project).outcome is Outcome.BLOCKED
    assert project.build_dir.is_dir() and not any(project.build_dir.iterdir())


# ---- D3: inspect of a header entry that lacks a key: a problem, never a traceback

def test_inspect_of_a_row_without_codec_lists_the_problem(tmp_path: Path, capsys: Captured) -> None:
    project = new_project(tmp_path)
    add_raw(project, "good", b"good")
    assert build(project).succeeded
    data = (project.build_dir / "assets.pa").read_bytes()
    header_len, payload_offset = struct.unpack_from("<IQ", data, 8)
    header = json.loads(data[28:28 + header_len])
    del header["asset_table"][0]["codec"]
    new_header = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    new_offset = (28 + len(new_header) + 15) // 16 * 16
    forged = tmp_path / "forged.pa"
    forged.write_bytes(struct.pack("<4sIIQII", b"PPAK", 1, len(new_header), new_offset, 0, 0)
                       + new_header + bytes(new_offset - 28 - len(new_header))
                       + data[payload_offset:])
    for argv in (["inspect", str(forged)], ["inspect", "--json", str(forged)]):
        code, out, err = run(capsys, *argv)
        assert code == 1, argv
        assert "Traceback" not in out + err
        assert "must have exactly the keys" in err
    document = json.loads(run(capsys, "inspect", "--json", str(forged))[1])
    assert document["valid"] is False
