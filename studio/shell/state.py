"""Per-project window state in `<project>/.studio/state.json`: layout and the selected asset.

A missing, unreadable or corrupt file silently gives the defaults: it only holds comfort.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from packer.files.atomic import atomic_write_json
from packer.files.safe_read import MAX_STATE_FILE_BYTES, read_regular

STATE_FILE = "state.json"


class SelectedAsset(BaseModel):
    """An asset by identity: its id when registered, else its root."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    asset_id: int | None = None
    root: str | None = None


class StudioState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: int = 1
    geometry: str | None = None  # QMainWindow.saveGeometry(), base64
    window_state: str | None = None  # QMainWindow.saveState(), base64
    splitters: dict[str, list[int]] = {}
    utility_tab: int = 0
    selected_asset: SelectedAsset | None = None


def state_path(project_root: Path) -> Path:
    return project_root / ".studio" / STATE_FILE


def load_state(project_root: Path) -> StudioState:
    try:
        return StudioState.model_validate(
            json.loads(read_regular(state_path(project_root), limit=MAX_STATE_FILE_BYTES))
        )
    except (OSError, ValueError, ValidationError, RecursionError):
        return StudioState()


def save_state(project_root: Path, state: StudioState) -> None:
    """Write the state; a project folder deleted (or moved) while open is not created again
    just to hold it."""
    path = state_path(project_root)
    try:
        path.parent.mkdir(exist_ok=True)  # not parents=True: the project root must exist
    except FileNotFoundError:
        return
    atomic_write_json(path, state.model_dump(mode="json"))
