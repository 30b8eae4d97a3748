"""A mutation at scale, as the Studio's session and the command line run it: preview, then apply.

    .venv/bin/python bench/mutation.py --project PATH [--runs R] [--asset ID]

Works on a copy of the project (never the original). Each cycle excludes one registered asset
(--asset, default the first registered) and includes it again, in this process, with a sink that
wants events (as the Studio's and the CLI's do, so the apply reports the changed asset), at a
user's pace: each preview starts at least 2.1 s after the last change to the workspace (a file
changed within 2 s of a scan is never trusted; see packer/workspace/snapshot_memo.py).

Printed, best of the runs' steps with min / median / max in the comment:
- `preview_s`, `apply_s`, `mutation_s` (preview + apply) of this code;
- `*_rescan_s`: the same steps in the same run, interleaved, as every apply ran before the
  seventh session: the apply scans the workspace again to plan, and once more to report the
  changed asset (the memo switched off, the asset's own folder not read alone);
- `apply_vs_rescan` and `mutation_vs_rescan`: the ratios (lower is better).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from packer.files.project import Project, open_project
from packer.lane.sinks import ListSink
from packer.mutations import (
    MutationAction,
    MutationRequest,
    apply_mutation,
    preview_mutation,
    service,
)
from packer.workspace import snapshot_memo

USER_PACE_S = 2.1  # the racy window (2 s) and a little


@contextmanager
def rescanning() -> Iterator[None]:
    """Every apply as before: nothing remembered, the changed asset found by a scan."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snapshot_memo, "RACY_WINDOW_NS", 10**18)
        patch.setattr(service, "read_beside", lambda *args, **kwargs: (False, None))
        yield


def first_registered(project: Project) -> int:
    ids = sorted(entry.asset_id for entry in project.load_registry().assets
                 if not entry.quarantined)
    if not ids:
        raise SystemExit(f"{project.root} has no registered asset to exclude")
    return ids[0]


def one_step(project: Project, action: MutationAction, asset: int,
             last_change: float) -> tuple[float, float, float]:
    wait = last_change + USER_PACE_S - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    sink = ListSink()
    started = time.perf_counter()
    preview = preview_mutation(project, MutationRequest(action=action, asset=asset), sink)
    previewed = time.perf_counter()
    result = apply_mutation(project, preview, consent=True, sink=sink)
    applied = time.perf_counter()
    if not result.applied:
        raise SystemExit(f"{action.value} #{asset} was not applied: {result.message}")
    return previewed - started, applied - previewed, time.monotonic()


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"{len(values)} steps: {ordered[0]:.3f} / {statistics.median(ordered):.3f} / "
            f"{ordered[-1]:.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="any project folder")
    parser.add_argument("--runs", type=int, default=3, help="exclude + include cycles per mode")
    parser.add_argument("--asset", type=int, default=None, help="the asset id to exclude")
    args = parser.parse_args(argv)
    if not (args.project / "prometeu.json").is_file():
        parser.error(f"{args.project} is not a project (no prometeu.json)")
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="mutation-bench-") as work:
        copy = Path(work) / "project"
        shutil.copytree(args.project, copy, symlinks=True)
        last_change = time.monotonic()  # the copy: every file was written just now
        project = open_project(copy)
        asset = args.asset if args.asset is not None else first_registered(project)
        print(f"assets: {len(project.load_registry().assets)}  # registry entries; "
              f"excluding and including #{asset}", flush=True)
        for _ in range(max(1, args.runs)):
            for mode in ("", "_rescan"):
                for action in (MutationAction.EXCLUDE, MutationAction.INCLUDE):
                    context: Any = rescanning() if mode else _nothing()
                    with context:
                        preview_s, apply_s, last_change = one_step(project, action, asset,
                                                                   last_change)
                    for name, value in (("preview", preview_s), ("apply", apply_s),
                                        ("mutation", preview_s + apply_s)):
                        figures.setdefault(f"{name}{mode}_s", []).append(value)
    for name in ("preview_s", "apply_s", "mutation_s", "preview_rescan_s", "apply_rescan_s",
                 "mutation_rescan_s"):
        print(f"{name}: {min(figures[name]):.4f}  # {spread(figures[name])}")
    for name in ("apply", "mutation"):
        now = statistics.median(figures[f"{name}_s"])
        before = statistics.median(figures[f"{name}_rescan_s"])
        print(f"{name}_vs_rescan: {now / before:.3f}  # medians: {now:.3f} / {before:.3f} s")
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield


if __name__ == "__main__":
    raise SystemExit(main())
