"""bench/studio_scale.py on a tiny project: it runs end to end and prints every figure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.studio.synthetic import add_sound_bank, make_raw_project

BENCH = Path(__file__).resolve().parents[2] / "bench" / "studio_scale.py"
FIGURES = ("window_s", "navigator_filled_s", "build_s", "cli_build_s",
           "studio_vs_cli_build_ratio", "post_build_current_s", "build_gui_p50_ms",
           "build_gui_p99_ms", "build_gui_max_ms", "details_during_build_ms", "gc_max_pause_ms",
           "peak_rss_mb", "build_studio_cpu_s", "build_child_cpu_s", "cli_build_cpu_s")


def test_the_studio_scale_bench_prints_every_figure_for_any_project(tmp_path: Path) -> None:
    project = make_raw_project(tmp_path / "game", registered=6, unregistered=1)
    add_sound_bank(project)
    before = sorted(p.relative_to(project.root) for p in project.root.rglob("*"))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(BENCH), "--project", str(project.root)],
                          capture_output=True, text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    assert set(FIGURES) <= set(printed), done.stdout
    assert float(printed["build_s"].split()[0]) > 0
    # The build ran in its own processes, whose CPU the Studio waited for.
    assert float(printed["build_child_cpu_s"].split()[0]) > 0
    assert "# the Studio's CPU during the build by thread" in done.stderr
    # It worked on a copy: the project is as it was (no build/, no history).
    assert sorted(p.relative_to(project.root) for p in project.root.rglob("*")) == before
