"""Small real projects made on the fly for the scan, doctor, queries and CLI tests."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from packer.files.project import Project, create_project, open_project
from packer.files.registry import RegistryEntry

FORMATS = {"glyph_bank": "GLYPH/indexed_v1", "sound_bank": "SOUNDS/pcm16le_v1",
           "raw": "RAW/bytes_v1"}


def make_project(tmp_path: Path, name: str = "game") -> Project:
    return create_project(tmp_path / name, name)


def declaration_dict(
    name: str,
    *,
    asset_type: str = "raw",
    inputs: dict[str, list[str]] | None = None,
    asset_uuid: str | None = None,
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "asset_uuid": asset_uuid or str(uuid.uuid4()),
        "name": name,
        "type": asset_type,
        "inputs": inputs if inputs is not None else {"data": ["data.bin"]},
        "output": {"format": FORMATS[asset_type], "codec": "none"},
        "preload": {"enabled": False},
    }


def write_asset(
    project: Project,
    root: str,
    *,
    name: str | None = None,
    files: dict[str, bytes] | None = None,
    declaration: dict[str, Any] | None = None,
    register: bool = True,
    included: bool = True,
) -> dict[str, Any]:
    """A raw asset at assets/<root> with its input files; registered unless told otherwise."""
    base = project.assets_dir / root
    base.mkdir(parents=True, exist_ok=True)
    decl = declaration or declaration_dict(name or root.rsplit("/", 1)[-1])
    for rel, data in (files if files is not None else {"data.bin": b"payload " + root.encode()}
                      ).items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(data)
    (base / "asset.json").write_text(json.dumps(decl, indent=2) + "\n", encoding="utf-8")
    if register:
        register_root(project, root, decl["asset_uuid"], included=included)
    return decl


def register_root(project: Project, root: str, asset_uuid: str, *, included: bool = True,
                  quarantined: bool = False) -> int:
    registry = project.load_registry()
    asset_id = registry.next_asset_id
    entry = RegistryEntry(asset_id=asset_id, root=root, asset_uuid=asset_uuid,
                          included_in_build=included, quarantined=quarantined)
    project.save_registry(registry.model_copy(update={
        "assets": (*registry.assets, entry), "next_asset_id": asset_id + 1,
    }))
    return asset_id


def reopen(project: Project) -> Project:
    return open_project(project.root)
