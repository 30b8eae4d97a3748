"""Encoding ahead on threads changes nothing observable: bytes, events and findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from packer.build import build, emit
from packer.files.project import Project
from packer.lane.sinks import ListSink
from tests.packer.build_support import add_glyph, add_raw, add_sound, new_project, snapshot_build


def many_assets(base: Path) -> Project:
    project = new_project(base)
    for n in range(12):
        add_raw(project, f"raw/r{n:02d}", bytes([n]) * (n * 7 + 1))
        if n % 3 == 0:
            add_glyph(project, f"glyphs/g{n:02d}")
        if n % 4 == 0:
            add_sound(project, f"sounds/s{n:02d}")
    return project


def observed(project: Project) -> tuple[list[tuple[Any, ...]], dict[str, bytes], list[Any]]:
    sink = ListSink()
    result = build(project, sink, use_cache=False)
    # Progress is paced by the clock, and so are the sequence numbers after it: left out.
    events = [(e.kind, e.summary, e.outcome, e.affected_assets, e.detail)
              for e in sink.events]
    return events, snapshot_build(project), [d.summary() for d in result.diagnostics]


@pytest.mark.parametrize("broken", [False, True])
def test_one_thread_and_several_give_the_same_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: bool,
) -> None:
    runs = []
    for threads in (1, 3):
        project = many_assets(tmp_path / f"t{threads}")
        if broken:  # two misses with format errors, far apart: both are reported
            (project.assets_dir / "raw/r01/data.bin").unlink()
            (project.assets_dir / "sounds/s08/s0.wav").write_bytes(b"")
        monkeypatch.setattr(emit, "ENCODE_THREADS", threads)
        runs.append(observed(project))
    (events_1, build_1, findings_1), (events_3, build_3, findings_3) = runs
    assert [e[1:] for e in events_1 if e[0] != "progress_updated"] == [
        e[1:] for e in events_3 if e[0] != "progress_updated"]
    assert build_1 == build_3
    assert findings_1 == findings_3
    assert bool(findings_1) == broken
