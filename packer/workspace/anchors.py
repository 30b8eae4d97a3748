"""Reading one asset root's `asset.json` and checking its inputs without opening them."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from packer.diagnostics import Diagnostic, diagnostic
from packer.files.declaration import (
    DECLARATION_FILE,
    AssetDeclaration,
    SharedBlocks,
    parse_declaration,
)
from packer.files.paths import InsideRoot, UnsafePathError
from packer.files.safe_read import MAX_DECLARATION_BYTES, read_regular_stat

# (size, mtime_ns, ctime_ns, inode, device): what a stat says of a file's content and identity.
# The first three are the build cache's and validation cache's hints; all five are a row of
# the build's up-to-date manifest (packer.build.manifest_file), recorded from the scan's own stat.
StatRow = tuple[int, int, int, int, int]


def stat_row(st: os.stat_result) -> StatRow:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def check_inputs(
    decl: AssetDeclaration, root_path: Path, *, root: str, asset_id: int | None
) -> list[Diagnostic]:
    """Every input must stay inside the root, exist, be a regular file and be readable."""
    return check_inputs_with_stats(decl, InsideRoot(root_path), root=root, asset_id=asset_id)[0]


def check_inputs_with_stats(
    decl: AssetDeclaration, inside: InsideRoot, *, root: str, asset_id: int | None,
    plain: frozenset[str] | None = None,
) -> tuple[list[Diagnostic], list[StatRow]]:
    """check_inputs, also returning the stat (`StatRow`) of each input that checked out.

    `plain`: the files under the root the walk listed as no symlink (InsideRoot.resolve_listed);
    an input among them needs no lstat to be known inside the root.
    """
    found: list[Diagnostic] = []
    stats: list[StatRow] = []
    for role, path in decl.all_inputs():
        try:
            target = (inside.resolve_str(path) if plain is None
                      else inside.resolve_listed(path, plain))
        except UnsafePathError as exc:
            found.append(diagnostic(
                "PK107", f"{root}: input {role} {exc}", root=root, file=path, asset_id=asset_id
            ))
            continue
        try:
            st = os.stat(target)
        except FileNotFoundError:
            found.append(diagnostic(
                "PK106", f"{root}: input {role} {path!r} does not exist",
                root=root, file=path, asset_id=asset_id,
            ))
            continue
        except OSError as exc:
            found.append(diagnostic(
                "PK112", f"{root}: input {path!r} cannot be read: {exc.strerror or exc}",
                root=root, file=path, asset_id=asset_id,
            ))
            continue
        if not stat.S_ISREG(st.st_mode):
            found.append(diagnostic(
                "PK114", f"{root}: input {path!r} is not a regular file",
                root=root, file=path, asset_id=asset_id,
            ))
        elif not os.access(target, os.R_OK):
            found.append(diagnostic(
                "PK112", f"{root}: input {path!r} is not readable (permission denied)",
                root=root, file=path, asset_id=asset_id,
            ))
        else:
            stats.append(stat_row(st))
    return found, stats


@dataclass(frozen=True, slots=True)
class Anchor:
    decl: AssetDeclaration | None
    diagnostics: list[Diagnostic]
    fingerprint: StatRow | None = None  # asset.json's, as it was read
    input_stats: tuple[StatRow, ...] = ()


NO_ANCHOR = Anchor(None, [])


def read_anchor(
    assets_dir: Path, real_assets: str, root: str, asset_id: int | None,
    plain: frozenset[str] | None = None, *, shared: SharedBlocks | None = None,
) -> Anchor:
    """Parse the root's asset.json and check its inputs.

    `plain`, for a root the walk reached: the files under it that the walk listed as no symlink
    (packer.workspace.walk.plain_files_under); the root and those inputs then cost no lstat.
    Without it each component is lstat'ed (InsideRoot.below).
    """
    # a string: a Path per root costs more than the read (the same file either way)
    anchor = f"{assets_dir}/{root}/{DECLARATION_FILE}" if root else (
        f"{assets_dir}/{DECLARATION_FILE}")
    try:
        # Never through a symlink (it could lead out of the project, or to a FIFO that blocks).
        raw, st = read_regular_stat(anchor, follow_symlinks=False, limit=MAX_DECLARATION_BYTES)
    except OSError as exc:
        return Anchor(None, [diagnostic(
            "PK115", f"{root}/asset.json cannot be read: {exc.strerror or exc}",
            root=root, file=DECLARATION_FILE, asset_id=asset_id,
        )])
    decl, found = parse_declaration(raw, root=root, asset_id=asset_id, shared=shared)
    stats: list[StatRow] = []
    if decl is not None:
        inside = (InsideRoot.below(real_assets, root) if plain is None
                  else InsideRoot.walked(real_assets, root))
        problems, stats = check_inputs_with_stats(decl, inside, root=root, asset_id=asset_id,
                                                  plain=plain)
        found.extend(problems)
        if problems:
            stats = []
    return Anchor(decl, found, stat_row(st), tuple(stats))
