"""Errors the packer raises to its callers. Each message says what was expected."""

from __future__ import annotations


class PackerError(Exception):
    """Base of every error a caller is expected to show to a user."""


class NotAProjectError(PackerError):
    """The folder has no prometeu.json (or cannot be read as a project)."""


class ProjectFileError(PackerError):
    """prometeu.json exists but is not valid."""


class WorkspaceNotInitialisedError(PackerError):
    """assets/.prometeu/index.json is missing: run `init` first."""


class RegistryError(PackerError):
    """The registry exists but cannot be read or is invalid."""


class AssetNotFoundError(PackerError):
    """No asset matches the given id or root."""
