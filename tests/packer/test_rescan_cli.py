"""`prometeu-packer scan`: the rescan from a terminal or CI (text, --json, --events jsonl)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from packer.files.project import Project
from packer.lane.events import EventKind, parse_event_line
from tests.packer.cli_support import Captured, run
from tests.packer.project_builder import make_project, write_asset


def project_with_one_asset(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    write_asset(project, "banks/hero", files={"data.bin": b"hero-1"})
    return project


def test_scan_events_jsonl_carry_discovered_and_changed(
    tmp_path: Path, capsys: Captured
) -> None:
    project = project_with_one_asset(tmp_path)
    assert run(capsys, "scan", str(project.root))[0] == 0
    write_asset(project, "banks/villain", register=False)
    (project.assets_dir / "banks/hero/data.bin").write_bytes(b"hero-2, longer")
    code, out, err = run(capsys, "scan", str(project.root), "--events", "jsonl")
    assert code == 0
    events = [parse_event_line(line) for line in out.splitlines()]
    per_asset = [(e.kind, e.affected_assets[0].root) for e in events
                 if e.kind in {EventKind.ASSET_DISCOVERED, EventKind.ASSET_CHANGED}]
    assert per_asset == [(EventKind.ASSET_CHANGED, "banks/hero"),
                         (EventKind.ASSET_DISCOVERED, "banks/villain")]
    assert {e.operation for e in events} == {"rescan"}
    assert events[-1].terminal
    assert "Rescan: 1 new, 1 changed" in err  # human text moved to stderr


def test_scan_text_and_json(tmp_path: Path, capsys: Captured) -> None:
    project = project_with_one_asset(tmp_path)
    code, out, _err = run(capsys, "scan", str(project.root))
    assert code == 0 and "No previous scan to compare with" in out
    shutil.rmtree(project.assets_dir / "banks/hero")
    write_asset(project, "wip/draft", register=False)
    code, out, _err = run(capsys, "scan", str(project.root))
    assert code == 0
    assert "~ #1 banks/hero: state registered → missing" in out
    assert "+ wip/draft: new unregistered" in out
    (project.assets_dir / "wip/draft/asset.json").unlink()
    code, out, _err = run(capsys, "scan", "--json", str(project.root))
    report = json.loads(out)
    assert code == 0 and not report["baseline"]
    assert [(c["kind"], c["root"], c["changes"]) for c in report["changes"]] == [
        ("removed", "wip/draft", ["removed"])]
    assert (report["discovered"], report["changed"], report["removed"]) == (0, 0, 1)


def test_scan_exit_codes(tmp_path: Path, capsys: Captured) -> None:
    assert run(capsys, "scan", str(tmp_path))[0] == 2  # not a project
    project = project_with_one_asset(tmp_path)
    project.registry_path.write_text("{broken", encoding="utf-8")
    code, out, _err = run(capsys, "scan", str(project.root))
    assert code == 1 and "PK003" in out
    assert run(capsys, "scan", "--help")[0] == 0
