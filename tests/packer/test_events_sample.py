"""The exact JSON-lines event streams of scan and doctor on the sample project.

Exact sequence = the (kind, affected roots, terminal) of every non-progress event, in order.
Progress is throttled by time, so it is checked separately: it starts indeterminate at 0, never
decreases, and ends at done == total.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from packer.cli.main import main
from packer.files.project import Project, open_project
from packer.lane.events import EventKind, Outcome, PackerEvent, parse_event_line
from packer.lane.sinks import JsonLinesSink
from packer.workspace.scan import scan_workspace

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample-project"

Step = tuple[str, tuple[str, ...], bool]


@pytest.fixture
def sample(tmp_path: Path) -> Project:
    """A private copy: tests never write into the repository's sample (not even a lock file)."""
    target = tmp_path / "sample-project"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("lock"))
    return open_project(target)


def parse(stream: str) -> list[PackerEvent]:
    return [parse_event_line(line) for line in stream.splitlines()]


def steps(events: list[PackerEvent]) -> list[Step]:
    return [
        (e.kind.value, tuple(a.root for a in e.affected_assets), e.terminal)
        for e in events if e.kind is not EventKind.PROGRESS_UPDATED
    ]


def check_envelope_and_progress(events: list[PackerEvent], operation: str) -> None:
    assert {e.operation for e in events} == {operation}
    assert len({e.operation_id for e in events}) == 1
    assert {e.project_id for e in events} == {"5a3f0c2e-8d41-4b6a-9c7e-0f1d2e3a4b5c"}
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert [e.terminal for e in events] == [False] * (len(events) - 1) + [True]
    progress = [e.progress for e in events if e.kind is EventKind.PROGRESS_UPDATED]
    assert progress, "no progress at all"
    assert progress[0] is not None and (progress[0].done, progress[0].total) == (0, None)
    dones = [p.done for p in progress if p is not None]
    assert dones == sorted(dones)
    last = progress[-1]
    assert last is not None and last.total is not None and last.done == last.total


def test_scan_stream(sample: Project) -> None:
    out = io.StringIO()
    scan_workspace(sample, JsonLinesSink(out))
    events = parse(out.getvalue())
    check_envelope_and_progress(events, "scan")
    assert steps(events) == [
        ("asset_discovered", ("tiles/overworld",), False),
        ("asset_discovered", ("ui/font",), False),
        ("asset_discovered", ("sfx/core",), False),
        ("asset_discovered", ("data/level1",), False),
        ("asset_discovered", ("wip/boss_tiles",), False),
        ("diagnostics_updated", (), True),
    ]
    discovered = [e for e in events if e.kind is EventKind.ASSET_DISCOVERED]
    assert [a.asset_id for e in discovered for a in e.affected_assets] == [1, 2, 3, 4, None]
    assert events[-1].outcome is Outcome.SUCCEEDED


def test_doctor_stream(sample: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", str(sample.root), "--events", "jsonl"])
    out, err = capsys.readouterr()
    assert code == 0 and "Nothing blocks a build." in err
    events = parse(out)
    check_envelope_and_progress(events, "doctor")
    assert steps(events) == [("diagnostics_updated", (), True)]
    assert events[-1].outcome is Outcome.SUCCEEDED


def test_doctor_workspace_stream(sample: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--workspace", str(sample.root), "--events", "jsonl"])
    out, _err = capsys.readouterr()
    assert code == 0
    events = parse(out)
    check_envelope_and_progress(events, "doctor")
    assert steps(events) == [
        ("diagnostics_updated", ("tiles/overworld",), False),
        ("diagnostics_updated", ("wip/boss_tiles",), False),
        ("diagnostics_updated", ("tiles/overworld", "wip/boss_tiles"), True),
    ]
    codes = [
        [d.code for d in e.detail.diagnostics]
        for e in events if e.kind is EventKind.DIAGNOSTICS_UPDATED
        if e.detail is not None and e.detail.type == "diagnostics_updated"
    ]
    assert codes == [["PK203"], ["PK201", "PK202"], ["PK203", "PK201", "PK202"]]
    assert events[-1].outcome is Outcome.SUCCEEDED


def change_the_sample(project: Project) -> None:
    """An input edited by content, a new root, and a root deleted (what F5 and `scan` tell)."""
    tile = project.assets_dir / "tiles/overworld/tiles/002_path.png"
    tile.write_bytes(tile.read_bytes() + b"\0")
    fresh = project.assets_dir / "data/level2"
    fresh.mkdir()
    (fresh / "level2.bin").write_bytes(b"level two")
    declaration = (project.assets_dir / "data/level1/asset.json").read_text(encoding="utf-8")
    (fresh / "asset.json").write_text(
        declaration.replace("4f9cad5e-6071-4283-bd94-ae1f2a3b4c54",
                            "0b7f4c2e-1d2a-4e5b-8c9d-0a1b2c3d4e5f")
        .replace('"level1"', '"level2"').replace("level1.bin", "level2.bin"),
        encoding="utf-8")
    shutil.rmtree(project.assets_dir / "wip/boss_tiles")


# The rescan of the changed sample: per root in snapshot order (registered by id, then the
# others by root), then the removed roots; the terminal names them all.
RESCAN_OF_THE_CHANGED_SAMPLE: list[Step] = [
    ("asset_changed", ("tiles/overworld",), False),
    ("asset_discovered", ("data/level2",), False),
    ("asset_changed", ("wip/boss_tiles",), False),
    ("diagnostics_updated", ("tiles/overworld", "data/level2", "wip/boss_tiles"), True),
]


def test_rescan_cli_stream(sample: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """`prometeu-packer scan --events jsonl`: the baseline, then exactly what changed."""
    assert main(["scan", str(sample.root), "--events", "jsonl"]) == 0
    baseline = parse(capsys.readouterr().out)
    check_envelope_and_progress(baseline, "rescan")
    assert steps(baseline) == [("diagnostics_updated", (), True)]

    change_the_sample(sample)
    assert main(["scan", str(sample.root), "--events", "jsonl"]) == 0
    events = parse(capsys.readouterr().out)
    check_envelope_and_progress(events, "rescan")
    assert steps(events) == RESCAN_OF_THE_CHANGED_SAMPLE
    changes = [e.detail.changes for e in events
               if e.detail is not None and e.detail.type == "asset_changed"]
    assert changes == [("input tiles/002_path.png changed",), ("removed",)]
    assert events[-1].outcome is Outcome.SUCCEEDED
    assert events[-1].summary.startswith("Rescan: 1 new, 1 changed, 1 removed, 3 unchanged")
