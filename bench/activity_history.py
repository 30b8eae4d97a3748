"""Activity history on disk: the per-operation journal against the old per-event trim.

Takes a real build's event stream (a full build of `--project`, copied to a temp folder first,
or of a generated project), then journals a session of `--builds` such builds, each followed by
`--reads` routine reads, through:
- `journal`: studio.panels.activity.journal (sampled operations, append-only, rare compaction);
- `baseline_trim`: the previous design, measured in the same run: keep the newest 500 *events*,
  rewrite the whole file whenever it holds 750 lines (and on each acknowledgement).
Prints `name: value` lines: seconds of file work, bytes written, final file size, and whether
how many operations each keeps. (The exact counts a build reopens with are the Studio's
totals on its terminal, tested in tests/studio/test_activity_history.py.) No Qt.

Run: .venv/bin/python bench/activity_history.py [--project PATH] [--assets N] [--builds B]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.build import generate_project
from packer.build import build
from packer.files.atomic import atomic_write_bytes
from packer.files.project import open_project
from packer.lane.events import EventKind, PackerEvent
from packer.lane.sinks import ListSink
from studio.panels.activity.journal import ActivityJournal, JournalEntry

OLD_CAP, OLD_SLACK = 500, 250


def build_events(project_root: Path) -> list[PackerEvent]:
    sink = ListSink()
    build(open_project(project_root), sink, use_cache=False)
    return [e for e in sink.events if e.kind is not EventKind.PROGRESS_UPDATED]


def renamed(events: list[PackerEvent], op: str) -> list[PackerEvent]:
    return [e.model_copy(update={"operation_id": op}) for e in events]


def read_events(op: str, template: PackerEvent) -> list[PackerEvent]:
    return [template.model_copy(update={
        "operation_id": op, "operation": "details", "sequence": 1, "terminal": True,
        "kind": EventKind.DIAGNOSTICS_UPDATED, "affected_assets": (), "detail": None,
        "summary": "#1: 0 errors, 0 warnings"})]


class CountingJournal(ActivityJournal):
    """The real journal, counting the bytes it writes (appends and compactions)."""

    written = 0

    def _append_bytes(self, data: bytes) -> None:
        self.written += len(data)
        super()._append_bytes(data)

    def _rewrite(self, entries: list[JournalEntry]) -> None:
        super()._rewrite(entries)
        self.written += self.path.stat().st_size


class OldTrim:
    """The design this replaced: events, not operations; trims rewrite the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self.written = 0

    def append(self, entries: list[JournalEntry]) -> None:
        data = b"".join(e.to_line() for e in entries)
        with open(self.path, "ab") as handle:  # as the old journal: one write + fsync a batch
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self.written += len(data)
        self.lines += len(entries)
        if self.lines > OLD_CAP + OLD_SLACK:
            kept = self.path.read_bytes().splitlines(keepends=True)[-OLD_CAP:]
            data = b"".join(kept)
            atomic_write_bytes(self.path, data)
            self.written += len(data)
            self.lines = len(kept)


def session(build: list[PackerEvent], builds: int, reads: int) -> list[list[JournalEntry]]:
    """Batches as the Studio's writer gets them (a build in batches of 500 events)."""
    batches: list[list[JournalEntry]] = []
    for b in range(builds):
        events = renamed(build, f"build{b}")
        for start in range(0, len(events), 500):
            batches.append([JournalEntry(e) for e in events[start:start + 500]])
        for r in range(reads):
            batches.append([JournalEntry(e) for e in read_events(f"read{b}-{r}", build[0])])
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, default=None,
                        help="a project to build (copied first; default: a generated one)")
    parser.add_argument("--assets", type=int, default=3000)
    parser.add_argument("--builds", type=int, default=20)
    parser.add_argument("--reads", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="activity-history-") as tmp:
        where = Path(tmp) / "project"
        if args.project is not None:
            shutil.copytree(args.project, where, ignore=shutil.ignore_patterns("build"))
        else:
            generate_project(where, assets=args.assets, total_bytes=args.assets * 2048)
        events = build_events(where)
        batches = session(events, args.builds, args.reads)
        print(f"events_per_build: {len(events)}")
        print(f"operations: {args.builds * (1 + args.reads)}")

        new_path = Path(tmp) / "new.jsonl"
        journal = CountingJournal(new_path)
        start = time.perf_counter()
        for batch in batches:
            journal.append(batch)
            journal.flush()
        journal_s = time.perf_counter() - start
        restored = ActivityJournal(new_path).load()
        last_build = sum(1 for e in restored
                         if e.event.operation_id == f"build{args.builds - 1}")

        old_path = Path(tmp) / "old.jsonl"
        old = OldTrim(old_path)
        start = time.perf_counter()
        for batch in batches:
            old.append(batch)
        old_s = time.perf_counter() - start
        old_ops = {line.split(b'"operation_id":"')[1][:40].split(b'"')[0]
                   for line in old_path.read_bytes().splitlines()}

        print(f"journal_s: {journal_s:.3f}")
        print(f"baseline_trim_s: {old_s:.3f}")
        print(f"journal_vs_baseline_ratio: {journal_s / old_s:.3f}")
        print(f"journal_bytes_written: {journal.written}")
        print(f"baseline_trim_bytes_written: {old.written}")
        print(f"journal_file_bytes: {new_path.stat().st_size}")
        print(f"baseline_trim_file_bytes: {old_path.stat().st_size}")
        print(f"journal_operations_kept: {len({e.event.operation_id for e in restored})}")
        print(f"baseline_trim_operations_kept: {len(old_ops)}")
        print(f"journal_compactions: {journal.compactions}")
        print(f"journal_lines_per_build: {last_build}")


if __name__ == "__main__":
    main()
