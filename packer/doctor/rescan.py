"""Rescan: what changed in the workspace since the last scan, told as events.

The operation `rescan` scans `assets/` (packer.workspace.scan), compares each asset root with the
record the previous rescan left in `assets/.prometeu/scan.json` (packer.doctor.scan_record), and
publishes `asset_discovered` for a root that is new, `asset_changed` for one whose identity,
state, asset.json, inputs, files or findings changed, and `asset_changed` with the change
`removed` (state null) for one that is gone; an unchanged root gets no event. Then it records
this scan for the next one. docs/events.md has the stream, docs/formats.md the record.

Content-aware, with the build cache's rule: a file (asset.json or a declared input) whose
(size, mtime_ns, ctime_ns, inode) equal the record's, and whose mtime and ctime are older than
the previous scan's start minus the racy window, is unchanged; any other is hashed (xxh3_128) and
its hash decides. With no usable record (the first rescan, or PK210), nothing is compared: the
terminal says so and the scan becomes the baseline.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from packer.build.cache import RACY_WINDOW_NS
from packer.build.hashing import hash_bytes, hash_file
from packer.diagnostics import Diagnostic, count_by_severity, counts_text, plural
from packer.doctor.scan_record import (
    SCAN_RECORD_FILE,
    FileFacts,
    LoadedRecord,
    RootFacts,
    ScanRecord,
    load_scan_record,
    save_scan_record,
)
from packer.files.declaration import DECLARATION_FILE
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import (
    AffectedAsset,
    AssetChangedDetail,
    AssetDiscoveredDetail,
    EventKind,
    Outcome,
)
from packer.lane.operation import Operation
from packer.lane.sinks import EventSink, NullSink
from packer.workspace import snapshot_memo
from packer.workspace.scan import (
    AssetRecord,
    AssetState,
    WorkspaceSnapshot,
    diagnostics_detail,
)

OPERATION = "rescan"
REMOVED = "removed"  # the one change of an `asset_changed` that tells a root is gone


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RootChange(_Frozen):
    kind: Literal["discovered", "changed", "removed"]
    root: str
    asset_id: int | None = None
    name: str | None = None
    state: str | None = None  # null once removed
    previous_state: str | None = None
    changes: tuple[str, ...] = ()


class RescanReport(_Frozen):
    """What `rescan` found; `baseline` when there was no usable previous record to compare."""

    project_id: str
    baseline: bool
    previous_scan_at: datetime | None = None
    assets: int
    discovered: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    changes: tuple[RootChange, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  # workspace-level, and PK210
    recorded: bool = True  # this scan was saved as the next one's baseline
    record_error: str | None = None


def rescan(
    project: Project, sink: EventSink | None = None, token: CancellationToken | None = None
) -> RescanReport:
    """Scan, publish what changed since the last rescan, record this one (see module doc)."""
    return rescan_snapshot(project, sink, token)[0]


def rescan_snapshot(
    project: Project, sink: EventSink | None = None, token: CancellationToken | None = None
) -> tuple[RescanReport, WorkspaceSnapshot]:
    """`rescan`, also returning the snapshot it scanned: a caller that shows the changed
    assets reads them from it (packer.doctor.queries.summaries_of) instead of scanning again."""
    op = Operation(sink or NullSink(), project_id=project.project_id, operation=OPERATION,
                   token=token)
    with op:
        started_at = time.time_ns()  # before the walk: a later change is newer than this
        op.progress(0, None, phase="walk", summary="Scanning assets/…")
        # the last rescan's snapshot while stat proves nothing changed (F5, focus)
        snapshot = snapshot_memo.scan(project, op.token, remember=True)
        recorded_at = _recorded.made_from(project, snapshot)
        if recorded_at is not None:
            # scan.json was recorded from this very snapshot, which still holds: comparing
            # them would find every root unchanged, and recording would write the same facts
            report = _report(snapshot.project_id, ScanRecord(recorded_at), len(snapshot.assets),
                             changes=[], diagnostics=list(snapshot.diagnostics),
                             record_error=None)
            _finish(op, report, snapshot.all_diagnostics())
            return report, snapshot
        # the record this process wrote, while it is still the one on disk, and the snapshot
        # it was made from: a root whose record is that snapshot's very object was not read
        # again since (the scan memo proved its files unchanged): its facts stand as recorded
        kept, made_from = _recorded.kept(project, snapshot.project_id)
        loaded = (LoadedRecord(kept, None) if kept is not None
                  else load_scan_record(project, snapshot.project_id))
        previous = loaded.record
        current, changes = _compare_all(op, project, snapshot, previous,
                                        made_from=made_from, started_at=started_at)
        op.check_cancelled()
        record_error = None
        try:
            save_scan_record(project, snapshot.project_id, current)
            _recorded.note(project, snapshot, current)
        except OSError as exc:  # e.g. read-only, or not initialised: the report still holds
            record_error = f"this scan could not be recorded: {exc.strerror or exc}"
        workspace_diags = list(snapshot.diagnostics)
        if loaded.problem is not None:
            workspace_diags.append(loaded.problem)
        report = _report(snapshot.project_id, previous, len(snapshot.assets), changes=changes,
                         diagnostics=workspace_diags, record_error=record_error)
        _finish(op, report, [*snapshot.all_diagnostics(),
                             *([loaded.problem] if loaded.problem else [])])
    return report, snapshot


def _compare_all(op: Operation, project: Project, snapshot: WorkspaceSnapshot,
                 previous: ScanRecord | None, *, made_from: WorkspaceSnapshot | None,
                 started_at: int) -> tuple[ScanRecord, list[RootChange]]:
    """This scan's record, and every root's change since `previous` (published as found).
    A root whose record is the very object of `made_from` (the snapshot `previous` was made
    from: the scan memo proved its files unchanged since) keeps its recorded facts."""
    racy_after = previous.scanned_at_ns - RACY_WINDOW_NS if previous else 0
    old_roots = previous.roots if previous else {}
    old_by_id = {f.asset_id: root for root, f in old_roots.items() if f.asset_id is not None}
    matched: set[str] = set()
    assets_dir = str(project.assets_dir)
    current = ScanRecord(started_at)
    changes: list[RootChange] = []
    total = len(snapshot.assets)
    for index, record in enumerate(snapshot.assets, start=1):
        op.check_cancelled()
        old_root = _match(record, old_roots, old_by_id, matched)
        old = old_roots.get(old_root) if old_root is not None else None
        if (old is not None and old_root == record.root and made_from is not None
                and made_from.by_root(record.root) is record):
            current.roots[record.root] = old
        else:
            facts = _root_facts(assets_dir, record, old, racy_after, op.token)
            current.roots[record.root] = facts
            change = None if previous is None else _compare(record, facts, old_root, old)
            if change is not None:
                changes.append(change)
                _publish(op, record, change)
        op.progress(index, total, phase="scan")
    for root, old in old_roots.items():
        if root not in matched:
            gone = RootChange(kind="removed", root=root, asset_id=old.asset_id, state=None,
                              previous_state=old.state, changes=(REMOVED,))
            changes.append(gone)
            op.emit(EventKind.ASSET_CHANGED, f"{_label(old.asset_id, root)} is gone",
                    detail=AssetChangedDetail(changes=(REMOVED,),
                                              previous_state=old.state, state=None),
                    affected=(AffectedAsset(asset_id=old.asset_id, root=root),))
    return current, changes


def _finish(op: Operation, report: RescanReport, found: list[Diagnostic]) -> None:
    errors, warnings, _infos = count_by_severity(found)
    op.finish(
        EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED,
        f"{_summary(report)}; {counts_text(errors, warnings)}"
        + (f" ({report.record_error})" if report.record_error else ""),
        detail=diagnostics_detail(found, assets_checked=report.assets),
        affected=[AffectedAsset(asset_id=c.asset_id, root=c.root, name=c.name)
                  for c in report.changes],
    )


class _Recorded:
    """The scan record this process last wrote, the snapshot it was made from, and the file's
    fingerprint then: while the file keeps it (every write is an atomic rename, a new inode),
    the record on disk is that one, and need not be read back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[str, WorkspaceSnapshot, tuple[int, ...], ScanRecord] | None = None

    def note(self, project: Project, snapshot: WorkspaceSnapshot, record: ScanRecord) -> None:
        fingerprint = _record_fingerprint(project)
        with self._lock:
            self._last = (None if fingerprint is None
                          else (str(project.root), snapshot, fingerprint, record))

    def kept(self, project: Project, project_id: str
             ) -> tuple[ScanRecord, WorkspaceSnapshot] | tuple[None, None]:
        """The record on disk and the snapshot it was made from, if it is the one this process
        wrote last (for `project_id`: load_scan_record ignores another project's)."""
        with self._lock:
            last = self._last
        if (last is None or last[0] != str(project.root) or last[1].project_id != project_id
                or _record_fingerprint(project) != last[2]):
            return None, None
        return last[3], last[1]

    def made_from(self, project: Project, snapshot: WorkspaceSnapshot) -> int | None:
        """The record's `scanned_at_ns` if scan.json is still the one recorded from
        `snapshot` (the same object), else None."""
        with self._lock:
            last = self._last
        if last is None or last[1] is not snapshot:
            return None
        record, made_from = self.kept(project, snapshot.project_id)
        return None if record is None or made_from is not snapshot else record.scanned_at_ns


