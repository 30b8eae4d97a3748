"""Small and large synthetic projects for Studio tests and benchmarks (raw assets only)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from packer.files.project import Project, create_project
from packer.files.registry import RegistryEntry


def _write_raw_asset(assets_dir: Path, root: str, name: str, payload: bytes) -> str:
    folder = assets_dir / root
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.bin").write_bytes(payload)
    asset_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"prometeu-test:{root}"))
    declaration = {
        "schema_version": 1, "asset_uuid": asset_uuid, "name": name, "type": "raw",
        "inputs": {"data": ["data.bin"]},
        "output": {"format": "RAW/bytes_v1", "codec": "none"},
        "preload": {"enabled": False},
    }
    (folder / "asset.json").write_text(json.dumps(declaration, indent=2), encoding="utf-8")
    return asset_uuid


def make_raw_project(
    where: Path, *, registered: int = 2, unregistered: int = 1, missing: int = 0,
    name: str = "synthetic",
) -> Project:
    """A project with `registered` raw assets (ids 1..n), plus unregistered and missing ones."""
    project = create_project(where, name)
    registry = project.load_registry()
    entries = list(registry.assets)
    next_id = registry.next_asset_id
    for index in range(registered):
        root = f"raw/blob_{index:05d}"
        asset_uuid = _write_raw_asset(project.assets_dir, root, f"blob_{index:05d}",
                                      bytes([index % 256]) * 64)
        entries.append(RegistryEntry(asset_id=next_id, root=root, asset_uuid=asset_uuid))
        next_id += 1
    for index in range(missing):
        entries.append(RegistryEntry(
            asset_id=next_id, root=f"gone/lost_{index}",
            asset_uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"prometeu-test:gone/{index}")),
        ))
        next_id += 1
    for index in range(unregistered):
        _write_raw_asset(project.assets_dir, f"wip/loose_{index}", f"loose_{index}", b"wip")
    project.save_registry(
        registry.model_copy(update={"assets": tuple(entries), "next_asset_id": next_id})
    )
    return project


PALETTE = [(0, 0, 0), (255, 255, 255), (200, 40, 40), (40, 160, 60), (30, 60, 200)]


def _declaration(asset_uuid: str, name: str, asset_type: str, inputs: dict[str, list[str]],
                 output_format: str, *, metadata: dict[str, int] | None = None) -> str:
    return json.dumps({
        "schema_version": 1, "asset_uuid": asset_uuid, "name": name, "type": asset_type,
        "inputs": inputs,
        "output": {"format": output_format, "codec": "none", "metadata": metadata or {}},
        "preload": {"enabled": True},
    }, indent=2)


def _register(project: Project, root: str, asset_uuid: str) -> int:
    registry = project.load_registry()
    asset_id = registry.next_asset_id
    entry = RegistryEntry(asset_id=asset_id, root=root, asset_uuid=asset_uuid)
    project.save_registry(registry.model_copy(update={
        "assets": (*registry.assets, entry), "next_asset_id": asset_id + 1,
    }))
    return asset_id


def add_glyph_bank(project: Project, root: str = "gfx/hero", tiles: int = 3,
                   tile_size: int = 8) -> int:
    """A registered glyph bank: `tiles` PNG tiles (striped with palette colours), one palette."""
    from PIL import Image

    folder = project.assets_dir / root
    folder.mkdir(parents=True)
    strip = Image.new("RGB", (len(PALETTE), 1))
    strip.putdata(PALETTE)
    strip.save(folder / "palette.png")
    names = []
    for index in range(tiles):
        tile = Image.new("RGBA", (tile_size, tile_size))
        tile.putdata([
            (*PALETTE[1 + (x + y + index) % (len(PALETTE) - 1)], 255)
            for y in range(tile_size) for x in range(tile_size)
        ])
        name = f"{index:03d}_tile.png"
        tile.save(folder / name)
        names.append(name)
    asset_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"prometeu-test:{root}"))
    (folder / "asset.json").write_text(_declaration(
        asset_uuid, root.rsplit("/", 1)[-1], "glyph_bank",
        {"tiles": names, "palettes": ["palette.png"]}, "GLYPH/indexed_v1",
        metadata={"tile_size": tile_size},
    ), encoding="utf-8")
    return _register(project, root, asset_uuid)


def add_sound_bank(project: Project, root: str = "sfx/beeps", rate: int = 8000,
                   frames: int = 4000) -> int:
    """A registered sound bank with one mono 16-bit WAV of a square wave."""
    import struct
    import wave

    folder = project.assets_dir / root
    folder.mkdir(parents=True)
    with wave.open(str(folder / "beep.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(
            struct.pack("<h", 12000 if (i // 20) % 2 else -12000) for i in range(frames)
        ))
    asset_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"prometeu-test:{root}"))
    (folder / "asset.json").write_text(_declaration(
        asset_uuid, root.rsplit("/", 1)[-1], "sound_bank", {"samples": ["beep.wav"]},
        "SOUNDS/pcm16le_v1",
    ), encoding="utf-8")
    return _register(project, root, asset_uuid)
