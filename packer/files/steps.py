"""The disk steps an apply is made of. Each is atomic on its own and knows how to undo itself.

Paths are POSIX and relative to `assets/` (the registry is `.prometeu/index.json`), so a journal
stays valid if the project folder is moved or renamed between a crash and its recovery.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packer.files.atomic import atomic_write_bytes
from packer.files.safe_read import read_regular


class StepError(Exception):
    """A step cannot run (its precondition is gone); the apply is rolled back."""


@dataclass(frozen=True)
class MoveStep:
    """Rename `src` to `dst` (a root, with everything under it). `dst` must not exist."""

    src: str
    dst: str

    def describe(self) -> str:
        return f"move {self.src} → {self.dst}"


@dataclass(frozen=True)
class MakeDirStep:
    """Create one folder that does not exist yet (parents come as earlier steps)."""

    path: str

    def describe(self) -> str:
        return f"create folder {self.path}"


@dataclass(frozen=True)
class WriteFileStep:
    """Replace a file's content atomically; the journal keeps the old bytes to restore them."""

    path: str
    content: bytes
    backup: str | None = None  # the journal's copy of the previous content (None: no file before)

    def describe(self) -> str:
        return f"write {self.path}"


@dataclass(frozen=True)
class CopyInStep:
    """Copy a regular file from outside the project (`src`, absolute) to `dst` (which must not
    exist), atomically. Undo deletes `dst`: the step only ever creates it."""

    src: str
    dst: str

    def describe(self) -> str:
        return f"copy {self.src} → {self.dst}"


Step = MoveStep | MakeDirStep | WriteFileStep | CopyInStep


def _at(assets_dir: Path, rel: str) -> Path:
    return assets_dir.joinpath(*rel.split("/"))


def run_step(assets_dir: Path, step: Step) -> None:
    match step:
        case MoveStep(src=src, dst=dst):
            source, target = _at(assets_dir, src), _at(assets_dir, dst)
            if not os.path.lexists(source):
                raise StepError(f"{src} vanished before it could be moved")
            if os.path.lexists(target):
                raise StepError(f"{dst} appeared before {src} could be moved there")
            try:
                os.rename(source, target)
            except OSError as exc:
                raise StepError(
                    f"cannot move {src} to {dst}: {exc.strerror or exc}"
                ) from exc
        case MakeDirStep(path=path):
            try:
                os.mkdir(_at(assets_dir, path))
            except OSError as exc:
                raise StepError(f"cannot create folder {path}: {exc.strerror or exc}") from exc
        case WriteFileStep(path=path, content=content):
            try:
                atomic_write_bytes(_at(assets_dir, path), content)
            except OSError as exc:
                raise StepError(f"cannot write {path}: {exc.strerror or exc}") from exc
        case CopyInStep(src=src, dst=dst):
            target = _at(assets_dir, dst)
            if os.path.lexists(target):
                raise StepError(f"{dst} appeared before {src} could be copied there")
            try:
                atomic_write_bytes(target, read_regular_file(Path(src)))
            except OSError as exc:
                raise StepError(f"cannot copy {src} to {dst}: {exc.strerror or exc}") from exc


def undo_step(assets_dir: Path, step: Step, journal_dir: Path) -> None:
    """Put back what `step` changed. Idempotent: a step that never ran is left alone, so a
    recovery may undo the step a crash interrupted without knowing whether it happened."""
    match step:
        case MoveStep(src=src, dst=dst):
            source, target = _at(assets_dir, src), _at(assets_dir, dst)
            # A rename is atomic: `src` still there means the move never happened.
            if not os.path.lexists(source) and os.path.lexists(target):
                os.rename(target, source)
        case MakeDirStep(path=path):
            folder = _at(assets_dir, path)
            if folder.is_dir() and not folder.is_symlink():
                folder.rmdir()  # empty again once the later steps are undone
        case CopyInStep(dst=dst):
            target = _at(assets_dir, dst)
            _remove_stray_temp_files(target)
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        case WriteFileStep(path=path, backup=backup):
            target = _at(assets_dir, path)
            _remove_stray_temp_files(target)
            if backup is None:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
                return
            old = (journal_dir / backup).read_bytes()
            try:
                unchanged = read_regular(target, follow_symlinks=False) == old
            except OSError:
                unchanged = False
            if not unchanged:
                atomic_write_bytes(target, old)


def read_regular_file(path: Path, limit: int | None = None) -> bytes:
    """A file's bytes (at most `limit` of them), refusing anything but a regular file without
    blocking on it: a FIFO or a device is never read, and a symlink is not followed."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return handle.read() if limit is None else handle.read(limit)


def _remove_stray_temp_files(target: Path) -> None:
    # A crash inside an atomic write leaves `.<name>.<random>.tmp` beside the file.
    with contextlib.suppress(OSError):
        for stray in target.parent.glob(f".{target.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stray.unlink()


def step_to_json(step: Step) -> dict[str, Any]:
    match step:
        case MoveStep(src=src, dst=dst):
            return {"kind": "move", "src": src, "dst": dst}
        case MakeDirStep(path=path):
            return {"kind": "mkdir", "path": path}
        case WriteFileStep(path=path, backup=backup):
            return {"kind": "write", "path": path, "backup": backup}
        case CopyInStep(src=src, dst=dst):
            return {"kind": "copy_in", "src": src, "dst": dst}


def step_from_json(data: dict[str, Any]) -> Step:
    kind = data.get("kind")
    if kind == "move":
        return MoveStep(src=str(data["src"]), dst=str(data["dst"]))
    if kind == "mkdir":
        return MakeDirStep(path=str(data["path"]))
    if kind == "write":
        backup = data.get("backup")
        return WriteFileStep(
            path=str(data["path"]), content=b"", backup=None if backup is None else str(backup)
        )
    if kind == "copy_in":
        return CopyInStep(src=str(data["src"]), dst=str(data["dst"]))
    raise ValueError(f"unknown journal step {kind!r}")
