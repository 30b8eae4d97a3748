"""One asset's details read with the listing's index (what a click in the Studio runs), on any
project, with its duplicate check (PK202) against the way it was made before, in the same run.

    .venv/bin/python bench/details_read.py --project PATH [--asset REF ...] [--runs R] [--busy]

The project is never touched: it is copied to a temp folder (then 2 s pass: the racy window
of the hash cache, as for files older than that), listed once (`list_assets_indexed`,
as the Studio does), then each asset is read R times (the first read of the process is left
out: imports and first-use caches). `--asset`: asset ids or roots; by default the asset whose
files' sizes are shared by the most other files (the worst case of the duplicate check) and the
first listed. `--busy`: a thread spins Python code meanwhile, sharing the GIL as a build does.

Printed, one `name: value` per line (best of R, then min / median / max): `assets`,
`index_group_ms` (grouping the hashes by size as a `WorkspaceIndex` made after a rescan or a
mutation does; a listing's duplicate check hands its groups over as it goes), and per asset
(`<id>` its asset_id or root): `details_ms_<id>` and `details_cpu_ms_<id>` (the whole read, wall
and thread CPU), `duplicates_ms_<id>` / `duplicates_cpu_ms_<id>` (its PK202 part) and the
baseline `every_file_ms_<id>` / `every_file_cpu_ms_<id>` (the same findings the way the read
made them before: the hash of every file of its sizes looked up, and every PK202 of those groups
made), `lookups_before_<id>` (how many hashes that looked up), `same_findings_<id>` (1 if both
ways give the same PK202 text).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from packer.build.cache import RACY_WINDOW_NS
from packer.diagnostics import Diagnostic
from packer.doctor import one_asset
from packer.doctor.hygiene import (
    SameSize,
    WorkspaceFile,
    by_size,
    duplicate_diagnostics,
    list_workspace_files,
)
from packer.doctor.queries import get_asset_details, list_assets_indexed
from packer.files.project import Project, open_project
from packer.lane.cancellation import CancellationToken

Timed = tuple[float, float]  # wall ms, thread CPU ms


def _timed(call: Callable[[], Any]) -> tuple[Timed, Any]:
    wall, cpu = time.perf_counter(), time.thread_time()
    result = call()
    return ((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000), result


def _every_file(project: Project, record: Any, owners: dict[str, int | None],
                index: one_asset.WorkspaceIndex, *, sizes: dict[int, list[WorkspaceFile]],
                token: CancellationToken) -> tuple[list[Diagnostic], int]:
    """The duplicate check as the one-asset read made it before (the baseline): every file of
    each of the asset's sizes, its hash looked up (or hashed), every finding of those groups
    made, then the asset's own kept."""
    prefix = f"{record.root}/"
    mine = list_workspace_files(project.assets_dir, token, under=record.root)
    identical: list[list[str]] = []
    lookups = 0
    for size in sorted({f.size for f in mine if f.size > 0}):
        group = [f for f in sizes.get(size, ()) if not f.path.startswith(prefix)]
        group.extend(f for f in mine if f.size == size)
        if len(group) < 2:
            continue
        by_hash: dict[str, list[str]] = {}
        for item in group:
            lookups += 1
            digest = one_asset._hash(project, item, index.hashes, token)
            if digest is not None:
                by_hash.setdefault(digest, []).append(item.path)
        identical.extend(sorted(paths) for paths in by_hash.values() if len(paths) > 1)
    found = duplicate_diagnostics(sorted(identical), owners)
    return [d for d in found if d.root == record.root], lookups


def _worst_asset(index: one_asset.WorkspaceIndex, files: list[WorkspaceFile]) -> str:
    """The root whose files' sizes are shared by the most files."""
    shared: dict[str, int] = {}
    for item in files:
        owner = index.roots.owner(item.path)
        if owner is not None and item.size > 0:
            shared[owner] = shared.get(owner, 0) + _count(index.same_size[item.size])
    return max(sorted(shared), key=lambda root: shared[root])


