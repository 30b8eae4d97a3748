"""A game project folder: `prometeu.json` at its root, the `assets/` workspace beneath it."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from packer.errors import (
    NotAProjectError,
    ProjectFileError,
    RegistryError,
    WorkspaceNotInitialisedError,
)
from packer.files.atomic import atomic_write_json
from packer.files.registry import Registry, empty_registry, load_registry, save_registry
from packer.files.safe_read import MAX_PROJECT_FILE_BYTES, JsonReadError, parse_json, read_regular

PROJECT_FILE = "prometeu.json"
ASSETS_DIR = "assets"
PACKER_DIR = ".prometeu"
PROJECT_SCHEMA_VERSION = 1
# Only used for a project that has neither a project_id nor a registry yet (see docs/formats.md).
_UNINITIALISED_NAMESPACE = uuid.UUID("6f1d8c52-3b8e-4f0e-9a51-5d0f6f1e2a7c")


class ProjectFile(BaseModel):
    """`prometeu.json`. Other tools (the compiler, the shipper) may keep their own keys here."""

    model_config = ConfigDict(frozen=True, extra="allow", defer_build=True)

    schema_version: int = Field(default=PROJECT_SCHEMA_VERSION, strict=True)
    name: str = Field(min_length=1, strict=True)
    project_id: str | None = Field(default=None, strict=True)


@dataclass(frozen=True)
class Project:
    root: Path
    file: ProjectFile

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def assets_dir(self) -> Path:
        return self.root / ASSETS_DIR

    @property
    def packer_dir(self) -> Path:
        return self.assets_dir / PACKER_DIR

    @property
    def registry_path(self) -> Path:
        return self.packer_dir / "index.json"

    @property
    def cache_path(self) -> Path:
        return self.packer_dir / "cache.json"

    @property
    def lock_path(self) -> Path:
        return self.packer_dir / "lock"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def initialised(self) -> bool:
        return self.registry_path.is_file()

    def load_registry(self) -> Registry:
        # The one `project_id` just validated, when the file is still that one: a full build
        # names its project_id, then scans (60-80 ms of validation each at 10k assets).
        stashed = _take_validated(self.registry_path)
        return stashed if stashed is not None else load_registry(self.registry_path)

    def save_registry(self, registry: Registry) -> None:
        save_registry(self.registry_path, registry)

    @property
    def project_id(self) -> str:
        """Stable across runs and moves: the registry's id, else prometeu.json's, else derived."""
        known = _registry_project_id(self.registry_path)
        if known:
            return known
        if self.file.project_id:
            return self.file.project_id
        return str(uuid.uuid5(_UNINITIALISED_NAMESPACE, self.file.name))


# Every operation names its project_id first, and the registry's id is only trusted from a
# registry that validates whole: 60-80 ms of one pydantic call at 10k assets (holding the GIL:
# the Studio's GUI stalled at each build's start). So the answer is kept per registry file, and
# used again while the file's size, times and inode are unchanged (every packer write is an
# atomic rename: a new inode) and were older than _RACY_NS when it was read (an edit within the
# same timestamp tick could keep them).
_RACY_NS = 2_000_000_000
_REGISTRY_IDS: dict[str, tuple[tuple[int, int, int, int], str]] = {}
# The registry that validation made, kept for the next `load_registry` of the same unchanged
# file only (taken, not kept on: a 10k registry is MBs that a build frees after its scan).
_VALIDATED: dict[str, tuple[tuple[int, int, int, int], Registry]] = {}


def _registry_fingerprint(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _take_validated(path: Path) -> Registry | None:
    stashed = _VALIDATED.pop(str(path), None)
    if stashed is None or stashed[0] != _registry_fingerprint(path):
        return None
    return stashed[1]


def _registry_project_id(path: Path) -> str:
    """The valid registry's project_id, or "" (no registry, or one that cannot be used)."""
    key = str(path)
    fingerprint = _registry_fingerprint(path)
    cached = _REGISTRY_IDS.get(key)
    if fingerprint is not None and cached is not None and cached[0] == fingerprint:
        return cached[1]
    started = time.time_ns()
    try:
        registry: Registry | None = load_registry(path)
    except (WorkspaceNotInitialisedError, RegistryError):
        registry = None
    found = registry.project_id if registry is not None else ""
    if fingerprint is not None and max(fingerprint[1], fingerprint[2]) < started - _RACY_NS:
        _REGISTRY_IDS[key] = (fingerprint, found)
        if registry is not None:
            _VALIDATED[key] = (fingerprint, registry)
    return found


def is_project_dir(path: Path) -> bool:
    return (path / PROJECT_FILE).is_file()


def open_project(path: Path | str) -> Project:
    """Open the project whose root is `path`. Raises NotAProjectError / ProjectFileError."""
    root = Path(path).expanduser()
    if not root.exists():
        raise NotAProjectError(f"{root} does not exist; expected a project folder")
    if not root.is_dir():
        raise NotAProjectError(f"{root} is a file; expected a project folder with {PROJECT_FILE}")
    project_file = root / PROJECT_FILE
    try:
        # prometeu.json may be a symlink (the user chose the project), but only to a regular file.
        raw = read_regular(project_file, limit=MAX_PROJECT_FILE_BYTES)
    except FileNotFoundError:
        raise NotAProjectError(
            f"{root} is not a PROMETEU project: it has no {PROJECT_FILE}"
        ) from None
    except OSError as exc:
        raise NotAProjectError(f"cannot read {project_file}: {exc.strerror or exc}") from exc
    try:
        parsed = ProjectFile.model_validate(parse_json(raw))
    except JsonReadError as exc:
        raise ProjectFileError(f"{project_file} {exc}") from exc
    except RecursionError as exc:
        raise ProjectFileError(f"{project_file} nests too deeply") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ProjectFileError(f"{project_file} is invalid at {where}: {first['msg']}") from exc
    return Project(root=root.resolve(), file=parsed)


def init_workspace(project: Project, *, new_project_id: str | None = None) -> Registry:
    """Create `assets/.prometeu/` and an empty registry. Idempotent: an existing one is kept.

    The registry takes prometeu.json's `project_id`, else `new_project_id`, else a fresh UUID
    (a caller that publishes events about the init passes the id it stamped them with).
    """
    if project.registry_path.exists():
        return project.load_registry()
    project.packer_dir.mkdir(parents=True, exist_ok=True)
    registry = empty_registry(project.file.project_id or new_project_id or str(uuid.uuid4()))
    project.save_registry(registry)
    return registry


def create_project(path: Path | str, name: str) -> Project:
    """Write a new prometeu.json (with a fresh project_id) and initialise its workspace."""
    root = Path(path).expanduser()
    if (root / PROJECT_FILE).exists():
        raise ProjectFileError(f"{root} already holds a project ({PROJECT_FILE} exists)")
    root.mkdir(parents=True, exist_ok=True)
    project_file = ProjectFile(name=name, project_id=str(uuid.uuid4()))
    atomic_write_json(root / PROJECT_FILE, project_file.model_dump(mode="json", exclude_none=True))
    project = open_project(root)
    init_workspace(project)
    return project
