"""Equal inputs give identical bytes: whatever the directory order, path, or hash seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from packer.build import build, runner
from packer.files.project import Project, open_project
from tests.packer.build_support import (
    add_asset,
    add_glyph,
    add_raw,
    add_sound,
    copy_project,
    new_project,
    snapshot_build,
)

REPO = Path(__file__).resolve().parents[2]


def make(base: Path, *, reverse: bool) -> Project:
    """Same project; the folders and files are created in the opposite order when `reverse`."""
    project = new_project(base)
    roots = ["zeta/raw", "alpha/raw", "mid/notes", "beta/raw"]
    for root in reversed(roots) if reverse else roots:
        path = project.assets_dir / root / "data.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(root.encode() * 50)
    for index, root in enumerate(roots, start=1):
        add_asset(project, root, "raw", {"data": ["data.bin"]}, name=f"r{index}",
                  preload=index % 2 == 0)
    add_glyph(project, "glyphs/font", tiles=3)
    add_sound(project, "sounds/sfx", samples=3)
    add_raw(project, "unicode/ñame", "héllo".encode(), name="unicode_name")
    return project


def test_directory_order_and_absolute_path_do_not_change_the_bytes(tmp_path: Path) -> None:
    first = make(tmp_path / "one", reverse=False)
    second = make(tmp_path / "deeper" / "path" / "two", reverse=True)
    assert build(first).succeeded and build(second).succeeded
    assert snapshot_build(first) == snapshot_build(second)


def test_hash_seed_does_not_change_the_bytes(tmp_path: Path) -> None:
    original = make(tmp_path / "src", reverse=False)
    outputs = []
    for seed in ("0", "12345", "random"):
        copy = copy_project(original, tmp_path / f"seed-{seed}")
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-c", "import sys; from packer.build import build; "
             "from packer.files.project import open_project; "
             "sys.exit(0 if build(open_project(sys.argv[1])).succeeded else 1)", str(copy.root)],
            check=True, env=env, cwd=REPO,
        )
        outputs.append(snapshot_build(copy))
    assert outputs[0] == outputs[1] == outputs[2]
    assert "assets.pa" in outputs[0]


def test_a_project_opened_through_links_builds_the_same_bytes(tmp_path: Path) -> None:
    # The build resolves assets/ once and each root below it: a project reached through a
    # linked folder reads the same inputs, so it builds the same bytes.
    real = make(tmp_path / "real", reverse=False)
    build(real)
    expected = snapshot_build(real)
    linked_root = tmp_path / "linked" / "project"
    linked_root.parent.mkdir()
    linked_root.symlink_to(real.root, target_is_directory=True)
    linked = open_project(linked_root)
    result = build(linked, use_cache=False)
    assert result.succeeded, result
    assert snapshot_build(linked) == expected


def test_an_input_swapped_for_an_escaping_link_after_the_scan_is_refused_by_the_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each miss's root is resolved from assets/ (no realpath per asset); its inputs are still
    # resolved below that root when read, so a link leading out is refused, never followed.
    project = new_project(tmp_path / "p")
    add_raw(project, "data/level", b"inside", name="level")
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"outside")
    real_select = runner.select  # type: ignore[attr-defined]

    def select_then_swap(*args: object, **kwargs: object) -> object:
        selection = real_select(*args, **kwargs)  # type: ignore[arg-type]
        data = next((project.assets_dir / "data" / "level").glob("*.bin"))
        data.unlink()
        data.symlink_to(secret)
        return selection

    monkeypatch.setattr(runner, "select", select_then_swap)
    result = build(project, use_cache=False)
    assert not result.succeeded
    assert [d.code for d in result.diagnostics] == ["PK107"]
    assert not (project.build_dir / "assets.pa").exists()
