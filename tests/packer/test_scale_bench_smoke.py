"""bench/scale.py on a tiny project: every figure is printed, and the project is left untouched."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under root: its content hash and mtime, so any write would show."""
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_scale_bench_on_a_given_project_prints_every_figure_and_never_writes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = load("build").generate_project(tmp_path / "p", assets=12, total_bytes=30_000)
    scale = load("scale")
    before = tree_digest(project.root)
    assert scale.main(["--project", str(project.root), "--runs", "1",
                       "--keep", str(tmp_path / "keep")]) == 0
    lines = capsys.readouterr().out.splitlines()
    values = {}
    for line in lines:
        if line.startswith("#"):
            continue
        name, _, rest = line.partition(": ")
        values[name] = float(rest.split("#")[0])
    for name in ("startup_s", "assets_project", "floor_list_s_project", "floor_build_s_project",
                 "list_s_project", "doctor_s_project", "doctor_workspace_s_project",
                 "build_full_s_project", "build_noop_s_project", "build_one_change_s_project",
                 "list_vs_floor_project", "doctor_workspace_vs_floor_project",
                 "build_vs_floor_project", "one_change_vs_full_ratio_project",
                 "peak_rss_kb_per_asset_project", "build_full_cpu_s_project",
                 "floor_one_change_s_project", "one_change_vs_floor_project",
                 "one_change_floor_vs_full_project"):
        assert name in values, (name, lines)
    assert values["assets_project"] == 12
    assert values["build_full_s_project"] > 0
    assert tree_digest(project.root) == before
    assert not (project.root / "build").exists()


def test_growth_lines_need_both_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scale = load("scale")
    assert scale.main(["--sizes", "10", "--runs", "1", "--keep", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "list_s_10: " in out and "growth_1k_10k_" not in out
    assert scale.label_of(1000) == "1k" and scale.label_of(30000) == "30k"


def test_rescan_bench_on_a_given_project_prints_every_figure_and_never_writes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = load("build").generate_project(tmp_path / "p", assets=6, total_bytes=12_000)
    before = tree_digest(project.root)
    assert load("rescan").main(["--project", str(project.root), "--runs", "1"]) == 0
    names = {line.split(":")[0] for line in capsys.readouterr().out.splitlines()}
    assert names == {"assets", "list_s", "scan_first_s", "scan_noop_s", "scan_one_change_s",
                     "scan_noop_vs_list", "record_bytes"}
    assert tree_digest(project.root) == before
