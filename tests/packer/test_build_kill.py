"""A build process killed (SIGKILL) at any step leaves build/ as the old build or the new one.

The child kills itself at a deterministic step (packer.build.faults, PROMETEU_PACKER_FAULT), so
no timing is involved. Before the commit marker the old build must be intact, byte for byte;
after it, the roll-forward that starts every build (`recover_staging`) yields the new build.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from packer.build import build
from packer.build.faults import ENV_VAR
from packer.build.staging import pending_promotions, recover_staging
from packer.files.project import Project
from tests.packer.build_support import (
    add_glyph,
    add_raw,
    add_sound,
    copy_project,
    new_project,
    snapshot_build,
)

REPO = Path(__file__).resolve().parents[2]
BEFORE_COMMIT = ["check", "check:3", "encode", "encode:4", "write", "staged"]
AFTER_COMMIT = [
    "committed", "promote:asset_table_metadata.json", "promote:asset_table.json",
    "promote:preload.json", "promote:assets.pa", "promoted", "cached",
]
# A few more encode points chosen by a seeded generator: reproducible, yet not hand-picked.
RANDOM_POINTS = [f"encode:{n}" for n in random.Random(20261126).sample(range(1, 6), 2)]


def published(project: Project) -> dict[str, bytes]:
    return {k: v for k, v in snapshot_build(project).items() if not k.startswith(".staging/")}


def old_and_changed(tmp_path: Path) -> tuple[Project, dict[str, bytes], dict[str, bytes]]:
    project = new_project(tmp_path / "work")
    add_raw(project, "raw/a", b"a" * 5000)
    add_glyph(project, "glyphs/font")
    add_sound(project, "sounds/sfx")
    add_raw(project, "raw/b", b"b" * 70)
    assert build(project).succeeded
    old = published(project)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"A" * 6000)
    add_glyph(project, "glyphs/other", tiles=3, colour=(0, 255, 0))
    expected = copy_project(project, tmp_path / "expected")
    assert build(expected, use_cache=False).succeeded
    new = published(expected)
    assert new != old
    return project, old, new


def run_killed_build(project: Project, step: str) -> int:
    env = {**os.environ, ENV_VAR: step}
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from packer.build import build; "
         "from packer.files.project import open_project; build(open_project(sys.argv[1]))",
         str(project.root)],
        env=env, cwd=REPO, capture_output=True, check=False,
    )
    return child.returncode


@pytest.mark.parametrize("step", BEFORE_COMMIT + RANDOM_POINTS + AFTER_COMMIT)
def test_killed_build_leaves_old_or_new_build(tmp_path: Path, step: str) -> None:
    project, old, new = old_and_changed(tmp_path)
    assert run_killed_build(project, step) == -signal.SIGKILL
    committed = pending_promotions(project.build_dir)
    if step in AFTER_COMMIT:
        if step in {"promoted", "cached"}:
            assert committed == [] and published(project) == new
        else:
            assert len(committed) == 1
    else:
        assert committed == []
        assert published(project) == old, f"killed at {step}: old build/ was touched"
    recover_staging(project.build_dir)
    assert published(project) in (old, new)
    assert published(project) == (new if step in AFTER_COMMIT else old)
    assert not (project.build_dir / ".staging").exists()
    result = build(project)
    assert result.succeeded
    assert published(project) == new
    assert not (project.build_dir / ".staging").exists()
