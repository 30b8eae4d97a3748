"""End to end on a copy of the bundled sample project: mutations through the command line, then
a build that reflects them (ids kept across moves, quarantine out of the build, ids not reused)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from packer.build.runner import build
from packer.cli.main import main
from packer.files.project import Project, open_project
from packer.workspace.scan import AssetState, build_snapshot

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample-project"
Captured = pytest.CaptureFixture[str]


@pytest.fixture
def sample(tmp_path: Path) -> Project:
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns(
        "build", ".studio", "cache.json", "lock", "build.lock"))
    return open_project(target)


def cli(capsys: Captured, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, out + err
    return out


def built_table(project: Project) -> list[tuple[int, str]]:
    result = build(project)
    assert result.succeeded, result.error or result.blocking
    table = json.loads((project.build_dir / "asset_table.json").read_text(encoding="utf-8"))
    return [(entry["asset_id"], entry["asset_name"]) for entry in table]


def test_a_session_of_mutations_on_the_sample(sample: Project, capsys: Captured) -> None:
    root = str(sample.root)
    assert built_table(sample) == [(1, "overworld"), (2, "font"), (3, "core"), (4, "level1")]
    uuids = {e.asset_id: e.asset_uuid for e in sample.load_registry().assets}

    cli(capsys, "adopt", root, "wip/boss_tiles", "--yes")
    cli(capsys, "quarantine", root, "1", "--yes")
    snapshot = build_snapshot(sample)
    quarantined = snapshot.by_id(1)
    assert quarantined is not None and quarantined.state is AssetState.QUARANTINED
    assert quarantined.root == f".prometeu/quarantine/{uuids[1]}"
    assert built_table(sample) == [(2, "font"), (3, "core"), (4, "level1"), (5, "boss_tiles")]

    cli(capsys, "restore", root, "tiles/overworld", "--yes")
    cli(capsys, "relocate", root, "3", "--to", "audio/sfx", "--yes")
    cli(capsys, "rename", root, "4", "--name", "level_one", "--yes")
    cli(capsys, "exclude", root, "2", "--yes")
    assert built_table(sample) == [
        (1, "overworld"), (3, "core"), (4, "level_one"), (5, "boss_tiles"),
    ]
    registry = sample.load_registry()
    assert {e.asset_id: e.asset_uuid for e in registry.assets if e.asset_id in uuids} == uuids
    assert registry.by_id(3).root == "audio/sfx"  # type: ignore[union-attr]

    cli(capsys, "forget", root, "5", "--yes")
    cli(capsys, "register", root, "wip/boss_tiles", "--yes")
    cli(capsys, "remove", root, "#4", "--yes")
    registry = sample.load_registry()
    assert sorted(e.asset_id for e in registry.assets) == [1, 2, 3, 6]
    assert registry.next_asset_id == 7
    assert not (sample.assets_dir / "data/level1").exists()
    assert built_table(sample) == [(1, "overworld"), (3, "core"), (6, "boss_tiles")]
    assert not any(e.state is not AssetState.REGISTERED
                   for e in build_snapshot(sample).assets)
    assert not (sample.packer_dir / "journal").exists()
    assert not (sample.packer_dir / "trash").exists()
