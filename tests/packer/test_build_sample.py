"""End to end on the shipped sample project: build, inspect via the CLI, rebuild, --no-cache."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from packer.build import build
from packer.cli.common import run_handler
from packer.cli.main import build_parser
from packer.files.project import open_project
from packer.lane.events import parse_event_line
from packer.lane.sinks import ListSink
from tests.packer.build_support import snapshot_build

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample-project"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_handler(build_parser().parse_args(list(argv)), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_sample_project_builds_inspects_and_rebuilds_identically(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root)
    code, out, _err = cli("build", str(root), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["outcome"] == "succeeded" and result["cache_misses"] == result["asset_count"]
    assert {r["reason"] for r in result["cache"]} == {"new_asset"}  # a first build
    code, out, _err = cli("inspect", str(root / "build" / "assets.pa"), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["valid"] and report["mirrors"] == {
        "asset_table.json": "matches", "preload.json": "matches"}
    kinds = {row["bank_type"] for row in report["asset_table"]}
    assert kinds == {"GLYPH", "SOUNDS", "RAW"}
    first = snapshot_build(open_project(root))
    assert sorted(first) == ["asset_table.json", "asset_table_metadata.json", "assets.pa",
                             "preload.json"]

    code, out, _err = cli("build", str(root), "--events", "jsonl")
    assert code == 0
    events = [parse_event_line(line) for line in out.splitlines()]
    assert events[-1].kind.value == "build_finished" and events[-1].terminal
    assert {e.kind.value for e in events} >= {"build_started", "cache_hit"}
    assert snapshot_build(open_project(root)) == first

    sink = ListSink()
    forced = build(open_project(root), sink, use_cache=False)
    assert forced.succeeded and forced.cache_hits == 0
    assert snapshot_build(open_project(root)) == first


def test_build_cli_reports_a_blocked_build_with_exit_1(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root)
    registry = json.loads((root / "assets/.prometeu/index.json").read_text())
    victim = registry["assets"][0]["root"]
    shutil.rmtree(root / "assets" / victim)
    code, _out, err = cli("build", str(root))
    assert code == 1
    assert "PK101" in _out + err and "build/ is unchanged" in _out + err
    code, _out, err = cli("build", str(tmp_path / "nowhere"))
    assert code == 2
