"""The build: a deterministic `build/assets.pa` from the registered, included assets.

Modules, in the order a build uses them: `uptodate` (a no-op decided by stat alone, from the
manifest `manifest_file` reads; `recording` writes it after a build), `check`
(build set, cache decisions, validation), `emit` (payloads: reused or encoded), `plan`
(canonical header), `artifact` (the container writer), `outputs` (mirrors, tool metadata),
`staging` (commit and promotion), `cache` (cache.json). `reader` is an independent
reader for `inspect`. Entry point: `runner.build`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from packer.build.result import AssetCacheOutcome, BuildResult
    from packer.build.runner import build

__all__ = ["AssetCacheOutcome", "BuildResult", "build"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `from packer.build.cache import …` (doctor, list) must not load
    # the whole build, which is most of a short command's start-up time.
    if name in ("AssetCacheOutcome", "BuildResult"):
        from packer.build import result

        return getattr(result, name)
    if name == "build":
        from packer.build.runner import build as run

        return run
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
