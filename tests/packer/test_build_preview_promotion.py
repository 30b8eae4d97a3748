"""Previews are promoted file by file: only changed ones are rewritten, stale ones are deleted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PIL import Image

from packer.build import build
from packer.build.staging import COMMIT_MARKER, PREVIEWS_DIR, STAGING_DIR, recover_staging
from packer.files.registry import RegistryEntry
from tests.packer.build_support import (
    PALETTE,
    add_glyph,
    add_raw,
    copy_project,
    new_project,
    snapshot_build,
)
from tests.packer.formats_support import write_png


def test_a_rebuild_keeps_identical_previews_and_replaces_changed_ones(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_glyph(project, "glyphs/a")
    add_glyph(project, "glyphs/b", colour=(0, 255, 0))
    assert build(project).succeeded
    previews = project.build_dir / PREVIEWS_DIR
    inode_a, inode_b = ((previews / n).stat().st_ino for n in ("1.png", "2.png"))
    tile = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    tile.putpixel((3, 3), (*PALETTE[3], 255))
    write_png(project.assets_dir / "glyphs/b/tiles/000_t.png", tile)  # b's sheet changes
    result = build(project, use_cache=False)
    assert result.succeeded
    assert result.previews == ("build/previews/1.png", "build/previews/2.png")  # both encoded
    assert (previews / "1.png").stat().st_ino == inode_a  # identical bytes: left alone
    assert (previews / "2.png").stat().st_ino != inode_b
    fresh = copy_project(project, tmp_path / "fresh")
    shutil.rmtree(fresh.build_dir)
    assert build(fresh, use_cache=False).succeeded
    assert snapshot_build(project) == snapshot_build(fresh)


def test_a_preview_of_an_asset_gone_from_the_build_is_deleted(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_glyph(project, "glyphs/a")
    add_raw(project, "raw", b"x")
    add_glyph(project, "glyphs/b")
    assert build(project).succeeded
    registry = project.load_registry()
    entries = tuple(RegistryEntry(asset_id=e.asset_id, root=e.root, asset_uuid=e.asset_uuid,
                                  included_in_build=e.root != "glyphs/a")
                    for e in registry.assets)
    project.save_registry(registry.model_copy(update={"assets": entries}))
    (project.build_dir / PREVIEWS_DIR / "notes.txt").write_text("not a preview")
    assert build(project).succeeded
    assert sorted(p.name for p in (project.build_dir / PREVIEWS_DIR).iterdir()) == ["3.png"]


def test_a_marker_from_an_older_packer_still_rolls_forward(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_glyph(project, "glyphs/a")
    assert build(project).succeeded
    expected = snapshot_build(project)
    staging = project.build_dir / STAGING_DIR / "older"
    shutil.copytree(project.build_dir / PREVIEWS_DIR, staging / PREVIEWS_DIR)
    (project.build_dir / PREVIEWS_DIR / "1.png").write_bytes(b"torn")
    (staging / COMMIT_MARKER).write_text(json.dumps({"files": [], "previews": True}))
    assert recover_staging(project.build_dir) == ["completed the interrupted promotion older"]
    assert snapshot_build(project) == expected
