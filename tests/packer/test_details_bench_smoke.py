"""bench/details_read.py on a tiny project: every figure is printed, both duplicate checks agree,
and the project is left untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packer.test_scale_bench_smoke import load, tree_digest


def test_details_bench_prints_every_figure_and_never_writes_the_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = load("build").generate_project(tmp_path / "p", assets=12, total_bytes=30_000)
    bench = load("details_read")
    monkeypatch.setattr(bench, "wait_out_racy_window", lambda: None)  # tiny: nothing to trust
    before = tree_digest(project.root)
    assert bench.main(["--project", str(project.root), "--runs", "2", "--busy"]) == 0
    values: dict[str, float] = {}
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith("#"):
            name, _, rest = line.partition(": ")
            values[name] = float(rest.split("#")[0])
    assert values["assets"] == 12
    assert "index_group_ms" in values
    figures = {name.rsplit("_", 1)[0] for name in values if name.rsplit("_", 1)[-1].isdigit()}
    assert figures == {"details_ms", "details_cpu_ms", "duplicates_ms", "duplicates_cpu_ms",
                       "every_file_ms", "every_file_cpu_ms", "lookups_before", "same_findings"}
    assert all(values[name] == 1 for name in values if name.startswith("same_findings_"))
    assert tree_digest(project.root) == before
