"""Where the Studio keeps its own files: the user data folder and the user config folder.

Tests (and anyone who wants a throwaway profile) redirect both with environment variables, so a
test run never touches the real folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "prometeu-studio"
DATA_DIR_ENV = "PROMETEU_STUDIO_DATA_DIR"
CONFIG_DIR_ENV = "PROMETEU_STUDIO_CONFIG_DIR"


def user_data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def user_config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def bundled_sample_project() -> Path:
    """The sample project shipped in the checkout (an editable install keeps it beside studio/)."""
    return Path(__file__).resolve().parents[2] / "resources" / "sample-project"
