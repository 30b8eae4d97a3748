"""The walk of `assets/`: every folder and file, and which folders are asset roots."""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass, field
from pathlib import Path

from packer.diagnostics import Diagnostic, diagnostic
from packer.files.declaration import DECLARATION_FILE
from packer.files.project import PACKER_DIR
from packer.lane.cancellation import CancellationToken
from packer.workspace.anchors import StatRow, stat_row

_NAME = operator.attrgetter("name")


@dataclass
class Walk:
    """What one walk of `assets/` found."""

    anchors: list[str] = field(default_factory=list)  # roots (relative) holding asset.json
    files_by_dir: dict[str, list[str]] = field(default_factory=dict)  # dir -> file names
    dir_order: list[str] = field(default_factory=list)  # pre-order: a subtree is contiguous
    dir_index: dict[str, int] = field(default_factory=dict)  # dir -> position in dir_order
    # (size, mtime_ns, ctime_ns, inode, device) of each folder in dir_order, taken before it
    # was listed (the build's up-to-date manifest records them instead of stat-ing again)
    dir_stats: list[StatRow] = field(default_factory=list)
    # files (relative to assets/) listed in files_by_dir that are symlinks, or may be: every
    # other listed file is a plain entry under folders that are not links either
    links: set[str] = field(default_factory=set)
    problems: list[Diagnostic] = field(default_factory=list)


def walk_assets(assets_dir: Path, token: CancellationToken, *, start: str = "") -> Walk:
    """List every folder and file under assets/ (skipping .prometeu/), noting asset roots.

    `start` (a folder relative to assets/, which the caller knows the whole walk would reach):
    only that subtree, listed exactly as the whole walk lists it (one asset's read).

    Folder symlinks are reported and never followed: one that stays inside assets/ is a second
    view of a folder the walk reaches anyway (following it would show its assets twice, or loop);
    one that leads outside would let a link to `/` send a scan over the whole disk, as escaping
    inputs are refused too. Unreadable folders and names that are not UTF-8 are PK207 as well.
    """
    walk = Walk()
    inside = os.path.realpath(assets_dir).rstrip("/") + "/"
    top = assets_dir / start if start else assets_dir
    if top.is_dir():
        _visit(walk, set(), inside, token, directory=str(top), rel=start)
    return walk


def _visit(
    walk: Walk, seen: set[tuple[int, int]], inside: str, token: CancellationToken, *,
    directory: str, rel: str,
) -> None:
    # A function of its own, not a closure calling itself: that closure was a reference cycle
    # holding the whole Walk, freed only by a full collection, which a build (quiet_gc) may not
    # run before it ends: ≈ 0.6 KB per asset of the build's peak memory.
    token.raise_if_cancelled()
    found = _list_folder(directory, rel, seen, walk.problems)
    if found is None:
        return
    st, listed = found
    names: list[str] = []
    subdirs: list[tuple[str, str]] = []
    for entry in listed:
        kind = _classify(entry, rel, inside, walk.problems)
        if kind == "dir":
            subdirs.append((entry.path, f"{rel}/{entry.name}" if rel else entry.name))
        elif kind == "file":
            names.append(entry.name)
            if _maybe_link(entry):
                walk.links.add(f"{rel}/{entry.name}" if rel else entry.name)
    walk.files_by_dir[rel] = names
    walk.dir_index[rel] = len(walk.dir_order)
    walk.dir_order.append(rel)
    walk.dir_stats.append(stat_row(st))
    if DECLARATION_FILE in names:
        walk.anchors.append(rel)
    del listed  # the folder's DirEntry objects, not kept while its subfolders are walked
    for path, child_rel in subdirs:
        _visit(walk, seen, inside, token, directory=path, rel=child_rel)


def _list_folder(
    directory: str, rel: str, seen: set[tuple[int, int]], problems: list[Diagnostic]
) -> tuple[os.stat_result, list[os.DirEntry[str]]] | None:
    """The folder's stat and its entries sorted by name, or None (with a PK207) if it cannot
    be listed."""
    try:
        st = os.stat(directory)
        key = (st.st_dev, st.st_ino)
        if key in seen:  # a bind mount or hard-linked folder: never walked twice
            problems.append(diagnostic(
                "PK207", f"folder {rel} was already scanned under another path", root=rel,
            ))
            return None
        seen.add(key)
        with os.scandir(directory) as entries:
            return st, sorted(entries, key=_NAME)
    except OSError as exc:
        problems.append(diagnostic(
            "PK207", f"cannot list folder {rel or '.'}: {exc.strerror or exc}", root=rel or None
        ))
        return None


def _classify(
    entry: os.DirEntry[str], rel: str, inside: str, problems: list[Diagnostic]
) -> str | None:
    """"dir" to walk, "file" to list, or None to skip (with a PK207 saying why, if it matters)."""
    name = entry.name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        problems.append(diagnostic(
            "PK207", f"{rel or '.'}/{shown}: the name is not valid UTF-8 and was skipped",
            root=rel or None,
        ))
        return None
    if not rel and name == PACKER_DIR:
        return None
    try:
        is_dir = entry.is_dir(follow_symlinks=True)
    except OSError:
        is_dir = False
    if not is_dir:
        return "file"
    if entry.is_symlink():
        target = os.path.realpath(entry.path)
        where = (f"assets/{target[len(inside):]}" if (target + "/").startswith(inside)
                 else f"{target}, outside assets/")
        problems.append(diagnostic(
            "PK207", f"folder {f'{rel}/' if rel else ''}{name} is a symlink to {where}; links "
            "are not followed, so it was not scanned", root=rel or None,
            fix="Move the folder into assets/ instead of linking it.",
        ))
        return None
    return "dir"


def _maybe_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()  # from the listing's d_type: no system call on most disks
    except OSError:
        return True


def plain_files_under(walk: Walk, root: str, files: list[str]) -> frozenset[str]:
    """Of `files_under(walk, root)`, those that were no symlink when the walk listed them."""
    if not walk.links:
        return frozenset(files)
    prefix = f"{root}/" if root else ""
    return frozenset(f for f in files if f"{prefix}{f}" not in walk.links)


def files_under(walk: Walk, root: str) -> list[str]:
    # The walk is pre-order over sorted names, so the root's subfolders follow it contiguously:
    # scanning just that run keeps this linear in the subtree, not in the whole workspace
    # (indexing from `start`: an islice would step over the `start` folders before it).
    prefix = f"{root}/" if root else ""
    start = walk.dir_index.get(root)
    if start is None:
        return []
    found: list[str] = list(walk.files_by_dir[root])
    order = walk.dir_order
    for index in range(start + 1, len(order)):
        directory = order[index]
        if not directory.startswith(prefix):
            break
        sub = directory[len(prefix):]
        found.extend(f"{sub}/{n}" for n in walk.files_by_dir[directory])
    return sorted(found)
