"""The Studio's preferences (for every project), in the user config folder: `settings.json`.

A missing, unreadable or corrupt file gives the defaults: preferences are comfort, never a
reason not to start.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from packer.files.atomic import atomic_write_json
from packer.files.safe_read import MAX_STATE_FILE_BYTES, read_regular
from studio.shell.dirs import user_config_dir

SETTINGS_FILE = "settings.json"


class StudioSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: int = 1
    # Rescan the open project when the Studio's window becomes active again (throttled), so
    # files changed in other programs show up without F5, as game editors do.
    rescan_on_focus: bool = True


def settings_file(config_dir: Path | None = None) -> Path:
    return (config_dir or user_config_dir()) / SETTINGS_FILE


def load_settings(config_dir: Path | None = None) -> StudioSettings:
    try:
        return StudioSettings.model_validate(
            json.loads(read_regular(settings_file(config_dir), limit=MAX_STATE_FILE_BYTES))
        )
    except (OSError, ValueError, ValidationError, RecursionError):
        return StudioSettings()


def save_settings(settings: StudioSettings, config_dir: Path | None = None) -> None:
    atomic_write_json(settings_file(config_dir), settings.model_dump(mode="json"))
