"""Staging and promotion: `build/` only ever changes by a committed, roll-forward promotion.

A build writes everything into `build/.staging/<operation_id>/` and fsyncs it. Then it writes the
commit marker `COMMITTED` (atomically); that is the single moment the new build wins. Promotion
then renames each staged output into `build/` (assets.pa last) and removes the staging folder.

- Interrupted before the marker exists: `build/` was never touched. The next build deletes the
  staging folder.
- Interrupted after it (a crash between two renames): the next build (or `recover_staging`)
  finishes the renames from the marker's list before doing anything else, so the outcome is the
  complete new build. Renames are idempotent (a file already moved is simply absent).

Why not swap the whole folder? POSIX cannot atomically replace a non-empty directory, Windows has
no directory exchange at all, and `build/` may hold files of other tools that must survive.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from packer.files.atomic import atomic_write_bytes

STAGING_DIR = ".staging"
COMMIT_MARKER = "COMMITTED"
# Where older packers (cache.json schema 1) wrote a PNG per glyph bank, `<asset_id>.png`:
# promotion removes those files, and the folder once it is empty (remove_legacy_previews).
LEGACY_PREVIEWS_DIR = "previews"
_LEGACY_PREVIEW_NAME = re.compile(r"(0|[1-9][0-9]*)\.png")
ARTIFACT = "assets.pa"
ASSET_TABLE = "asset_table.json"
PRELOAD = "preload.json"
TOOL_METADATA = "asset_table_metadata.json"
# Order of promotion: the runtime-facing artifact goes last, so a reader that races a promotion
# (on a system where the next build has not rolled forward yet) finds mirrors at least as new.
PROMOTED_FILES = (TOOL_METADATA, ASSET_TABLE, PRELOAD, ARTIFACT)

Step = Callable[[str], None]


def _no_step(name: str) -> None:
    return None


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (folders: where the platform allows opening them)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def staging_root(build_dir: Path) -> Path:
    return build_dir / STAGING_DIR


def remove_if_empty(*folders: Path) -> None:
    """rmdir each folder in turn while it is empty (another build's staging keeps it)."""
    for folder in folders:
        try:
            folder.rmdir()
        except FileNotFoundError:
            continue
        except OSError:
            return


def new_staging(build_dir: Path, operation_id: str) -> Path:
    root = staging_root(build_dir)
    if root.is_symlink():
        raise OSError(f"{root} is a symlink; refusing to build into it")
    path = root / operation_id
    path.mkdir(parents=True, exist_ok=False)
    return path


def commit(staging: Path) -> None:
    """Make the staged build durable, then mark it committed: from here it rolls forward.

    Every staged file must be durable before the marker, or a crash just after it could roll
    a torn file forward.
    """
    for name in PROMOTED_FILES:
        fsync_path(staging / name)
    fsync_path(staging)
    marker = {"files": list(PROMOTED_FILES)}
    atomic_write_bytes(staging / COMMIT_MARKER, json.dumps(marker).encode("utf-8"))
    fsync_path(staging.parent)


def is_committed(staging: Path) -> bool:
    try:
        data = json.loads((staging / COMMIT_MARKER).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("files"), list)


def promote(staging: Path, build_dir: Path, step: Step = _no_step) -> None:
    """Roll a committed staging folder forward into `build_dir`; safe to run again after a crash.

    A marker from an older packer may also list previews: they are not promoted (the staging
    folder goes with them), and the live ones are removed like any legacy preview.
    """
    data = json.loads((staging / COMMIT_MARKER).read_bytes())
    for name in data["files"]:
        if name not in PROMOTED_FILES:
            continue  # the marker names only our own files; anything else is ignored
        source = staging / name
        if source.exists():
            os.replace(source, build_dir / name)
            step(f"promote:{name}")
    remove_legacy_previews(build_dir)
    fsync_path(build_dir)
    discard(staging)


def has_legacy_previews(build_dir: Path) -> bool:
    """True when build/previews/ is a real folder that `remove_legacy_previews` would change:
    it holds an older packer's previews, or nothing at all."""
    found = _legacy_previews(build_dir)
    return found is not None and (bool(found[1]) or not found[0])


def remove_legacy_previews(build_dir: Path) -> None:
    """Delete the `<asset_id>.png` regular files an older packer wrote in build/previews/, then
    the folder if that leaves it empty. Nothing else is touched: build/ may hold other tools'
    files, so a symlinked folder, a link, a sub-folder or any other name stays."""
    found = _legacy_previews(build_dir)
    if found is None:
        return
    for path in found[1]:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    with contextlib.suppress(OSError):
        (build_dir / LEGACY_PREVIEWS_DIR).rmdir()  # fails, and stays, when anything is left


def _legacy_previews(build_dir: Path) -> tuple[list[str], list[Path]] | None:
    """build/previews/'s names and the previews among them, or None if it is no real folder."""
    folder = build_dir / LEGACY_PREVIEWS_DIR
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return None
        names = os.listdir(folder)
    except OSError:
        return None
    previews = []
    for name in names:
        path = folder / name
        with contextlib.suppress(OSError):
            if _LEGACY_PREVIEW_NAME.fullmatch(name) and stat.S_ISREG(os.lstat(path).st_mode):
                previews.append(path)
    return names, previews


def discard(staging: Path) -> None:
    """Remove one staging folder, and `build/.staging` itself once it is empty."""
    remove_tree(staging)
    with contextlib.suppress(OSError):
        staging.parent.rmdir()


def remove_tree(path: Path) -> None:
    """Delete a staging folder or file without ever following a symlink out of it."""
    if path.is_symlink() or not path.is_dir():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    shutil.rmtree(path)


def recover_staging(build_dir: Path) -> list[str]:
    """Finish committed promotions and delete abandoned staging folders; returns what it did.

    Only the children of `build/.staging/` are ever touched.
    """
    root = staging_root(build_dir)
    done: list[str] = []
    if root.is_symlink():
        root.unlink()
        return [f"removed the symlink {STAGING_DIR}"]
    if not root.is_dir():
        return done
    for child in sorted(root.iterdir(), key=lambda p: p.name):
        if child.is_dir() and not child.is_symlink() and is_committed(child):
            promote(child, build_dir)
            done.append(f"completed the interrupted promotion {child.name}")
        else:
            remove_tree(child)
            done.append(f"removed the abandoned staging folder {child.name}")
    with contextlib.suppress(OSError):
        root.rmdir()
    return done


def pending_promotions(build_dir: Path) -> list[str]:
    """Committed staging folders not yet promoted (read-only; for `inspect`)."""
    root = staging_root(build_dir)
    if not root.is_dir() or root.is_symlink():
        return []
    return sorted(c.name for c in root.iterdir() if c.is_dir() and is_committed(c))
