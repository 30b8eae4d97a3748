"""Path rules: asset roots and inputs are POSIX paths relative to their base, never escaping it."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath


class UnsafePathError(ValueError):
    """A relative path that is absolute, has `..`, or resolves outside its base."""


def relative_parts(path: str) -> tuple[str, ...]:
    """Lexical check: relative, no `..`, no backslashes or drive letters. Touches no disk.

    Returns the path's components (empty and `.` components dropped, as POSIX does).
    """
    if not path or "\x00" in path:
        raise UnsafePathError(f"{path!r} is empty or has a NUL byte")
    if "\\" in path or (len(path) > 1 and path[1] == ":"):
        raise UnsafePathError(f"{path!r} must use forward slashes and no drive letter")
    if path.startswith("/"):
        raise UnsafePathError(f"{path!r} is absolute; use a path relative to the asset root")
    parts = tuple(part for part in path.split("/") if part not in ("", "."))
    if ".." in parts:
        raise UnsafePathError(f"{path!r} climbs out with `..`")
    return parts


def _normal_relative(path: str) -> bool:
    """`relative_parts(path)` would accept `path` and join back to it (no empty, `.` or `..`
    component): the common case, told by a few scans of the text instead of a split."""
    framed = f"/{path}/"
    return (path != "" and "\x00" not in path and "\\" not in path and path[1:2] != ":"
            and "//" not in framed and "/./" not in framed and "/../" not in framed)


def check_relative(path: str) -> PurePosixPath:
    return PurePosixPath(*relative_parts(path))


class InsideRoot:
    """Resolves paths under one base, refusing any that land outside it (through symlinks too).

    The base is resolved once. Each path then costs one `lstat` per component below the base
    (usually one or two) instead of a full `realpath`; only a path with a symlink in it falls back
    to `realpath`. No file is opened. An instance serves one asset's reads (milliseconds): a
    folder it found plain is not lstat'ed again (a bank's `tiles/` once, not once per tile).
    """

    __slots__ = ("_folders", "real_base")

    def __init__(self, base: Path) -> None:
        self.real_base = os.path.realpath(base)
        self._folders: set[str] = set()  # folders below the base an lstat found no symlink

    @classmethod
    def below(cls, real_parent: str, rel: str) -> InsideRoot:
        """`InsideRoot(Path(real_parent) / rel)` for a `real_parent` that is already resolved.

        One `lstat` per component of `rel` instead of a `realpath` from `/` (a scan resolves
        `assets/` once, then each of thousands of roots below it); a symlink, a missing
        component or a dot component falls back to `realpath`, so the result is the same.
        """
        inside = cls.__new__(cls)
        current: str | None = real_parent
        for part in rel.split("/"):
            candidate = f"{current}/{part}" if current != "/" else f"/{part}"
            try:
                plain = part not in ("", ".", "..") and not stat.S_ISLNK(
                    os.lstat(candidate).st_mode)
            except OSError:
                plain = False
            if not plain:
                current = None
                break
            current = candidate
        inside.real_base = (current if current is not None
                            else os.path.realpath(os.path.join(real_parent, rel)))
        inside._folders = set()
        return inside

    @classmethod
    def walked(cls, real_parent: str, rel: str) -> InsideRoot:
        """The folder `rel` below a resolved `real_parent` that a walk reached through folders
        that are no symlinks (packer.workspace.walk never follows one): no system call."""
        inside = cls.__new__(cls)
        inside.real_base = f"{real_parent.rstrip('/')}/{rel}" if rel else real_parent
        inside._folders = set()
        return inside

    def resolve_listed(self, path: str, plain: frozenset[str]) -> str:
        """`resolve_str`, without touching the disk when `path` is one of `plain`: files under
        the base (relative to it) that a walk listed as no symlink below no symlinked folder."""
        if path in plain and _normal_relative(path):
            return f"{self.real_base}/{path}" if self.real_base != "/" else f"/{path}"
        parts = relative_parts(path)
        rel = "/".join(parts)
        if rel in plain:
            return f"{self.real_base}/{rel}" if self.real_base != "/" else f"/{rel}"
        return self.resolve_str(path)

    def resolve(self, path: str) -> Path:
        return Path(self.resolve_str(path))

    def resolve_str(self, path: str) -> str:
        return self.resolve_stat(path)[0]

    def resolve_stat(self, path: str) -> tuple[str, os.stat_result | None]:
        """`resolve_str`, with the status of what it names when the walk down saw it (the
        `lstat` of a last component that is no symlink is its `stat`): None otherwise."""
        parts = relative_parts(path)
        current = self.real_base
        status: os.stat_result | None = None
        last = len(parts) - 1
        folders = self._folders
        for index, part in enumerate(parts):
            candidate = f"{current}/{part}" if current != "/" else f"/{part}"
            if index < last and candidate in folders:
                current = candidate  # a bank's `tiles/` is lstat'ed once, not once per tile
                continue
            try:
                status = os.lstat(candidate)
            except OSError:
                # The rest does not exist (or cannot be inspected): lexically it stays inside.
                return "/".join((candidate, *parts[index + 1:])), None
            if stat.S_ISLNK(status.st_mode):
                return self._resolve_through_link(path, parts), None
            if index < last and stat.S_ISDIR(status.st_mode):
                folders.add(candidate)
            current = candidate
        return current, status

    def _resolve_through_link(self, path: str, parts: tuple[str, ...]) -> str:
        target = os.path.realpath(os.path.join(self.real_base, *parts))
        if target != self.real_base and not target.startswith(self.real_base.rstrip("/") + "/"):
            raise UnsafePathError(f"{path!r} resolves outside the asset root (through a symlink)")
        return target


def resolve_inside(base: Path, path: str) -> Path:
    """Resolve one `path` under `base` (see InsideRoot; use it directly for many paths)."""
    return InsideRoot(base).resolve(path)


