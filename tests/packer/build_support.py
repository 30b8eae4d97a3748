"""Helpers for the build tests: small projects with fixed identities, and build/ snapshots."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from PIL import Image

from packer.files.project import Project, create_project, open_project
from packer.files.registry import Registry, RegistryEntry
from tests.packer.formats_support import write_palette, write_png, write_wav

PROJECT_ID = "11111111-2222-4333-8444-555555555555"


def fixed_uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def new_project(base: Path, name: str = "game") -> Project:
    project = create_project(base / name, name)
    project.save_registry(Registry(project_id=PROJECT_ID, next_asset_id=1, assets=()))
    return open_project(project.root)


def add_asset(
    project: Project,
    root: str,
    asset_type: str,
    inputs: dict[str, list[str]],
    *,
    name: str | None = None,
    number: int | None = None,
    metadata: dict[str, Any] | None = None,
    pipeline: dict[str, Any] | None = None,
    preload: bool = False,
    included: bool = True,
    register: bool = True,
) -> int | None:
    """Write assets/<root>/asset.json (inputs must already exist) and register it."""
    registry = project.load_registry()
    asset_id = registry.next_asset_id
    fmt = {"glyph_bank": "GLYPH/indexed_v1", "sound_bank": "SOUNDS/pcm16le_v1",
           "raw": "RAW/bytes_v1"}[asset_type]
    uuid = fixed_uuid(number if number is not None else asset_id)
    decl = {
        "schema_version": 1, "asset_uuid": uuid, "name": name or root.rsplit("/", 1)[-1],
        "type": asset_type, "inputs": inputs,
        "output": {"format": fmt, "codec": "none", "metadata": metadata or {},
                   "pipeline": pipeline or {}},
        "preload": {"enabled": preload},
    }
    path = project.assets_dir / root / "asset.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(decl, indent=2) + "\n", encoding="utf-8")
    if not register:
        return None
    entry = RegistryEntry(asset_id=asset_id, root=root, asset_uuid=uuid,
                          included_in_build=included)
    project.save_registry(registry.model_copy(update={
        "assets": (*registry.assets, entry), "next_asset_id": asset_id + 1}))
    return asset_id


def add_raw(project: Project, root: str, data: bytes, **kwargs: Any) -> int | None:
    path = project.assets_dir / root / "data.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return add_asset(project, root, "raw", {"data": ["data.bin"]}, **kwargs)


PALETTE = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)]


def add_glyph(project: Project, root: str, *, tiles: int = 2, tile_size: int = 8,
              colour: tuple[int, int, int] = (255, 0, 0), **kwargs: Any) -> int | None:
    base = project.assets_dir / root
    write_palette(base / "palette.png", PALETTE)
    names = []
    for index in range(tiles):
        image = Image.new("RGBA", (tile_size, tile_size), (0, 0, 0, 0))
        image.putpixel((index % tile_size, 0), (*colour, 255))
        name = f"tiles/{index:03d}_t.png"
        write_png(base / name, image)
        names.append(name)
    return add_asset(project, root, "glyph_bank", {"tiles": names, "palettes": ["palette.png"]},
                     metadata={"tile_size": tile_size}, **kwargs)


def add_sound(project: Project, root: str, *, samples: int = 2, frames: int = 64,
              **kwargs: Any) -> int | None:
    base = project.assets_dir / root
    names = []
    for index in range(samples):
        name = f"s{index}.wav"
        write_wav(base / name, bytes((index + k) % 256 for k in range(frames * 2)))
        names.append(name)
    return add_asset(project, root, "sound_bank", {"samples": names}, **kwargs)


BUILD_FILES = ("assets.pa", "asset_table.json", "preload.json", "asset_table_metadata.json")


def snapshot_build(project: Project) -> dict[str, bytes]:
    """Every file under build/ (staging included) by relative path, for exact comparisons."""
    found: dict[str, bytes] = {}
    if project.build_dir.is_dir():
        for path in sorted(project.build_dir.rglob("*")):
            if path.is_file():
                found[path.relative_to(project.build_dir).as_posix()] = path.read_bytes()
    return found


def copy_project(project: Project, target: Path) -> Project:
    shutil.copytree(project.root, target, symlinks=True)
    return open_project(target)
