"""`prometeu-packer scan` (the rescan F5 runs) on any project, against `list` in the same run.

    .venv/bin/python bench/rescan.py --project PATH [--runs R]

The project is never touched: each run works on a fresh copy in a temp folder. Each command runs
as a subprocess of the `prometeu-packer` console script beside this Python, wall-clock from
spawn to exit, best of --runs (the comment gives min / median / max). Printed, one `name: value`
per line: `assets`; `list_s` (`list --json`, the baseline: what F5 ran before); `scan_first_s`
(no scan record yet: every asset.json and input is hashed once, the baseline is recorded);
`scan_noop_s` (again, nothing changed: stats only); `scan_one_change_s` (after one input's bytes
changed, same size, mtime put back: found by ctime and hash); `scan_noop_vs_list` (ratio);
`record_bytes` (assets/.prometeu/scan.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

PACKER = str(Path(sys.executable).with_name("prometeu-packer"))


def _timed(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([PACKER, *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"prometeu-packer {' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed, done.stdout


def _first_input(root: Path) -> Path:
    """One declared input of the first asset root (for the one-change run)."""
    for anchor in sorted((root / "assets").rglob("asset.json")):
        decl = json.loads(anchor.read_text(encoding="utf-8"))
        for paths in decl.get("inputs", {}).values():
            if paths:
                return anchor.parent / str(paths[0])
    raise SystemExit("no asset with an input in this project")


def _change_in_place(path: Path) -> None:
    data = bytearray(path.read_bytes())
    before = path.stat()
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _run_once(source: Path, work: Path) -> dict[str, float]:
    copy = work / "project"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy, symlinks=True)
    (copy / "assets" / ".prometeu" / "scan.json").unlink(missing_ok=True)
    figures: dict[str, float] = {}
    figures["list_s"], _ = _timed("list", "--json", str(copy))
    figures["scan_first_s"], _ = _timed("scan", "--json", str(copy))
    figures["scan_noop_s"], out = _timed("scan", "--json", str(copy))
    figures["assets"] = json.loads(out)["assets"]
    _change_in_place(_first_input(copy))
    figures["scan_one_change_s"], out = _timed("scan", "--json", str(copy))
    if json.loads(out)["changed"] != 1:
        raise SystemExit("the one-change scan did not report exactly one changed asset")
    figures["record_bytes"] = (copy / "assets" / ".prometeu" / "scan.json").stat().st_size
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="any project folder")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="rescan-bench-") as work:
        for _ in range(max(1, args.runs)):
            runs.append(_run_once(args.project, Path(work)))

    def best(name: str) -> float:
        return min(r[name] for r in runs)

    print(f"assets: {int(runs[0]['assets'])}")
    for name in ("list_s", "scan_first_s", "scan_noop_s", "scan_one_change_s"):
        values = [r[name] for r in runs]
        print(f"{name}: {best(name):.2f}  # min {min(values):.2f} / median "
              f"{statistics.median(values):.2f} / max {max(values):.2f}, {len(values)} runs")
    print(f"scan_noop_vs_list: {best('scan_noop_s') / best('list_s'):.2f}")
    print(f"record_bytes: {int(runs[0]['record_bytes'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
