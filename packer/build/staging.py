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
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packer.files.atomic import atomic_write_bytes

STAGING_DIR = ".staging"
COMMIT_MARKER = "COMMITTED"
PREVIEWS_DIR = "previews"
OLD_PREVIEWS_DIR = "previews.old"
ARTIFACT = "assets.pa"
ASSET_TABLE = "asset_table.json"
PRELOAD = "preload.json"
TOOL_METADATA = "asset_table_metadata.json"
# Order of promotion: the runtime-facing artifact goes last, so a reader that races a promotion
# (on a system where the next build has not rolled forward yet) finds mirrors at least as new.
PROMOTED_FILES = (TOOL_METADATA, ASSET_TABLE, PRELOAD, ARTIFACT)
FSYNC_THREADS = 8

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
    (path / PREVIEWS_DIR).mkdir()
    return path


def commit(staging: Path, build_dir: Path, preview_names: list[str]) -> None:
    """Make the staged build durable, then mark it committed: from here it rolls forward.

    `preview_names` is every preview the new build has; only those that differ from the live
    ones are staged (see outputs.write_previews), and promotion deletes live ones not listed.
    Every staged file must be durable before the marker, or a crash just after it could roll
    a torn file forward; the fsyncs run on a few threads because the file system then commits
    them together (hundreds of small previews one by one cost more than the artifact's).
    """
    previews = staging / PREVIEWS_DIR
    files = [staging / name for name in PROMOTED_FILES]
    files.extend(previews / name for name in sorted(os.listdir(previews)))
    with ThreadPoolExecutor(max_workers=FSYNC_THREADS) as pool:
        list(pool.map(fsync_path, files))
    fsync_path(previews)
    fsync_path(staging)
    marker = {"files": list(PROMOTED_FILES), "previews": True,
              "preview_names": sorted(preview_names)}
    atomic_write_bytes(staging / COMMIT_MARKER, json.dumps(marker).encode("utf-8"))
    fsync_path(staging.parent)


def is_committed(staging: Path) -> bool:
    try:
        data = json.loads((staging / COMMIT_MARKER).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("files"), list)


def promote(staging: Path, build_dir: Path, step: Step = _no_step) -> None:
    """Roll a committed staging folder forward into `build_dir`; safe to run again after a crash."""
    data = json.loads((staging / COMMIT_MARKER).read_bytes())
    staged_previews = staging / PREVIEWS_DIR
    live_previews = build_dir / PREVIEWS_DIR
    names = data.get("preview_names")
    if data.get("previews") and isinstance(names, list):
        _promote_previews(staged_previews, live_previews, {str(n) for n in names}, step)
    elif data.get("previews") and staged_previews.is_dir():  # a marker from an older packer
        old = staging / OLD_PREVIEWS_DIR
        if live_previews.is_symlink() or live_previews.is_file():
            live_previews.unlink()
        elif live_previews.exists():
            if old.exists():  # only after a crash in a previous attempt; keep it simple and safe
                shutil.rmtree(old)
            os.replace(live_previews, old)
            step("promote:previews.old")
        os.replace(staged_previews, live_previews)
        step("promote:previews")
    for name in data["files"]:
        if name not in PROMOTED_FILES:
            continue  # the marker names only our own files; anything else is ignored
        source = staging / name
        if source.exists():
            os.replace(source, build_dir / name)
            step(f"promote:{name}")
    fsync_path(build_dir)
    discard(staging)


def _promote_previews(staged: Path, live: Path, names: set[str], step: Step) -> None:
    """Make `live` hold exactly `names`: move in the staged ones, delete the others.

    Files neither staged nor stale (identical to the new build's) are left alone. Idempotent:
    after a crash, a file already moved is simply no longer staged.
    """
    if live.is_symlink() or (live.exists() and not live.is_dir()):
        live.unlink()
    live.mkdir(exist_ok=True)
    stale = [name for name in sorted(os.listdir(live)) if name not in names]
    for name in stale:
        remove_tree(live / name)
    step("promote:previews.old")
    staged_names = sorted(os.listdir(staged)) if staged.is_dir() else []
    for name in staged_names:
        target = live / name
        if target.is_dir() and not target.is_symlink():
            remove_tree(target)
        os.replace(staged / name, target)
    step("promote:previews")
    if staged_names or stale:
        fsync_path(live)


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