def _record_fingerprint(project: Project) -> tuple[int, ...] | None:
    return snapshot_memo.path_fingerprint(project.packer_dir / SCAN_RECORD_FILE)


_recorded = _Recorded()


def _match(record: AssetRecord, old_roots: dict[str, RootFacts], old_by_id: dict[int, str],
           matched: set[str]) -> str | None:
    """The previous root of the same asset: by asset_id (ids survive moves), else by root."""
    candidates = []
    if record.asset_id is not None and record.asset_id in old_by_id:
        candidates.append(old_by_id[record.asset_id])
    candidates.append(record.root)
    for root in candidates:
        if root in old_roots and root not in matched:
            matched.add(root)
            return root
    return None


def _file_facts(path: str, old: FileFacts | None, racy_after: int,
                token: CancellationToken) -> FileFacts | None:
    """Stat first, then hash only when the stat cannot vouch for the recorded content."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    if old is not None and old[:4] == stat and max(stat[1], stat[2]) < racy_after:
        return (*stat, old[4])
    try:
        digest, _size = hash_file(path, token)
    except OSError:
        return None
    return (*stat, digest)


def _root_facts(assets_dir: str, record: AssetRecord, old: RootFacts | None, racy_after: int,
                token: CancellationToken) -> RootFacts:
    root_path = f"{assets_dir}/{record.root}"  # strings: pathlib costs more than the stat
    anchor = None
    if record.state is not AssetState.MISSING:
        anchor = _file_facts(f"{root_path}/{DECLARATION_FILE}", old.anchor if old else None,
                             racy_after, token)
    inputs: list[tuple[str, FileFacts]] = []
    decl = record.declaration
    # Only inputs that all checked out at the scan (inside the root, regular, readable) are
    # read; otherwise the scan's findings tell the change.
    if decl is not None and len(record.input_stats) == len(decl.all_inputs()):
        old_inputs = dict(old.inputs) if old else {}
        for _role, path in decl.all_inputs():
            facts = _file_facts(f"{root_path}/{path}", old_inputs.get(path), racy_after, token)
            if facts is not None:
                inputs.append((path, facts))
    files_digest = hash_bytes("\n".join(record.files).encode("utf-8"))
    return RootFacts(record.asset_id, record.state.value, record.included_in_build, anchor,
                     tuple(inputs), len(record.files), files_digest,
                     tuple(d.code for d in record.diagnostics))


def _compare(record: AssetRecord, new: RootFacts, old_root: str | None,
             old: RootFacts | None) -> RootChange | None:
    if old is None:
        return _change("discovered", record, new.state)
    changes = []
    if old_root != record.root:
        changes.append(f"moved {old_root} → {record.root}")
    if old.state != new.state:
        changes.append(f"state {old.state} → {new.state}")
        if new.state == AssetState.MISSING.value:  # its files are gone: the state says it all
            return _change("changed", record, new.state, old.state, changes)
    if old.asset_id != new.asset_id:
        changes.append(f"asset_id {old.asset_id} → {new.asset_id}")
    if old.included != new.included:
        changes.append("included in build" if new.included else "excluded from build")
    if _content(old.anchor) != _content(new.anchor):
        changes.append("asset.json changed")
    changes.extend(_input_changes(dict(old.inputs), dict(new.inputs)))
    if old.file_count != new.file_count:
        changes.append(f"files {old.file_count} → {new.file_count}")
    elif old.files_digest != new.files_digest:
        changes.append("files renamed")
    if old.codes != new.codes:
        changes.append("findings changed")
    if not changes:
        return None
    return _change("changed", record, new.state, old.state, changes)


def _change(kind: Literal["discovered", "changed"], record: AssetRecord, state: str,
            previous_state: str | None = None, changes: list[str] | None = None) -> RootChange:
    return RootChange(kind=kind, root=record.root, asset_id=record.asset_id, name=record.name,
                      state=state, previous_state=previous_state, changes=tuple(changes or ()))


def _content(facts: FileFacts | None) -> str | None:
    return facts[4] if facts is not None else None


def _input_changes(old: dict[str, FileFacts], new: dict[str, FileFacts]) -> list[str]:
    found = [f"input {p} added" for p in new if p not in old]
    found += [f"input {p} changed" for p in new if p in old and new[p][4] != old[p][4]]
    found += [f"input {p} removed" for p in old if p not in new]
    if len(found) > 3:
        found = [*found[:3], f"and {len(found) - 3} more input changes"]
    return found


def _label(asset_id: int | None, root: str, name: str | None = None) -> str:
    ident = f"#{asset_id} " if asset_id is not None else ""
    return f"{ident}{name or root}"


def _publish(op: Operation, record: AssetRecord, change: RootChange) -> None:
    if change.kind == "discovered":
        op.emit(EventKind.ASSET_DISCOVERED,
                f"Found new {record.state.value} asset {record.label()} at {record.root}",
                detail=AssetDiscoveredDetail(state=record.state.value,
                                             asset_type=record.asset_type),
                affected=(record.affected(),))
    else:
        op.emit(EventKind.ASSET_CHANGED,
                f"{record.label()} changed: {'; '.join(change.changes)}",
                detail=AssetChangedDetail(changes=change.changes,
                                          previous_state=change.previous_state,
                                          state=change.state),
                affected=(record.affected(),))


def _report(project_id: str, previous: ScanRecord | None, total: int, *,
            changes: list[RootChange], diagnostics: list[Diagnostic],
            record_error: str | None) -> RescanReport:
    counts = {k: sum(1 for c in changes if c.kind == k)
              for k in ("discovered", "changed", "removed")}
    return RescanReport(
        project_id=project_id, baseline=previous is None,
        previous_scan_at=(datetime.fromtimestamp(previous.scanned_at_ns / 1e9, UTC)
                          if previous else None),
        assets=total, **counts,
        unchanged=total - counts["discovered"] - counts["changed"] if previous else 0,
        changes=tuple(changes), diagnostics=tuple(diagnostics),
        recorded=record_error is None, record_error=record_error,
    )


def _summary(report: RescanReport) -> str:
    if report.baseline:
        return (f"No previous scan to compare with: recorded {plural(report.assets, 'asset')} "
                "as the baseline")
    return (f"Rescan: {report.discovered} new, {report.changed} changed, "
            f"{report.removed} removed, {report.unchanged} unchanged")


def summary_text(report: RescanReport) -> str:
    """The one-line summary the terminal event carries (for the CLI's text output)."""
    return _summary(report)
