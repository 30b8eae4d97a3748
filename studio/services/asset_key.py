"""How the Studio names one asset across listings: by its id when registered, else by its root."""

from __future__ import annotations

AssetKey = tuple[str, int | str]  # ("id", 7) when registered, else ("root", "wip/loose")


def asset_key(asset_id: int | None, root: str) -> AssetKey:
    return ("id", asset_id) if asset_id is not None else ("root", root)
