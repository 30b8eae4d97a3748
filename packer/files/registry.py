"""The registry (`assets/.prometeu/index.json`): the authority on which assets are registered."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from packer.errors import RegistryError, WorkspaceNotInitialisedError
from packer.files.atomic import atomic_write_json
from packer.files.safe_read import MAX_STATE_FILE_BYTES, JsonReadError, parse_json, read_regular

REGISTRY_SCHEMA_VERSION: Literal[1] = 1


class RegistryEntry(BaseModel):
    # validator built on first use: a patch or no-op build reads no registry
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    # Strict: `"5"` or `"false"` are refused, not coerced (docs/formats.md: wrong types are errors).
    asset_id: int = Field(ge=1, strict=True)
    root: str = Field(min_length=1, strict=True)  # POSIX path relative to assets/
    asset_uuid: str = Field(strict=True)
    included_in_build: bool = Field(default=True, strict=True)
    quarantined: bool = Field(default=False, strict=True)
    # Where a quarantined asset came from (packer.mutations restores it there); written only
    # while set, so registries without quarantined assets keep their five keys per entry.
    quarantined_from: str | None = Field(default=None, strict=True)

    @model_serializer(mode="wrap")
    def _omit_unset_quarantined_from(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("quarantined_from") is None:
            data.pop("quarantined_from", None)
        return data


class Registry(BaseModel):
    # validator built on first use: a patch or no-op build reads no registry
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    schema_version: Literal[1] = REGISTRY_SCHEMA_VERSION
    project_id: str = Field(min_length=1, strict=True)
    next_asset_id: int = Field(ge=1, strict=True)
    assets: tuple[RegistryEntry, ...] = ()

    @model_validator(mode="after")
    def _allocator_ahead_of_ids(self) -> Registry:
        ids = [e.asset_id for e in self.assets]
        if len(ids) != len(set(ids)):
            raise ValueError("two registry entries share one asset_id")
        if ids and max(ids) >= self.next_asset_id:
            raise ValueError("next_asset_id must be greater than every allocated asset_id")
        return self

    def by_id(self, asset_id: int) -> RegistryEntry | None:
        return next((e for e in self.assets if e.asset_id == asset_id), None)

    def by_root(self, root: str) -> list[RegistryEntry]:
        return [e for e in self.assets if e.root == root]

    def sorted(self) -> Registry:
        ordered = tuple(sorted(self.assets, key=lambda e: e.asset_id))
        return self.model_copy(update={"assets": ordered})


def empty_registry(project_id: str) -> Registry:
    return Registry(project_id=project_id, next_asset_id=1, assets=())


def load_registry(path: Path) -> Registry:
    """Read and validate the registry. Raises a PackerError that says what is wrong."""
    try:
        # The packer writes index.json itself (atomically, never as a link): a symlink is refused.
        raw = read_regular(path, follow_symlinks=False, limit=MAX_STATE_FILE_BYTES)
    except FileNotFoundError:
        raise WorkspaceNotInitialisedError(
            f"{path} does not exist: run `prometeu-packer init` on the project first"
        ) from None
    except OSError as exc:
        raise RegistryError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_registry(raw, source=str(path))


def parse_registry(raw: bytes, *, source: str = "index.json") -> Registry:
    try:
        data = parse_json(raw)
    except JsonReadError as exc:
        raise RegistryError(f"{source} {exc}") from exc
    if isinstance(data, dict):
        version = data.get("schema_version")
        if isinstance(version, int) and not isinstance(version, bool) and (
            version > REGISTRY_SCHEMA_VERSION
        ):
            raise RegistryError(
                f"{source} has schema_version {version}; this packer reads "
                f"{REGISTRY_SCHEMA_VERSION}. Upgrade the packer."
            )
    try:
        return Registry.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise RegistryError(f"{source} is invalid at {where}: {first['msg']}") from exc
    except RecursionError as exc:
        raise RegistryError(f"{source} nests too deeply") from exc


def save_registry(path: Path, registry: Registry) -> None:
    """Atomic write, entries sorted by asset_id so the file diffs cleanly."""
    atomic_write_json(path, registry.sorted().model_dump(mode="json"))
