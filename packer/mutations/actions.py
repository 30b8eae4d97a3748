"""The mutation actions and the lock wait, without the models: the CLI's parser needs only these,
and importing them costs nothing at start-up."""

from __future__ import annotations

from enum import StrEnum

# How long an apply waits for another writer's lock before giving up.
DEFAULT_LOCK_TIMEOUT_S = 5.0
# The asset types `new` can make (packer.mutations.proposal).
ASSET_TYPES = ("glyph_bank", "sound_bank", "raw")


class MutationAction(StrEnum):
    REGISTER = "register_asset"
    ADOPT = "adopt_asset"
    FORGET = "forget_asset"
    REMOVE = "remove_asset"
    QUARANTINE = "quarantine_asset"
    RESTORE = "restore_asset"
    RELOCATE = "relocate_asset"
    INCLUDE = "include_asset"
    EXCLUDE = "exclude_asset"
    RENAME = "rename_asset"
    NEW = "new_asset"

    @property
    def verb(self) -> str:
        return self.value.removesuffix("_asset")
