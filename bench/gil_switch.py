"""GUI smoothness vs the interpreter's thread switch interval.

A worker thread repeatedly lists a large synthetic workspace with the real packer
(`list_assets_report`: a scan plus per-asset findings, mostly pure Python) while the GUI thread
runs a 5 ms precise QTimer. Lateness = how much later than scheduled each tick fired. Measured
with the default switch interval (5 ms) and with the Studio's 1 ms (studio/__main__.py).

Prints `name: value` lines; figures go to docs/benchmarks.md ("GUI smoothness").
Usage: .venv/bin/python bench/gil_switch.py [--assets 3000] [--seconds 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.studio.synthetic

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

from packer.doctor.queries import list_assets_report
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from tests.studio.synthetic import make_raw_project

TICK_MS = 5


def measure(project: Project | None, seconds: float) -> tuple[list[float], int]:
    """Timer lateness samples (ms) while a worker lists `project` (None: idle baseline)."""
    stop = threading.Event()
    listings = 0

    def worker() -> None:
        nonlocal listings
        assert project is not None
        while not stop.is_set():
            list_assets_report(project, None, CancellationToken())
            listings += 1

    thread = threading.Thread(target=worker) if project is not None else None
    if thread is not None:
        thread.start()
    lateness: list[float] = []
    last = time.perf_counter()
    loop = QEventLoop()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)

    def tick() -> None:
        nonlocal last
        now = time.perf_counter()
        lateness.append(max(0.0, (now - last) * 1000 - TICK_MS))
        last = now

    timer.timeout.connect(tick)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    last = time.perf_counter()
    timer.start()
    loop.exec()  # a local loop per measurement (engineering notes: never app.exec() twice)
    timer.stop()
    stop.set()
    if thread is not None:
        thread.join()
    return lateness, listings


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        project = make_raw_project(Path(tmp) / "big", registered=args.assets, unregistered=0)
        print(f"assets: {args.assets}")
        for label, interval, target in (
            ("idle", 0.005, None), ("default_5ms", 0.005, project), ("studio_1ms", 0.001, project)
        ):
            sys.setswitchinterval(interval)
            lateness, listings = measure(target, args.seconds)
            print(f"{label}_gui_lateness_p50_ms: {statistics.median(lateness):.2f}")
            print(f"{label}_gui_lateness_p99_ms: {p(lateness, 0.99):.2f}")
            print(f"{label}_gui_lateness_max_ms: {max(lateness):.2f}")
            if target is not None:
                print(f"{label}_listings_per_s: {listings / args.seconds:.2f}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
