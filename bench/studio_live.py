"""What keeps the Studio current, on any project: the jobs the session runs, in this process.

    .venv/bin/python bench/studio_live.py --project PATH [--runs R]

Works on a fresh copy of the project per run (never the original). The figures are the packer
calls the Studio's session makes (studio/services/session.py), timed in-process, wall-clock; each
printed as the best of --runs with min / median / max in the comment:
- `assets`;
- `baseline_s`: the baseline taken after opening a project with no scan record (`rescan`);
- `validation_cold_s`: the background validation after it (`doctor`, no validation cache yet:
  every asset's format is validated); `validation_warm_s`: the same on the next open (the cache
  holds every asset: only stats and hashes of asset.json);
- `f5_one_change_s`: F5 after one input was edited: `rescan_snapshot` + `summaries_of` the one
  root it names (what F5 does now: the last rescan's snapshot with the edited asset read again);
  `f5_one_change_compared_s`: the same with nothing remembered (a scan, as in the sixth
  session); `f5_one_change_listing_s`: `rescan` + `list_assets_report` (what F5 did before the
  third: a second scan and a full listing), each after an edit of its own, in the same run;
  `f5_vs_listing` = f5_one_change / f5_one_change_listing;
- `f5_noop_s`: F5 with nothing changed (a rescan, nothing read after it; the last rescan's
  snapshot and record stand while stat proves the workspace unchanged); `f5_noop_compared_s`:
  the same F5 right after it, made to scan and compare with the record as every F5 did before
  the seventh session (`f5_noop_vs_compared`: their ratio);
- `navigator_update_all_s`: the GUI thread's work when a validation's end updates every row in
  place (the navigator, offscreen, filled from the project's listing; each row's "unchecked"
  mark flipped), against `navigator_fill_s`, filling it (`set_rows`) in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from packer.doctor import rescan as rescan_module
from packer.doctor.queries import list_assets_report, summaries_of
from packer.doctor.rescan import rescan, rescan_snapshot
from packer.doctor.service import doctor
from packer.files.project import Project, open_project
from packer.workspace import snapshot_memo
from studio.panels.assets.navigator import AssetNavigator
from studio.panels.assets.rows import row_from_summary


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _first_input(project: Project) -> Path:
    for anchor in sorted(project.assets_dir.rglob("asset.json")):
        decl = json.loads(anchor.read_text(encoding="utf-8"))
        for paths in decl.get("inputs", {}).values():
            if paths:
                return anchor.parent / str(paths[0])
    raise SystemExit("no asset with an input in this project")


def _edit(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\0")


def _f5_now(project: Project) -> int:
    report, snapshot = rescan_snapshot(project)
    roots = [c.root for c in report.changes if c.kind != "removed"]
    return len(summaries_of(project, snapshot, roots))


def _f5_before(project: Project) -> int:
    report = rescan(project)
    return len(list_assets_report(project).assets) if report.changes else 0


def _run_once(source: Path, work: Path) -> dict[str, float]:
    copy = work / "project"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy, symlinks=True)
    copied = time.monotonic()
    for cached in ("scan.json", "validation.json"):
        (copy / "assets" / ".prometeu" / cached).unlink(missing_ok=True)
    project = open_project(copy)
    # A user's files are older than the 2 s in which a scan trusts no stat; the copy's are new.
    time.sleep(max(0.0, copied + 2.1 - time.monotonic()))
    figures: dict[str, float] = {}
    figures["baseline_s"] = _timed(lambda: rescan(project))
    figures["validation_cold_s"] = _timed(lambda: doctor(project))
    figures["validation_warm_s"] = _timed(lambda: doctor(project))
    figures["f5_noop_s"] = _timed(lambda: rescan(project))
    target = _first_input(project)
    _edit(target)
    figures["f5_one_change_s"] = _timed(lambda: _f5_now(project))
    with pytest.MonkeyPatch.context() as patch:  # nothing remembered: scan and compare
        patch.setattr(rescan_module._recorded, "made_from", lambda *args: None)
        patch.setattr(snapshot_memo, "RACY_WINDOW_NS", 10**18)
        patch.setattr(snapshot_memo, "_memory", snapshot_memo._Memory())
        figures["f5_noop_compared_s"] = _timed(lambda: rescan(project))
        _edit(target)
        figures["f5_one_change_compared_s"] = _timed(lambda: _f5_now(project))
        _edit(target)
        figures["f5_one_change_listing_s"] = _timed(lambda: _f5_before(project))
    figures["assets"] = len(rescan_snapshot(project)[1].assets)
    rows = [row_from_summary(a) for a in list_assets_report(project).assets]
    navigator = AssetNavigator()
    navigator.show()
    figures["navigator_fill_s"] = _timed(lambda: navigator.set_rows(rows))
    flipped = [replace(r, unchecked=not r.unchecked) for r in rows]
    figures["navigator_update_all_s"] = _timed(lambda: navigator.update_rows(flipped))
    navigator.close()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="any project folder")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication([])  # noqa: F841 (the navigator needs one)
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="studio-live-bench-") as work:
        for _ in range(max(1, args.runs)):
            runs.append(_run_once(args.project, Path(work)))

    def best(name: str) -> float:
        return min(r[name] for r in runs)

    print(f"assets: {int(runs[0]['assets'])}")
    for name in ("baseline_s", "validation_cold_s", "validation_warm_s", "f5_noop_s",
                 "f5_noop_compared_s", "f5_one_change_s", "f5_one_change_compared_s",
                 "f5_one_change_listing_s",
                 "navigator_fill_s", "navigator_update_all_s"):
        values = [r[name] for r in runs]
        print(f"{name}: {best(name):.2f}  # min {min(values):.2f} / median "
              f"{statistics.median(values):.2f} / max {max(values):.2f}, {len(values)} runs")
    print(f"f5_vs_listing: {best('f5_one_change_s') / best('f5_one_change_listing_s'):.2f}")
    print(f"f5_noop_vs_compared: {best('f5_noop_s') / best('f5_noop_compared_s'):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
