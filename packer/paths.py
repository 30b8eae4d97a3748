"""Path rules: asset roots and inputs are POSIX paths relative to their base, never escaping it."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


class UnsafePathError(ValueError):
    """A relative path that is absolute, has `..`, or resolves outside its base."""


def check_relative(path: str) -> PurePosixPath:
    """Lexical check: relative, no `..`, no backslashes or drive letters. Touches no disk."""
    if not path or "\x00" in path:
        raise UnsafePathError(f"{path!r} is empty or has a NUL byte")
    if "\\" in path or (len(path) > 1 and path[1] == ":"):
        raise UnsafePathError(f"{path!r} must use forward slashes and no drive letter")
    pure = PurePosixPath(path)
    if pure.is_absolute():
        raise UnsafePathError(f"{path!r} is absolute; use a path relative to the asset root")
    if any(part == ".." for part in pure.parts):
        raise UnsafePathError(f"{path!r} climbs out with `..`")
    return pure


def resolve_inside(base: Path, path: str) -> Path:
    """Resolve `path` under `base`, following symlinks, and refuse anything that lands outside.

    The file is not opened: a symlink that escapes is detected from its resolved target.
    """
    pure = check_relative(path)
    real_base = Path(os.path.realpath(base))
    target = Path(os.path.realpath(real_base.joinpath(*pure.parts)))
    if target != real_base and real_base not in target.parents:
        raise UnsafePathError(f"{path!r} resolves outside the asset root (through a symlink)")
    return target


def to_posix_relative(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix()
