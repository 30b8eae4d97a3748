"""The build end to end on small projects: outcome, outputs, events, blocking, build set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packer.build import build
from packer.build.reader import inspect_file
from packer.files.registry import RegistryEntry
from packer.lane.events import EventKind, Outcome
from packer.lane.operation import Operation
from packer.lane.sinks import ListSink
from tests.packer.build_support import (
    add_asset,
    add_glyph,
    add_raw,
    add_sound,
    new_project,
    snapshot_build,
)


def test_build_writes_artifact_mirrors_and_tool_metadata(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"alpha", preload=True)
    add_glyph(project, "glyphs/font")
    add_sound(project, "sounds/sfx", preload=True)
    result = build(project)
    assert result.outcome is Outcome.SUCCEEDED, result.error
    assert (result.asset_count, result.cache_misses, result.cache_hits) == (3, 3, 0)
    report = inspect_file(project.build_dir / "assets.pa")
    assert report.valid, report.problems
    assert report.mirrors == {"asset_table.json": "matches", "preload.json": "matches"}
    table = report.asset_table
    assert [(r["asset_id"], r["asset_name"], r["bank_type"]) for r in table] == [
        (1, "a", "RAW"), (2, "font", "GLYPH"), (3, "sfx", "SOUNDS")]
    assert table[1]["size"] == 34_816 and table[1]["metadata"]["tile_size"] == 8
    assert report.preload == [{"asset_id": 1, "slot": 0}, {"asset_id": 3, "slot": 1}]
    data = (project.build_dir / "assets.pa").read_bytes()
    start = report.payload_offset + table[0]["offset"]
    assert data[start:start + 5] == b"alpha"
    tool = json.loads((project.build_dir / "asset_table_metadata.json").read_bytes())
    assert [a["root"] for a in tool["assets"]] == ["raw/a", "glyphs/font", "sounds/sfx"]
    assert "preview" not in tool["assets"][1] and tool["schema_version"] == 2
    assert tool["assets"][0]["inputs"][0]["path"] == "data.bin"
    assert sorted(p.name for p in project.build_dir.iterdir()) == [
        "asset_table.json", "asset_table_metadata.json", "assets.pa", "preload.json"]


def test_event_sequence_of_a_small_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Operation, "PROGRESS_INTERVAL_S", 0.0)  # no time-based throttling here
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"alpha")
    add_glyph(project, "glyphs/font")
    sink = ListSink()
    result = build(project, sink)
    events = sink.events
    # A first build: no cache is expected, so no PK206 warning, and every miss is a new asset.
    assert [e.kind.value for e in events] == [
        "build_started", "progress_updated",
        "cache_miss", "progress_updated", "cache_miss", "progress_updated",
        "build_finished",
    ]
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert {e.operation_id for e in events} == {result.operation_id}
    started = events[0].detail
    assert started is not None and started.type == "build_started"
    assert (started.asset_count, started.input_bytes) == (2, result.input_bytes)
    assert result.diagnostics == ()
    miss = events[2].detail
    assert miss is not None and miss.type == "cache_miss"
    assert miss.reason == "new_asset"
    progress = [e.progress for e in events if e.kind is EventKind.PROGRESS_UPDATED]
    assert [(p.done, p.total, p.unit) for p in progress if p] == [
        (0, 2, "assets"), (1, 2, "assets"), (2, 2, "assets")]
    # The build phase carries the input bytes behind its assets (a byte rate needs no summary).
    building = [p for p in progress if p and p.bytes_total is not None]
    assert [p.done for p in building] == [1, 2]
    assert {p.bytes_total for p in building} == {result.input_bytes}
    assert building[1].bytes_done == result.input_bytes
    assert 0 < (building[0].bytes_done or 0) < result.input_bytes
    final = events[-1]
    assert final.terminal and final.outcome is Outcome.SUCCEEDED
    assert final.detail is not None and final.detail.type == "build_finished"
    assert (final.detail.asset_count, final.detail.cache_misses, final.detail.cache_hits) == (
        2, 2, 0)
    assert final.detail.output_bytes == (project.build_dir / "assets.pa").stat().st_size
    assert final.detail.artifact == "build/assets.pa"

    again = ListSink()
    build(project, again)
    assert again.kinds() == ["build_started", "progress_updated", "cache_hit",
                             "progress_updated", "cache_hit", "progress_updated",
                             "build_finished"]
    up_to_date = [e.progress for e in again.events if e.progress is not None]
    assert up_to_date[-1].bytes_done == up_to_date[-1].bytes_total == result.input_bytes


def test_build_set_is_registered_included_and_not_quarantined(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "in", b"in")
    add_raw(project, "excluded", b"out", included=False)
    add_raw(project, "loose", b"loose", register=False)
    add_raw(project, "quarantined", b"q")
    registry = project.load_registry()
    entries = [e if e.root != "quarantined" else RegistryEntry(
        asset_id=e.asset_id, root=e.root, asset_uuid=e.asset_uuid, quarantined=True)
        for e in registry.assets]
    project.save_registry(registry.model_copy(update={"assets": tuple(entries)}))
    result = build(project)
    assert result.outcome is Outcome.SUCCEEDED
    table = json.loads((project.build_dir / "asset_table.json").read_bytes())
    assert [row["asset_name"] for row in table] == ["in"]
    assert result.blocking == () and result.asset_count == 1


def test_structural_diagnostic_blocks_and_leaves_build_untouched(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "good", b"good")
    assert build(project).succeeded
    before = snapshot_build(project)
    add_asset(project, "broken", "raw", {"data": ["missing.bin"]})
    sink = ListSink()
    result = build(project, sink)
    assert result.outcome is Outcome.BLOCKED
    assert [d.code for d in result.blocking] == ["PK106"]
    assert sink.kinds() == ["build_started", "progress_updated", "diagnostics_updated",
                            "build_finished"]
    final = sink.events[-1]
    assert final.outcome is Outcome.BLOCKED and final.detail is not None
    assert final.detail.type == "build_finished"
    assert [d.code for d in final.detail.blocking] == ["PK106"]
    assert snapshot_build(project) == before


def test_glyph_and_sound_format_errors_block_the_build(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "good", b"good")
    add_glyph(project, "glyphs/bad", colour=(1, 2, 3))  # not in the palette: PK126
    base = project.assets_dir / "sounds/bad"
    base.mkdir(parents=True)
    (base / "a.wav").write_bytes(b"not a wav at all")
    add_asset(project, "sounds/bad", "sound_bank", {"samples": ["a.wav"]},
              name="bad_sound")  # PK130 (a name of its own: two `bad` would be PK116)
    two = project.assets_dir / "raw/two"
    two.mkdir(parents=True)
    (two / "a").write_bytes(b"a")
    (two / "b").write_bytes(b"b")
    add_asset(project, "raw/two", "raw", {"data": ["a", "b"]})  # PK140
    result = build(project)
    assert result.outcome is Outcome.BLOCKED
    codes = sorted({d.code for d in result.blocking})
    assert codes == ["PK126", "PK130", "PK140"]
    pk126 = next(d for d in result.blocking if d.code == "PK126")
    assert "#010203" in pk126.message and pk126.root == "glyphs/bad"
    assert not (project.build_dir / "assets.pa").exists()


def test_workspace_level_structural_diagnostic_blocks(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "good", b"good")
    project.registry_path.write_text("{ not json", encoding="utf-8")
    result = build(project)
    assert result.outcome is Outcome.BLOCKED
    assert [d.code for d in result.blocking] == ["PK003"]


def test_empty_build_set_gives_a_valid_empty_artifact(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    result = build(project)
    assert result.succeeded
    report = inspect_file(project.build_dir / "assets.pa")
    assert report.valid and report.asset_table == [] and report.preload == []
    assert report.file_size == report.payload_offset


def test_a_registered_included_asset_whose_root_is_gone_blocks(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "keep", b"keep")
    add_raw(project, "gone", b"gone")
    assert build(project).succeeded
    before = snapshot_build(project)
    import shutil

    shutil.rmtree(project.assets_dir / "gone")
    result = build(project)
    assert result.outcome is Outcome.BLOCKED
    assert [d.code for d in result.blocking] == ["PK101"]
    assert snapshot_build(project) == before
