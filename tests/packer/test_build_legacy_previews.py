"""build/previews/ of an older packer: the next build removes its `<asset_id>.png` files only.

The build writes no previews any more (the Studio draws a glyph bank's sheet itself); a build/
left by an older packer loses them at the next promotion, and the folder if that empties it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from packer.build import build, manifest_file, uptodate
from packer.build.staging import COMMIT_MARKER, LEGACY_PREVIEWS_DIR, STAGING_DIR, recover_staging
from packer.files.project import Project
from tests.packer.build_support import add_glyph, add_raw, new_project, snapshot_build


def _glyph_project(tmp_path: Path) -> Project:
    project = new_project(tmp_path)
    add_glyph(project, "glyphs/a")
    add_raw(project, "raw", b"x")
    add_glyph(project, "glyphs/b", colour=(0, 255, 0))
    return project


def _old_previews(project: Project, *names: str) -> Path:
    folder = project.build_dir / LEGACY_PREVIEWS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"\x89PNG old preview")
    return folder


def test_a_build_writes_no_previews(tmp_path: Path) -> None:
    project = _glyph_project(tmp_path)
    result = build(project, use_cache=False)
    assert result.succeeded
    assert not (project.build_dir / LEGACY_PREVIEWS_DIR).exists()
    assert sorted(snapshot_build(project)) == [
        "asset_table.json", "asset_table_metadata.json", "assets.pa", "preload.json"]


def test_the_old_previews_and_their_emptied_folder_are_removed(tmp_path: Path) -> None:
    project = _glyph_project(tmp_path)
    assert build(project).succeeded
    expected = snapshot_build(project)
    _old_previews(project, "1.png", "3.png", "12.png")  # an older packer's build, cache kept
    manifest_file.forget(project)  # as it does before it touches build/
    result = build(project)
    assert result.succeeded and not result.up_to_date  # build/ was not what this build writes
    assert snapshot_build(project) == expected
    assert not (project.build_dir / LEGACY_PREVIEWS_DIR).exists()


def test_nothing_but_the_packers_own_previews_is_removed(tmp_path: Path) -> None:
    project = _glyph_project(tmp_path)
    folder = _old_previews(project, "1.png", "0.png", "01.png", "x.png", "1.png.bak")
    (folder / "notes.txt").write_text("another tool's file")
    (folder / "4.png").mkdir()  # a folder, whatever its name
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(b"kept")
    os.symlink(outside, folder / "5.png")  # a link: neither it nor its target is ours
    (project.build_dir / "other_tool.bin").write_bytes(b"kept")
    assert build(project, use_cache=False).succeeded
    assert sorted(os.listdir(folder)) == ["01.png", "1.png.bak", "4.png", "5.png",
                                          "notes.txt", "x.png"]
    assert outside.read_bytes() == b"kept"
    assert (project.build_dir / "other_tool.bin").read_bytes() == b"kept"
    # What is left is not ours: the next builds are no-ops, by the manifest or by the cache.
    assert build(project).up_to_date
    manifest_file.forget(project)
    assert build(project).up_to_date


def test_a_symlinked_previews_folder_is_left_alone(tmp_path: Path) -> None:
    project = _glyph_project(tmp_path)
    assert build(project).succeeded
    target = tmp_path / "shared"
    target.mkdir()
    (target / "1.png").write_bytes(b"not ours to delete")
    os.symlink(target, project.build_dir / LEGACY_PREVIEWS_DIR)
    assert build(project, use_cache=False).succeeded
    assert (target / "1.png").read_bytes() == b"not ours to delete"
    assert (project.build_dir / LEGACY_PREVIEWS_DIR).is_symlink()


def test_previews_appearing_after_a_build_are_noticed_by_the_up_to_date_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An older packer killed after promoting its previews, before its cache and manifest: the
    # manifest recorded build/previews as absent, so the next build is not a no-op.
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)  # trusted by stat alone, at once
    project = _glyph_project(tmp_path)
    assert build(project).succeeded
    assert build(project).up_to_date
    expected = snapshot_build(project)
    _old_previews(project, "1.png", "3.png")
    result = build(project)
    assert result.succeeded and not result.up_to_date
    assert snapshot_build(project) == expected
    assert build(project).up_to_date


def test_a_committed_marker_of_an_older_packer_rolls_forward_without_its_previews(
    tmp_path: Path,
) -> None:
    project = _glyph_project(tmp_path)
    assert build(project).succeeded
    expected = snapshot_build(project)
    _old_previews(project, "1.png", "3.png")
    staging = project.build_dir / STAGING_DIR / "older"
    (staging / LEGACY_PREVIEWS_DIR).mkdir(parents=True)
    (staging / LEGACY_PREVIEWS_DIR / "1.png").write_bytes(b"\x89PNG staged by the older packer")
    (project.build_dir / "preload.json").rename(staging / "preload.json")
    (staging / COMMIT_MARKER).write_text(json.dumps({
        "files": ["asset_table_metadata.json", "asset_table.json", "preload.json", "assets.pa"],
        "previews": True, "preview_names": ["1.png", "3.png"]}))
    assert recover_staging(project.build_dir) == ["completed the interrupted promotion older"]
    assert snapshot_build(project) == expected  # preload.json promoted, no previews anywhere


def test_an_older_packers_cache_and_manifest_are_foreign_never_misread(tmp_path: Path) -> None:
    project = _glyph_project(tmp_path)
    assert build(project).succeeded
    expected = snapshot_build(project)
    # What an older packer left: version-1 cache entries with a preview_hash, a version-1
    # manifest listing the previews, and the previews themselves.
    cache = json.loads(project.cache_path.read_bytes())
    cache["schema_version"] = 1
    for entry in cache["assets"].values():
        entry["preview_hash"] = None
    project.cache_path.write_text(json.dumps(cache))
    manifest_path = manifest_file.manifest_path(project)
    manifest = json.loads(manifest_path.read_bytes())
    manifest.update(schema_version=1, previews=["1.png", "3.png"])
    manifest_path.write_text(json.dumps(manifest))
    _old_previews(project, "1.png", "3.png")
    result = build(project)
    assert result.succeeded and not result.up_to_date
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("PK206", "build cache not used: cache.json has schema_version 1; "
                  "this packer writes 2")]
    assert set(result.reasons().values()) == {"cache_missing_or_corrupt"}
    assert snapshot_build(project) == expected
    assert build(project).up_to_date
