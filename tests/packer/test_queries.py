"""list_assets and get_asset_details: typed results, states, findings and their events."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from packer.doctor.queries import get_asset_details, list_assets, list_assets_report
from packer.errors import AssetNotFoundError
from packer.files.project import Project
from packer.lane.events import EventKind, Outcome
from packer.lane.sinks import ListSink
from packer.workspace.scan import AssetState
from tests.packer.project_builder import declaration_dict, make_project, write_asset


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    write_asset(project, "banks/hero", files={"data.bin": b"hero", "readme.txt": b"r"})
    write_asset(project, "sfx", declaration=declaration_dict("sfx", inputs={"data": ["x.bin"]}),
                files={})
    write_asset(project, "gone")
    shutil.rmtree(project.assets_dir / "gone")
    write_asset(project, "wip/New Thing", register=False)
    return project


def test_list_assets_states_identity_and_counts(project: Project) -> None:
    sink = ListSink()
    assets = list_assets(project, sink)
    assert [(a.asset_id, a.root, a.state) for a in assets] == [
        (1, "banks/hero", AssetState.REGISTERED),
        (2, "sfx", AssetState.REGISTERED),
        (3, "gone", AssetState.MISSING),
        (None, "wip/New Thing", AssetState.UNREGISTERED),
    ]
    hero, sfx, gone, new = assets
    assert (hero.name, hero.type, hero.format, hero.codec) == ("hero", "raw", "RAW/bytes_v1",
                                                               "none")
    assert hero.included_in_build and hero.preload is False
    assert (hero.errors, hero.warnings, hero.infos) == (0, 0, 1)  # readme.txt unreferenced
    assert sfx.errors == 1  # PK106
    assert gone.errors == 1 and gone.name is None and gone.preload is None
    assert (new.errors, new.warnings, new.infos) == (0, 1, 1)  # PK201, PK205
    assert not new.included_in_build
    events = sink.events
    assert {e.operation for e in events} == {"list"}
    assert events[-1].terminal and events[-1].kind is EventKind.DIAGNOSTICS_UPDATED
    assert events[-1].outcome is Outcome.SUCCEEDED
    assert all(e.kind is EventKind.PROGRESS_UPDATED for e in events[:-1])


def test_listing_blocking_ignores_unregistered_errors(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "draft", declaration=declaration_dict("draft", inputs={"data": ["no"]}),
                files={}, register=False)
    listing = list_assets_report(project)
    assert listing.assets[0].errors == 1
    assert not listing.blocking
    project.registry_path.write_text("{")
    assert list_assets_report(project).blocking  # PK003 is workspace-level and blocks


def test_details_by_id_and_by_root_agree(project: Project) -> None:
    by_id = get_asset_details(project, 1)
    assert get_asset_details(project, "banks/hero") == by_id
    assert get_asset_details(project, "assets/banks/hero/") == by_id
    assert get_asset_details(project, "#1") == by_id
    assert get_asset_details(project, "1") == by_id


def test_details_content(project: Project) -> None:
    sink = ListSink()
    details = get_asset_details(project, "banks/hero", sink)
    assert details.contract is not None
    assert (details.contract.format, details.contract.codec, details.contract.bank_type) == (
        "RAW/bytes_v1", "none", "RAW")
    assert details.declaration is not None and details.declaration.name == "hero"
    assert [(i.role, i.path, i.exists, i.size) for i in details.inputs] == [
        ("data", "data.bin", True, 4)]
    assert [(f.path, f.referenced) for f in details.files] == [
        ("asset.json", True), ("data.bin", True), ("readme.txt", False)]
    assert [d.code for d in details.diagnostics] == ["PK203"]
    assert sink.events[-1].operation == "details"
    assert sink.events[-1].terminal
    assert [a.root for a in sink.events[-1].affected_assets] == ["banks/hero"]


def test_details_include_format_and_duplicate_findings(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "two", declaration=declaration_dict(
        "two", inputs={"data": ["a.bin", "b.bin"]}), files={"a.bin": b"same", "b.bin": b"zzzz"})
    write_asset(project, "other", files={"data.bin": b"same"})
    details = get_asset_details(project, "two")
    assert sorted(d.code for d in details.diagnostics) == ["PK140", "PK202"]
    assert get_asset_details(project, "other").diagnostics == ()  # the first copy is the keeper


def test_list_counts_duplicates_like_details_so_the_two_never_disagree(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "first", files={"data.bin": b"same"})
    write_asset(project, "copy", files={"data.bin": b"same"})
    listed = {a.root: (a.errors, a.warnings, a.infos) for a in list_assets(project)}
    for root, counts in listed.items():
        details = get_asset_details(project, root)
        assert counts == (details.errors, details.warnings, details.infos), root
    # PK202 goes to every copy after the first by path: copy/data.bin sorts before first/.
    assert listed == {"first": (0, 1, 0), "copy": (0, 0, 0)}


def test_details_of_missing_asset(project: Project) -> None:
    details = get_asset_details(project, 3)
    assert details.state is AssetState.MISSING
    assert details.contract is None and details.inputs == () and details.files == ()
    assert [d.code for d in details.diagnostics] == ["PK101"]


def test_unknown_asset_is_a_clear_error_and_the_operation_still_ends(project: Project) -> None:
    sink = ListSink()
    with pytest.raises(AssetNotFoundError, match="registered ids: 1, 2, 3"):
        get_asset_details(project, 42, sink)
    assert sink.events[-1].kind is EventKind.ACTION_FAILED and sink.events[-1].terminal
    with pytest.raises(AssetNotFoundError, match="expected an asset_id or a root"):
        get_asset_details(project, "nowhere")
