"""What files dropped on the asset navigator (or chosen with "New Asset…") mean. Qt-free; it
looks at the disk, so it runs on a worker.

A project folder opens; a folder or files inside the open project's assets/ become a new asset
where they are; a folder or files from elsewhere are copied into a folder the user picks, in the
same preview (nothing is copied before Apply).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from packer.files.project import PROJECT_FILE


class AssetDropKind(StrEnum):
    OPEN_PROJECT = "open_project"
    NEW_ASSET = "new_asset"  # inside assets/: `root` (relative) and `files` (None: all)
    COPY_IN = "copy_in"  # outside: `source` folder, `files`, and a suggested `root`
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AssetDrop:
    kind: AssetDropKind
    message: str
    path: Path | None = None
    root: str | None = None
    files: tuple[str, ...] | None = None
    source: str | None = None


def _refused(message: str) -> AssetDrop:
    return AssetDrop(AssetDropKind.REFUSED, message)


def classify_asset_drop(local: list[str], remote: list[str], assets_dir: Path) -> AssetDrop:
    if remote:
        return _refused(f"Only files on this computer can make an asset, not {remote[0]}.")
    if not local:
        return _refused("Nothing that can make an asset was dropped.")
    try:
        return _classify(local, assets_dir)
    except OSError as exc:
        return _refused(f"The dropped items cannot be read ({exc.strerror or exc}).")


def _classify(local: list[str], assets_dir: Path) -> AssetDrop:
    paths = [Path(os.path.realpath(p)) for p in local]
    missing = [p for p in paths if not p.exists()]
    if missing:
        return _refused(f"{missing[0]} does not exist (moved or deleted?).")
    if len(paths) == 1 and (paths[0] / PROJECT_FILE).is_file():
        return AssetDrop(AssetDropKind.OPEN_PROJECT, f"Opening {paths[0].name}.", path=paths[0])
    if len(paths) == 1 and paths[0].is_dir():
        folder, files = paths[0], None
    else:
        parents = {p.parent for p in paths}
        if len(parents) != 1 or any(p.is_dir() for p in paths):
            return _refused("Drop one folder, or files that all lie in one folder: one folder "
                            "holds one asset.")
        folder, files = parents.pop(), tuple(sorted(p.name for p in paths))
    assets = Path(os.path.realpath(assets_dir))
    if folder == assets or assets in folder.parents:
        if folder == assets:
            return _refused("Files directly in assets/ cannot make an asset: put them in a "
                            "folder first (one folder holds one asset).")
        root = folder.relative_to(assets).as_posix()
        return AssetDrop(AssetDropKind.NEW_ASSET, f"New asset at {root}.", root=root,
                         files=files)
    if folder in assets.parents:
        return _refused(f"{folder} holds the project's assets/ folder; drop a folder of files.")
    return AssetDrop(AssetDropKind.COPY_IN, f"New asset from {folder}.", source=str(folder),
                     files=files, root=_free_name(assets, folder.name))


def _free_name(assets: Path, name: str) -> str:
    """A destination under assets/ named like the source folder, not taken yet."""
    base = name.strip() or "imported"
    candidate, number = base, 2
    while (assets / candidate).exists():
        candidate, number = f"{base}_{number}", number + 1
    return candidate
