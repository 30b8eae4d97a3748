"""One asset root read fresh, the other assets as a snapshot has them: a record as a full scan
would give it, for the price of that root's folder.

Its own findings come from its folder, its registry entries and the asset.json files of the
folders above it (PK111); PK109 (a shared asset_uuid) and PK116 (a shared name in the build)
compare it with the others given. Where only a full walk can tell what the root is (a symlink
or a file on its path, a folder that cannot be listed), `read_beside` says it does not know.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from packer.errors import PackerError
from packer.files.declaration import DECLARATION_FILE
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.workspace.scan import AssetRecord, name_collision, read_root, uuid_collision
from packer.workspace.walk import Walk, walk_assets


def plain_folder_path(project: Project, root: str) -> bool | None:
    """True: every folder from assets/ to the root is a real folder (no symlink); False: the
    path stops existing on the way (a missing asset); None: something else is in the way."""
    path = str(project.assets_dir)
    for part in root.split("/"):
        path = os.path.join(path, part)
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return False
        except OSError:
            return None
        if not stat.S_ISDIR(mode):
            return None
    return True


def anchored_ancestors(project: Project, root: str) -> set[str]:
    """The folders above the root that hold an asset.json, as the walk lists one (any entry
    that is not a folder)."""
    found = set()
    parts = root.split("/")
    for i in range(len(parts)):
        folder = "/".join(parts[:i])
        path = os.path.join(project.assets_dir, folder, DECLARATION_FILE)
        if os.path.lexists(path) and not os.path.isdir(path):
            found.add(folder)
    return found


def read_beside(project: Project, root: str, others: Iterable[AssetRecord],
                token: CancellationToken) -> tuple[bool, AssetRecord | None]:
    """(known, record): the record a full scan would give `root` (None: the scan would have
    none), the other assets being `others` (which must not hold `root`'s own record); known
    False when only a full scan can say."""
    known, record, _anchors = read_fresh(project, root, others, token)
    return known, record


def read_fresh(project: Project, root: str, others: Iterable[AssetRecord],
               token: CancellationToken) -> tuple[bool, AssetRecord | None, set[str]]:
    """`read_beside`, also giving the folders at or under `root` that hold an asset.json (the
    asset roots a full scan would find there)."""
    try:
        registry = project.load_registry()
    except PackerError:
        return False, None, set()
    owned = [entry for entry in registry.assets if entry.root == root]
    assets_dir = project.assets_dir
    if any(entry.quarantined for entry in owned):
        walk, anchors = Walk(), set[str]()  # the scan never walks the quarantine
    else:
        on_disk = plain_folder_path(project, root)
        if on_disk is None:
            return False, None, set()
        walk = walk_assets(assets_dir, token, start=root) if on_disk else Walk()
        if walk.problems:
            return False, None, set()
        anchors = set(walk.anchors) | anchored_ancestors(project, root)
    if not owned and root not in anchors:
        return True, None, set(walk.anchors)
    record = read_root(assets_dir, os.path.realpath(assets_dir), root, owned, walk=walk,
                       anchors=anchors)
    return True, with_collisions(record, others), set(walk.anchors)


def with_collisions(record: AssetRecord, others: Iterable[AssetRecord]) -> AssetRecord:
    """`record` with the PK109 and PK116 a full scan adds, beside `others` (in root order, as the
    scan lists them)."""
    decl = record.declaration
    if decl is None:
        return record
    twins: list[str] = []
    namesakes: list[str] = []
    for other in sorted(others, key=lambda r: r.root):
        if other.declaration is None or other.root == record.root:
            continue
        if other.declaration.asset_uuid == decl.asset_uuid:
            twins.append(other.root)
        if (record.included_in_build and other.included_in_build
                and other.declaration.name == decl.name):
            namesakes.append(other.label())
    extra = []
    if twins:
        extra.append(uuid_collision(record, twins))
    if namesakes:
        extra.append(name_collision(record, namesakes))
    if not extra:
        return record
    return record.model_copy(update={"diagnostics": (*record.diagnostics, *extra)})
