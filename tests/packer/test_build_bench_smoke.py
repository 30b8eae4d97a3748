"""The build benchmark's project generator, at a tiny scale: it makes a project that builds."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from packer.build import build
from packer.build.reader import inspect_file

BENCH = Path(__file__).resolve().parents[2] / "bench" / "build.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_build", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_project_has_every_kind_and_builds(tmp_path: Path) -> None:
    bench = load_bench()
    project = bench.generate_project(tmp_path / "p", assets=24, total_bytes=60_000)
    result = build(project)
    assert result.succeeded, (result.error, result.blocking)
    assert result.asset_count == 24
    report = inspect_file(project.build_dir / "assets.pa")
    assert report.valid
    assert {row["bank_type"] for row in report.asset_table} == {"RAW", "SOUNDS", "GLYPH"}
    assert len(bench.input_files(project)) > 24
    noop = build(project)
    assert noop.up_to_date and noop.cache_hits == 24
