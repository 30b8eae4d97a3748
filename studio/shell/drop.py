"""Dropping folders onto the Studio: what a drop means (decided on a worker, it touches disk)
and the event filter that turns Qt drag-and-drop into a plain list of paths."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

from packer.files.project import PROJECT_FILE


class DropKind(StrEnum):
    PROJECT = "project"  # open it
    ASSET_FILES = "asset_files"  # inside the open project's assets/: propose a new asset
    NOT_A_PROJECT = "not_a_project"  # a readable folder: offer to initialise it
    REFUSED = "refused"  # files, several items, unreadable or remote: say why


@dataclass(frozen=True, slots=True)
class DropDecision:
    kind: DropKind
    path: Path | None
    message: str
    paths: tuple[str, ...] = ()  # ASSET_FILES: everything dropped


def classify_drop(
    local_paths: list[str], remote_urls: list[str], assets_dir: Path | None = None
) -> DropDecision:
    """What to do with dropped items. Runs on a worker: it looks at the disk.

    With a project open (`assets_dir`), items that all lie inside its assets/ are files for a
    new asset, wherever on the window they were dropped (never a project to initialise)."""
    if assets_dir is not None and local_paths and not remote_urls and _all_inside(
        local_paths, assets_dir
    ):
        return DropDecision(DropKind.ASSET_FILES, None, "New asset from the dropped files.",
                            paths=tuple(local_paths))
    if remote_urls:
        return DropDecision(DropKind.REFUSED, None,
                            f"Only folders on this computer can be opened, not {remote_urls[0]}.")
    if not local_paths:
        return DropDecision(DropKind.REFUSED, None, "Nothing that can be opened was dropped.")
    if len(local_paths) > 1:
        return DropDecision(DropKind.REFUSED, None,
                            f"{len(local_paths)} items were dropped; drop one project folder.")
    path = Path(local_paths[0])
    try:
        return _classify_folder(path)
    except OSError as exc:  # a stale network mount, a name too long, a permission on the way
        return DropDecision(DropKind.REFUSED, path,
                            f"{path} cannot be read ({exc.strerror or exc}). Check that it is "
                            "reachable and readable, or drop another folder.")


def _all_inside(paths: list[str], assets_dir: Path) -> bool:
    try:
        assets = os.path.realpath(assets_dir).rstrip("/") + "/"
        return all(os.path.realpath(p).startswith(assets) for p in paths)
    except OSError:
        return False


def _classify_folder(path: Path) -> DropDecision:
    if not path.exists():
        return DropDecision(DropKind.REFUSED, path, f"{path} does not exist (moved or deleted?). "
                            "Drop an existing project folder.")
    if not path.is_dir():
        return DropDecision(
            DropKind.REFUSED, path,
            f"{path.name} is a file. Drop a project folder (one with {PROJECT_FILE}) instead.",
        )
    if not os.access(path, os.R_OK | os.X_OK):
        return DropDecision(DropKind.REFUSED, path,
                            f"{path} cannot be read (permission denied). Check the "
                            "folder's permissions, or drop another folder.")
    if (path / PROJECT_FILE).is_file():
        return DropDecision(DropKind.PROJECT, path, f"Opening {path.name}.")
    return DropDecision(
        DropKind.NOT_A_PROJECT, path,
        f"{path.name} is not a PROMETEU project: it has no {PROJECT_FILE}.",
    )


def project_name_for(folder: Path) -> str:
    """A project name from a folder name (any text works; this keeps it tidy)."""
    return re.sub(r"\s+", " ", folder.name).strip() or "untitled"


class ProjectDropFilter(QObject):
    """Installed on a window: accepts drags carrying URLs and reports what was dropped."""

    dropped = Signal(list, list)  # local paths, remote urls

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if isinstance(event, (QDragEnterEvent, QDragMoveEvent)):
            if event.mimeData().hasUrls():
                event.acceptProposedAction()
                return True
            return False
        if isinstance(event, QDropEvent):
            urls = event.mimeData().urls()
            if not urls:
                return False
            local = [u.toLocalFile() for u in urls if u.isLocalFile()]
            remote = [u.toString() for u in urls if not u.isLocalFile()]
            event.acceptProposedAction()
            self.dropped.emit(local, remote)
            return True
        return super().eventFilter(watched, event)
