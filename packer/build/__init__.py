"""The build: a deterministic `build/assets.pa` from the registered, included assets.

Modules, in the order a build uses them: `uptodate` (a no-op decided by stat alone), `check`
(build set, cache decisions, validation), `emit` (payloads: reused or encoded), `plan`
(canonical header), `artifact` (the container writer), `outputs` (mirrors, tool metadata,
previews), `staging` (commit and promotion), `cache` (cache.json). `reader` is an independent
reader for `inspect`. Entry point: `runner.build`.
"""

from packer.build.result import AssetCacheOutcome, BuildResult
from packer.build.runner import build

__all__ = ["AssetCacheOutcome", "BuildResult", "build"]
