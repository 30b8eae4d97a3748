"""The list of recently opened projects, kept in the user config folder."""

from __future__ import annotations

import json
from pathlib import Path

from packer.files.atomic import atomic_write_json
from studio.shell.dirs import user_config_dir

RECENT_FILE = "recent-projects.json"
MAX_RECENT = 10


def recent_file(config_dir: Path | None = None) -> Path:
    return (config_dir or user_config_dir()) / RECENT_FILE


def load_recent(config_dir: Path | None = None) -> list[Path]:
    """Newest first. A missing or corrupt file is an empty list: it only costs convenience."""
    try:
        data = json.loads(recent_file(config_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        return []
    return [Path(p) for p in data["projects"] if isinstance(p, str)][:MAX_RECENT]


def remember(project_root: Path, recent: list[Path]) -> list[Path]:
    """The list with `project_root` moved (or added) to the front. Called on the GUI thread, so
    it compares paths as given and never resolves them (that reads the disk): project roots come
    resolved from packer.files.project.open_project."""
    return [project_root, *(p for p in recent if p != project_root)][:MAX_RECENT]


def save_recent(recent: list[Path], config_dir: Path | None = None) -> None:
    atomic_write_json(
        recent_file(config_dir), {"schema_version": 1, "projects": [str(p) for p in recent]}
    )
