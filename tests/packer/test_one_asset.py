"""get_asset_details with the listing's index reads one asset alone and agrees with a full read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from packer.doctor import one_asset
from packer.doctor.queries import (
    get_asset_details,
    list_assets_indexed,
    list_assets_report,
    workspace_index,
)
from packer.errors import AssetNotFoundError
from packer.files.project import Project
from packer.files.registry import Registry, load_registry
from packer.lane.sinks import ListSink
from tests.packer.project_builder import (
    declaration_dict,
    make_project,
    register_root,
    write_asset,
)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """One asset of each kind the details show differently."""
    project = make_project(tmp_path)
    write_asset(project, "banks/hero", files={"data.bin": b"hero", "readme.txt": b"r" * 3})
    write_asset(project, "banks/copy", files={"data.bin": b"hero"})  # PK202 of hero's input
    write_asset(project, "banks/third", files={"data.bin": b"hero"})  # "(and 1 more)"
    write_asset(project, "sfx", declaration=declaration_dict("sfx", inputs={"data": ["x.bin"]}),
                files={})  # PK106
    write_asset(project, "gone")
    shutil.rmtree(project.assets_dir / "gone")  # missing: PK101
    write_asset(project, "empty")
    (project.assets_dir / "empty" / "asset.json").unlink()  # missing: PK102
    write_asset(project, "wip/New Thing", register=False)  # PK201, PK205
    write_asset(project, "off", included=False)
    write_asset(project, "broken")
    (project.assets_dir / "broken" / "asset.json").write_text("{ not json")
    write_asset(project, "outer", files={"data.bin": b"outer", "notes.txt": b"n"})
    write_asset(project, "outer/inner", files={"data.bin": b"inner"})  # PK111; outer skips it
    twin = write_asset(project, "twin/a")
    write_asset(project, "twin/b", declaration=declaration_dict(
        "b", asset_uuid=twin["asset_uuid"]), register=False)  # PK109 both ways
    write_asset(project, "same/one", name="clash")
    write_asset(project, "same/two", name="clash")  # PK116
    held = write_asset(project, "held", register=False,
                       declaration=declaration_dict("held", inputs={"data": ["nope.bin"]}))
    register_root(project, "held", held["asset_uuid"], quarantined=True)
    write_asset(project, "glyph", declaration=declaration_dict(
        "glyph", asset_type="glyph_bank", inputs={"tiles": ["t.png"], "palette": ["p.png"]}),
        files={"t.png": b"not a png", "p.png": b"nor this"})  # format findings
    (project.assets_dir / "loose.bin").write_bytes(b"hero")  # a copy outside every root
    return project


def _every_reference(project: Project) -> list[int | str]:
    listing = list_assets_report(project)
    refs: list[int | str] = [a.root for a in listing.assets]
    refs += [a.asset_id for a in listing.assets if a.asset_id is not None]
    return refs


def test_details_with_the_index_agree_with_a_full_read(project: Project) -> None:
    listing, index = list_assets_indexed(project)
    assert listing == list_assets_report(project)
    codes: set[str] = set()
    for ref in _every_reference(project):
        fast_sink, full_sink = ListSink(), ListSink()
        fast = get_asset_details(project, ref, fast_sink, index=index)
        assert fast == get_asset_details(project, ref, full_sink), ref
        assert [(e.project_id, e.kind, e.summary, e.detail, e.affected_assets)
                for e in fast_sink.events] == [
            (e.project_id, e.kind, e.summary, e.detail, e.affected_assets)
            for e in full_sink.events]
        codes |= {d.code for d in fast.diagnostics}
    # the fixture covers what reading one asset alone must get right
    assert {"PK101", "PK102", "PK106", "PK109", "PK111", "PK116", "PK201", "PK202",
            "PK203", "PK205"} <= codes


def test_index_after_a_change_reads_the_asset_as_it_is_now(project: Project) -> None:
    """The asset itself is always read fresh: an edit of its asset.json, a new file in it, a
    registry change (excluded from the build) are seen without a new listing."""
    _listing, index = list_assets_indexed(project)
    root = project.assets_dir / "banks/hero"
    decl = json.loads((root / "asset.json").read_text())
    decl["name"] = "Hero Renamed"
    (root / "asset.json").write_text(json.dumps(decl))
    (root / "extra.bin").write_bytes(b"outer")  # a copy of outer's input
    registry = project.load_registry()
    project.save_registry(registry.model_copy(update={"assets": tuple(
        e.model_copy(update={"included_in_build": e.root != "banks/hero"})
        for e in registry.assets)}))
    fast = get_asset_details(project, "banks/hero", index=index)
    assert fast == get_asset_details(project, "banks/hero")
    assert fast.name == "Hero Renamed" and not fast.included_in_build
    assert {"PK202", "PK205"} <= {d.code for d in fast.diagnostics}


def test_the_others_come_from_the_index(project: Project, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    """Another asset's uuid is taken from the index, not read again: that is what keeps one
    read from scanning everything (the Studio lists again when the others change)."""
    _listing, index = list_assets_indexed(project)
    twin_b = project.assets_dir / "twin/b/asset.json"
    decl = json.loads(twin_b.read_text())
    decl["asset_uuid"] = "00000000-0000-4000-8000-000000000000"
    twin_b.write_text(json.dumps(decl))

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole workspace was scanned")

    monkeypatch.setattr("packer.doctor.queries.build_snapshot", no_scan)
    fast = get_asset_details(project, "twin/a", index=index)
    assert "PK109" in {d.code for d in fast.diagnostics}  # as the index saw twin/b
    monkeypatch.undo()
    assert "PK109" not in {d.code for d in get_asset_details(project, "twin/a").diagnostics}
    fresh = workspace_index(project)
    assert get_asset_details(project, "twin/a", index=fresh) == get_asset_details(
        project, "twin/a")


def test_registry_is_read_again_only_when_it_changed(project: Project,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _listing, index = list_assets_indexed(project)
    loads: list[Path] = []

    def counting(path: Path) -> Registry:
        loads.append(path)
        return load_registry(path)

    monkeypatch.setattr(one_asset, "load_registry", counting)
    get_asset_details(project, 1, index=index)
    get_asset_details(project, "sfx", index=index)
    assert loads == []
    register_root(project, "wip/New Thing", "11111111-1111-4111-8111-111111111111")
    get_asset_details(project, 1, index=index)
    get_asset_details(project, 2, index=index)
    assert len(loads) == 1


def test_what_only_a_full_read_can_answer_falls_back_to_it(project: Project) -> None:
    _listing, index = list_assets_indexed(project)
    (project.root.parent / "outside").mkdir()
    write_asset(project, "../outside/stray", register=False)  # an asset.json outside assets/
    for ref in (999, "nowhere", "#999", "../outside/stray", "banks/../../outside/stray"):
        with pytest.raises(AssetNotFoundError) as fast:
            get_asset_details(project, ref, index=index)
        with pytest.raises(AssetNotFoundError) as full:
            get_asset_details(project, ref)
        assert str(fast.value) == str(full.value)
    (project.assets_dir / "linked").symlink_to(project.assets_dir / "banks")
    with pytest.raises(AssetNotFoundError):
        get_asset_details(project, "linked/hero", index=index)  # never read through a link
    project.registry_path.write_text("{")
    with pytest.raises(AssetNotFoundError) as unreadable:
        get_asset_details(project, 1, index=index)
    assert "the registry cannot be read" in str(unreadable.value)
