"""Helpers for the mutation and lock tests: small projects, tree snapshots, injected faults."""

from __future__ import annotations

import errno
import json
import os
import uuid
from pathlib import Path

from packer.files.project import Project, create_project
from packer.mutations import (
    MutationAction,
    MutationPreview,
    MutationRequest,
    MutationResult,
    apply_mutation,
    preview_mutation,
)


def write_raw_asset(
    project: Project, root: str, name: str, *, asset_uuid: str | None = None,
    data: bytes = b"payload", extra: dict[str, bytes] | None = None,
) -> str:
    """A RAW/bytes_v1 asset at assets/<root>; returns its asset_uuid."""
    folder = project.assets_dir / root
    folder.mkdir(parents=True, exist_ok=True)
    ident = asset_uuid or str(uuid.uuid4())
    declaration = {
        "schema_version": 1, "asset_uuid": ident, "name": name, "type": "raw",
        "inputs": {"data": ["data.bin"]},
        "output": {"format": "RAW/bytes_v1", "codec": "none"},
        "preload": {"enabled": False},
    }
    (folder / "asset.json").write_text(json.dumps(declaration, indent=2) + "\n", encoding="utf-8")
    (folder / "data.bin").write_bytes(data)
    for rel, content in (extra or {}).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return ident


def make_project(base: Path) -> Project:
    """A project with #1 `hero` (sprites/hero), #2 `music` (sounds/music, with a nested file),
    and one unregistered asset `loose` at wip/loose."""
    project = create_project(base / "game", "game")
    write_raw_asset(project, "sprites/hero", "hero")
    write_raw_asset(project, "sounds/music", "music", extra={"notes/readme.txt": b"notes"})
    write_raw_asset(project, "wip/loose", "loose")
    for root in ("sprites/hero", "sounds/music"):
        result = mutate(project, MutationAction.REGISTER, root)
        assert result.applied, result.message
    return project


def mutate(
    project: Project, action: MutationAction, asset: int | str, *, to: str | None = None,
    name: str | None = None, consent: bool = True,
) -> MutationResult:
    preview = preview_of(project, action, asset, to=to, name=name)
    return apply_mutation(project, preview, consent=consent, lock_timeout=0)


def preview_of(
    project: Project, action: MutationAction, asset: int | str, *, to: str | None = None,
    name: str | None = None,
) -> MutationPreview:
    return preview_mutation(project, MutationRequest(action=action, asset=asset, to=to, name=name))


def tree_state(project: Project) -> dict[str, bytes | None]:
    """Every folder (None) and file (its bytes) under the project, but the lock file."""
    state: dict[str, bytes | None] = {}
    for folder, dirs, files in os.walk(project.root):
        dirs.sort()
        rel_folder = Path(folder).relative_to(project.root).as_posix()
        state[rel_folder + "/"] = None
        for name in files:
            rel = f"{rel_folder}/{name}" if rel_folder != "." else name
            if rel == "assets/.prometeu/lock":
                continue
            state[rel] = (Path(folder) / name).read_bytes()
    return state


class InjectedFault(OSError):
    def __init__(self, point: str) -> None:
        super().__init__(errno.ENOSPC, f"injected: no space left on device at {point!r}")


class FaultAt:
    """A fault hook that raises at its n-th call (0-based) and records the points it passed."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.points: list[str] = []
        self.hit: str | None = None

    def __call__(self, point: str) -> None:
        index = len(self.points)
        self.points.append(point)
        if index == self.n:
            self.hit = point
            raise InjectedFault(point)