def _count(group: SameSize) -> int:
    return sum(len(paths) for paths in group.by_digest.values()) + len(group.unhashed)


def wait_out_racy_window() -> None:
    """A copy's files are new (their ctime): the listing's hashes of files changed within the
    hash cache's racy window are not trusted (as for any file just written), and the reads
    would hash them again."""
    time.sleep(RACY_WINDOW_NS / 1e9 + 0.2)


def _spin(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(range(1000))


def _spread(values: list[float]) -> str:
    return (f"# min {min(values):.1f} / median {statistics.median(values):.1f} / "
            f"max {max(values):.1f}, {len(values)} runs")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="any project folder")
    parser.add_argument("--asset", action="append", default=[], help="asset id or root")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busy", action="store_true", help="a GIL-sharing thread meanwhile")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="details-bench-") as work:
        copy = Path(work) / "project"
        shutil.copytree(args.project, copy, symlinks=True)
        wait_out_racy_window()
        project = open_project(copy)
        listing, index = list_assets_indexed(project)
        print(f"assets: {len(listing.assets)}")
        files = list_workspace_files(project.assets_dir, CancellationToken())
        group_ms = [_timed(lambda: one_asset.same_size_groups(files, index.hashes))[0][0]
                    for _ in range(3)]
        print(f"index_group_ms: {min(group_ms):.1f}  {_spread(group_ms)}")
        refs: list[int | str] = [int(a) if a.isdigit() else a for a in args.asset] or [
            _worst_asset(index, files), listing.assets[0].root]
        get_asset_details(project, refs[-1], index=index)  # first use: imports, caches
        stop = threading.Event()
        spinner = threading.Thread(target=_spin, args=(stop,), daemon=True)
        if args.busy:
            spinner.start()
        try:
            for ref in refs:
                _measure(project, index, by_size(files), ref, max(1, args.runs))
        finally:
            stop.set()
    return 0


def _measure(project: Project, index: one_asset.WorkspaceIndex,
             sizes: dict[int, list[WorkspaceFile]], ref: int | str, runs: int) -> None:
    token = CancellationToken()
    real = one_asset._duplicates
    parts: list[Timed] = []

    def timed_duplicates(*args: Any) -> list[Diagnostic]:
        took, found = _timed(lambda: real(*args))
        parts.append(took)
        seen.append((args[1], args[2], found))
        return found  # type: ignore[no-any-return]

    seen: list[tuple[Any, dict[str, int | None], list[Diagnostic]]] = []
    whole: list[Timed] = []
    one_asset._duplicates = timed_duplicates  # type: ignore[assignment]
    try:
        for _ in range(runs):
            took, details = _timed(lambda: get_asset_details(project, ref, index=index))
            whole.append(took)
    finally:
        one_asset._duplicates = real
    name = details.asset_id if details.asset_id is not None else details.root
    if not seen:
        print(f"# {name}: no duplicate check (a missing asset)")
        return
    record, owners, found = seen[-1]
    before: list[Timed] = []
    for _ in range(runs):
        took, (old, lookups) = _timed(lambda: _every_file(project, record, owners, index,
                                                         sizes=sizes, token=token))
        before.append(took)
    same = [d.message for d in old] == [d.message for d in found]
    for label, values in (("details_ms", [w for w, _c in whole]),
                          ("details_cpu_ms", [c for _w, c in whole]),
                          ("duplicates_ms", [w for w, _c in parts]),
                          ("duplicates_cpu_ms", [c for _w, c in parts]),
                          ("every_file_ms", [w for w, _c in before]),
                          ("every_file_cpu_ms", [c for _w, c in before])):
        print(f"{label}_{name}: {min(values):.1f}  {_spread(values)}")
    print(f"lookups_before_{name}: {lookups}")
    print(f"same_findings_{name}: {int(same)}  # {len(found)} PK202 ({details.root})")
    print(f"# loadavg {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
