"""An apply reports the changed asset as a scan would (packer.mutations.service._record_after):
the same events whether it reads the asset's folder alone beside the other assets
(packer.workspace.one_root) or scans the whole workspace again, for every action and for the
findings that compare an asset with the others (PK109, PK111, PK116)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from packer.files.project import Project, open_project
from packer.lane.cancellation import CancellationToken
from packer.lane.sinks import ListSink
from packer.mutations import (
    MutationAction,
    MutationRequest,
    apply_mutation,
    preview_mutation,
    service,
)
from packer.workspace import one_root
from packer.workspace.scan import build_snapshot
from tests.packer.mutation_support import make_project, mutate, write_raw_asset

A = MutationAction


def _twin_of_loose(project: Project) -> None:
    decl = json.loads((project.assets_dir / "wip/loose/asset.json").read_text())
    write_raw_asset(project, "wip/twin", "twin", asset_uuid=decl["asset_uuid"])


def _second_hero(project: Project) -> None:
    write_raw_asset(project, "sprites/hero2", "hero")
    assert mutate(project, A.REGISTER, "sprites/hero2").applied


def _second_hero_and_exclude_the_first(project: Project) -> None:
    _second_hero(project)
    assert mutate(project, A.EXCLUDE, 1).applied


def _levels(project: Project) -> None:
    (project.assets_dir / "levels").mkdir()
    (project.assets_dir / "levels" / "level1.bin").write_bytes(b"\x01\x02")


# name: (setup, request)
SCENARIOS: dict[str, tuple[Callable[[Project], object] | None, MutationRequest]] = {
    "register": (None, MutationRequest(action=A.REGISTER, asset="wip/loose")),
    "register beside a uuid twin (PK109)": (
        _twin_of_loose, MutationRequest(action=A.REGISTER, asset="wip/loose")),
    "adopt": (None, MutationRequest(action=A.ADOPT, asset="wip/loose")),
    "forget": (None, MutationRequest(action=A.FORGET, asset=1)),
    "forget beside a uuid twin": (
        lambda p: write_raw_asset(p, "wip/copy", "copy", asset_uuid=_uuid(p, "sprites/hero")),
        MutationRequest(action=A.FORGET, asset=1)),
    "remove": (None, MutationRequest(action=A.REMOVE, asset=2)),
    "quarantine": (None, MutationRequest(action=A.QUARANTINE, asset=2)),
    "restore": (lambda p: mutate(p, A.QUARANTINE, 2),
                MutationRequest(action=A.RESTORE, asset=2)),
    "relocate": (None, MutationRequest(action=A.RELOCATE, asset=1, to="chars/hero")),
    "rename an asset inside another (PK111)": (
        lambda p: write_raw_asset(p, "sounds/music/inner", "inner"),
        MutationRequest(action=A.RENAME, asset="sounds/music/inner", name="nested")),
    "include": (lambda p: mutate(p, A.EXCLUDE, 1), MutationRequest(action=A.INCLUDE, asset=1)),
    "include beside a namesake (PK116)": (
        _second_hero_and_exclude_the_first, MutationRequest(action=A.INCLUDE, asset=1)),
    "exclude": (None, MutationRequest(action=A.EXCLUDE, asset=1)),
    "exclude beside a namesake": (
        _second_hero, MutationRequest(action=A.EXCLUDE, asset=1)),
    "rename": (None, MutationRequest(action=A.RENAME, asset=1, name="player")),
    "rename to a name in the build (PK116)": (
        None, MutationRequest(action=A.RENAME, asset=1, name="music")),
    "new": (_levels, MutationRequest(action=A.NEW, asset="levels", name="level_one")),
}


def _uuid(project: Project, root: str) -> str:
    uuid: str = json.loads((project.assets_dir / root / "asset.json").read_text())["asset_uuid"]
    return uuid


def _applied_events(project: Project, request: MutationRequest) -> list[tuple[Any, ...]]:
    preview = preview_mutation(project, request)
    assert not preview.blocked, preview.blockers
    sink = ListSink()
    result = apply_mutation(project, preview, consent=True, sink=sink)
    assert result.applied, result.message
    return [(e.kind, e.summary, e.detail.model_dump() if e.detail else None, e.affected_assets)
            for e in sink.events]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_an_apply_reports_the_asset_as_a_scan_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    setup, request = SCENARIOS[scenario]
    made = make_project(tmp_path / "made")
    if setup is not None:
        setup(made)
    shutil.copytree(made.root, tmp_path / "scanned")  # the same uuids and registry
    reads: list[str] = []
    real = one_root.read_beside

    def reading(*args: Any, **kwargs: Any) -> Any:
        known, record = real(*args, **kwargs)
        reads.append(f"known={known}")
        return known, record

    monkeypatch.setattr(service, "read_beside", reading)
    beside = _applied_events(made, request)
    assert reads == ["known=True"]  # the folder alone was read, no scan
    monkeypatch.setattr(service, "read_beside", lambda *a, **k: (False, None))
    scanned = _applied_events(open_project(tmp_path / "scanned"), request)
    assert beside == scanned
    if "(PK" in scenario:  # the finding that compares the asset with the others is there
        code = scenario.split("(")[1].rstrip(")")
        assert code in str(beside)


def test_the_record_read_beside_is_the_scans(tmp_path: Path) -> None:
    """Directly, for every root of a project with nesting, twins and namesakes."""
    project = make_project(tmp_path)
    _twin_of_loose(project)
    _second_hero(project)
    write_raw_asset(project, "sounds/music/inner", "inner")
    snapshot = build_snapshot(project)
    for record in snapshot.assets:
        others = [r for r in snapshot.assets if r is not record]
        assert one_root.read_beside(project, record.root, others, CancellationToken()) == (
            True, record)
    assert one_root.read_beside(project, "no/such", list(snapshot.assets),
                                CancellationToken()) == (True, None)


def test_a_symlink_on_the_way_is_left_to_a_scan(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project.assets_dir / "linked").symlink_to(project.assets_dir / "sprites")
    snapshot = build_snapshot(project)
    assert one_root.read_beside(project, "linked/hero", list(snapshot.assets),
                                CancellationToken()) == (False, None)


def test_a_folder_the_walk_has_problems_with_is_left_to_a_scan(tmp_path: Path) -> None:
    """A name that is not UTF-8 (PK207): what a scan makes of it is the scan's to say."""
    project = make_project(tmp_path)
    folder = os.fsencode(project.assets_dir / "sprites/hero")
    with open(os.path.join(folder, b"bad\xff.bin"), "wb") as out:
        out.write(b"x")
    snapshot = build_snapshot(project)
    assert one_root.read_beside(project, "sprites/hero", list(snapshot.assets),
                                CancellationToken()) == (False, None)
