"""Scan reconciliation: how each asset root and registry entry ends up classified."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from packer.files.project import Project
from packer.lane.events import AssetChangedDetail, EventKind
from packer.lane.sinks import ListSink
from packer.workspace.scan import AssetState, build_snapshot, scan_workspace
from tests.packer.project_builder import (
    declaration_dict,
    make_project,
    register_root,
    write_asset,
)


def codes(project: Project, root: str) -> list[str]:
    record = build_snapshot(project).by_root(root)
    assert record is not None, root
    return [d.code for d in record.diagnostics]


def test_registered_asset_is_clean_and_carries_its_ids(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    decl = write_asset(project, "banks/hero")
    snapshot = build_snapshot(project)
    (record,) = snapshot.assets
    assert record.state is AssetState.REGISTERED
    assert record.asset_id == 1
    assert record.asset_uuid == decl["asset_uuid"]
    assert record.included_in_build and record.in_build_set
    assert record.diagnostics == ()
    assert record.files == ("asset.json", "data.bin")
    assert snapshot.diagnostics == ()


def test_unregistered_asset_is_visible_but_not_in_the_build_set(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "wip/thing", register=False)
    (record,) = build_snapshot(project).assets
    assert record.state is AssetState.UNREGISTERED
    assert record.asset_id is None
    assert not record.in_build_set
    assert record.diagnostics == ()  # unregistered is not broken


def test_registered_root_gone_is_missing(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "gone")
    shutil.rmtree(project.assets_dir / "gone")
    (record,) = build_snapshot(project).assets
    assert record.state is AssetState.MISSING
    assert [d.code for d in record.diagnostics] == ["PK101"]
    assert record.diagnostics[0].blocking


def test_registered_root_without_anchor_is_missing_its_asset_json(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "lost")
    (project.assets_dir / "lost" / "asset.json").unlink()
    (record,) = build_snapshot(project).assets
    assert record.state is AssetState.MISSING
    assert [d.code for d in record.diagnostics] == ["PK102"]


def test_folder_without_anchor_is_not_an_asset(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project.assets_dir / "loose").mkdir()
    (project.assets_dir / "loose" / "tile.png").write_bytes(b"x")
    snapshot = build_snapshot(project)
    assert snapshot.assets == ()
    assert snapshot.diagnostics == ()


def test_nested_root_is_flagged_on_the_inner_asset(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "outer")
    write_asset(project, "outer/inner", register=False)
    assert codes(project, "outer") == []
    assert codes(project, "outer/inner") == ["PK111"]


def test_uuid_collision_flags_both_and_only_the_unregistered_copy_is_auto_fixable(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path)
    decl = write_asset(project, "original")
    write_asset(project, "copy", declaration=dict(decl, name="copy"), register=False)
    snapshot = build_snapshot(project)
    original, copy = snapshot.by_root("original"), snapshot.by_root("copy")
    assert original is not None and copy is not None
    assert [(d.code, d.auto_fixable) for d in original.diagnostics] == [("PK109", False)]
    assert [(d.code, d.auto_fixable) for d in copy.diagnostics] == [("PK109", True)]


def test_root_registered_twice(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    decl = write_asset(project, "twice")
    register_root(project, "twice", decl["asset_uuid"])
    snapshot = build_snapshot(project)
    (record,) = snapshot.assets
    assert [d.code for d in record.diagnostics] == ["PK110"]
    assert "#1, #2" in record.diagnostics[0].message


def test_registry_uuid_mismatch(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "a", register=False)
    register_root(project, "a", "00000000-0000-4000-8000-00000000ffff")
    assert codes(project, "a") == ["PK113"]


def test_quarantined_asset_is_out_of_the_build_and_input_problems_are_ignored(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path)
    decl = declaration_dict("held", inputs={"data": ["missing.bin"]})
    write_asset(project, "held", declaration=decl, files={}, register=False)
    register_root(project, "held", decl["asset_uuid"], quarantined=True)
    (record,) = build_snapshot(project).assets
    assert record.state is AssetState.QUARANTINED
    assert not record.included_in_build
    assert record.diagnostics == ()
    shutil.rmtree(project.assets_dir / "held")
    (record,) = build_snapshot(project).assets
    assert [d.code for d in record.diagnostics] == ["PK101"]


def test_uninitialised_workspace_is_a_workspace_diagnostic(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "a", register=False)
    project.registry_path.unlink()
    snapshot = build_snapshot(project)
    assert [d.code for d in snapshot.diagnostics] == ["PK002"]
    assert [a.state for a in snapshot.assets] == [AssetState.UNREGISTERED]


def test_assets_sorted_registered_by_id_then_unregistered_by_root(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "zeta")
    write_asset(project, "alpha")
    write_asset(project, "b_unreg", register=False)
    write_asset(project, "a_unreg", register=False)
    roots = [r.root for r in build_snapshot(project).assets]
    assert roots == ["zeta", "alpha", "a_unreg", "b_unreg"]


def test_scan_events_discover_then_report_changes_against_a_previous_snapshot(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path)
    write_asset(project, "a")
    sink = ListSink()
    first = scan_workspace(project, sink)
    assert [e.kind for e in sink.events if e.kind is not EventKind.PROGRESS_UPDATED] == [
        EventKind.ASSET_DISCOVERED, EventKind.DIAGNOSTICS_UPDATED,
    ]
    decl = json.loads((project.assets_dir / "a" / "asset.json").read_text())
    decl["name"] = "renamed"
    (project.assets_dir / "a" / "asset.json").write_text(json.dumps(decl))
    sink = ListSink()
    scan_workspace(project, sink, previous=first)
    changed = [e for e in sink.events if e.kind is EventKind.ASSET_CHANGED]
    assert len(changed) == 1
    detail = changed[0].detail
    assert isinstance(detail, AssetChangedDetail)
    assert "name a → renamed" in detail.changes
    assert sink.events[-1].terminal
