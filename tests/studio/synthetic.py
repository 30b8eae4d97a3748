"""Small and large synthetic projects for Studio tests and benchmarks (raw assets only)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from packer.project import Project, create_project
from packer.registry import RegistryEntry


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
