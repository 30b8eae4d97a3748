"""The writable copy of the bundled sample project that a first start opens."""

from __future__ import annotations

import shutil
from pathlib import Path

from packer.files.project import is_project_dir
from studio.shell.dirs import bundled_sample_project, user_data_dir

SAMPLE_COPY_NAME = "sample-project"


class SampleUnavailableError(RuntimeError):
    """The checkout has no bundled sample project to copy."""


def writable_sample_copy(source: Path | None = None, data_dir: Path | None = None) -> Path:
    """Copy the sample into the user data folder once; later calls return the same copy.

    The copy is made under a temporary name and renamed into place, so an interrupted first start
    never leaves a half-copied project that later starts would open.
    """
    source = source or bundled_sample_project()
    target = (data_dir or user_data_dir()) / SAMPLE_COPY_NAME
    if is_project_dir(target):
        return target
    if not is_project_dir(source):
        raise SampleUnavailableError(f"no sample project at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{SAMPLE_COPY_NAME}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(
        source, staging, ignore=shutil.ignore_patterns("build", ".studio", "__pycache__")
    )
    if target.exists():
        shutil.rmtree(target)  # a folder without prometeu.json: leftovers, not a project
    staging.rename(target)
    return target
