"""A full build's encoding begun while its scan runs: a forked child encodes ahead.

Before a build that may fork (`processes` > 1) and will encode every asset (`--no-cache`, or
a first build) has scanned the workspace, its parent runs alone on one core: start-up, the
walk, every `asset.json` read and parsed, the selection (≈ 0.7 s at 10k). Meanwhile a child
forked before the scan reads the registry and encodes the build set's likely members in
asset_id order (the order the parent publishes in), each from its own read of its
`asset.json`, into a spool of its own, and appends one record per asset to a file. When the
parent has its works, it stops the child (SIGKILL: a record is written whole after its
payload, so what the file holds whole is sound), and takes each record whose asset the scan
saw exactly as the child did: same root, same `asset.json` fingerprint, same stat of every
input, none changed within RACY_WINDOW_NS of the child's start (an edit in the same
timestamp tick keeps a stat). Every other asset is encoded as before (packer.build.parallel),
so the outputs and the events are those of one process; what the child encoded for an asset
the build does not take (excluded, blocked, changed) is dropped with the staging folder.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packer.build.artifact import PayloadRef, PayloadStore
from packer.build.cache import RACY_WINDOW_NS, InputFacts
from packer.build.forking import fork_child
from packer.files.declaration import SharedBlocks
from packer.files.paths import InsideRoot
from packer.files.project import Project
from packer.formats import pipelines
from packer.lane.cancellation import CancellationToken
from packer.workspace.anchors import StatRow, read_anchor

if TYPE_CHECKING:
    from packer.build.check import AssetWork
    from packer.build.emit import BuiltAsset

# Registry entries a project needs before a child encodes ahead (a judgement: at 1k assets the
# scan the child races is ≈ 0.07 s, a few hundred encodings).
HEAD_START_MIN_ASSETS = 512
# Fewer bytes than any registry entry takes in index.json (its asset_uuid alone is 36): a
# smaller index.json cannot hold HEAD_START_MIN_ASSETS entries, so no child is forked for it.
_ENTRY_BYTES_AT_LEAST = 64
# Assets encoded between two writes of records (and flushes of the spool): a kill loses at
# most these (≈ 2 ms of work), and the child makes two system calls per batch, not per asset.
BATCH = 8
SPOOL_NAME = "payload.spool.ahead"
RECORDS_NAME = "encoded-ahead.records"
_LENGTH = struct.Struct("<I")


def worth_starting(project: Project) -> bool:
    """Whether the registry may hold enough entries for a head start (its size says), where a
    process can fork at all."""
    if not hasattr(os, "fork"):
        return False
    try:
        size = os.stat(project.registry_path).st_size
    except OSError:
        return False
    return size >= HEAD_START_MIN_ASSETS * _ENTRY_BYTES_AT_LEAST


@dataclass(frozen=True, slots=True)
class _Ahead:
    """One record of the child's: what identifies the asset as it read it, and the rest
    pickled apart (`body`), unpickled only when the parent takes it."""

    asset_id: int
    root: str
    anchor: StatRow | None
    input_stats: tuple[StatRow, ...]
    body: bytes


class HeadStart:
    """The child encoding ahead; `collect` stops it and hands its records over."""

    def __init__(self, pid: int, spool: Path, records: Path, started_ns: int) -> None:
        self.pid = pid
        self.spool = spool
        self.records = records
        self.started_ns = started_ns
        self._killed = False
        self._reaped = False

    def stop(self) -> None:
        """Kill and reap the child (it never has anything to finish)."""
        if not self._reaped:
            self._kill()
            os.waitpid(self.pid, 0)
            self._reaped = True

    def _kill(self) -> None:
        if not self._killed:
            # At its idle priority its exit would wait for a free core, and so would `stop`
            with contextlib.suppress(AttributeError, OSError):
                os.sched_setscheduler(self.pid, os.SCHED_OTHER, os.sched_param(0))
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._killed = True

    def collect(self) -> EncodedAhead:
        """Kill the child; what it encoded, by asset_id (nothing, if its records are
        unreadable). It is reaped later (`stop`): its exit takes ≈ 7 ms at 10k, off the
        build's path, and a record it was writing when killed is cut short, never taken."""
        self._kill()
        found: dict[int, _Ahead] = {}
        try:
            data = self.records.read_bytes()
        except OSError:
            data = b""
        with contextlib.suppress(FileNotFoundError):
            self.records.unlink()
        for record in _read_records(data):
            found[record.asset_id] = record
        return EncodedAhead(found, self.spool, self.started_ns - RACY_WINDOW_NS)


def _read_records(data: bytes) -> Iterator[_Ahead]:
    """The records written whole (the child may have been killed in the middle of one)."""
    at = 0
    while at + _LENGTH.size <= len(data):
        (length,) = _LENGTH.unpack_from(data, at)
        end = at + _LENGTH.size + length
        if end > len(data):
            return
        try:
            fields = pickle.loads(data[at + _LENGTH.size:end])
            yield _Ahead(*fields)
        except Exception:  # never written so by the child: take nothing more from it
            return
        at = end


class EncodedAhead:
    """The child's records, taken for the works whose assets the scan saw as the child did."""

    def __init__(self, records: dict[int, _Ahead], spool: Path, trusted_before_ns: int) -> None:
        self._records = records
        self.spool = spool
        self._trusted_before_ns = trusted_before_ns

    def __len__(self) -> int:
        return len(self._records)

    def usable(self, works: list[AssetWork]) -> dict[int, bytes]:
        """The positions in `works` of the misses encoded ahead, with their records' bodies."""
        taken: dict[int, bytes] = {}
        if not self._records:
            return taken
        for position, work in enumerate(works):
            record = self._records.get(work.asset_id)
            if record is not None and not work.decision.hit and self._same(work, record):
                taken[position] = record.body
        self._records = {}
        return taken

    def _same(self, work: AssetWork, record: _Ahead) -> bool:
        seen = work.record
        if record.root != seen.root or record.anchor is None or (
            record.anchor != seen.anchor_fingerprint
            or record.input_stats != seen.input_stats
            or len(record.input_stats) != len(work.inputs)
        ):
            return False
        before = self._trusted_before_ns
        return max(record.anchor[1], record.anchor[2]) < before and all(
            max(st[1], st[2]) < before for st in record.input_stats)

    def built(self, work: AssetWork, body: bytes) -> BuiltAsset:
        """The asset the child encoded, as `encode_miss` would have returned it."""
        from packer.build.emit import BuiltAsset

        offset, size, payload_hash, decoded_size, metadata, tool_metadata, inputs = (
            pickle.loads(body))
        for facts, (digest, read_size) in zip(work.inputs, inputs, strict=True):
            facts.hash, facts.size = digest, read_size
        return BuiltAsset(
            work=work, hit=False, ref=PayloadRef(size=size, path=self.spool, offset=offset),
            payload_hash=payload_hash, decoded_size=decoded_size, metadata=metadata,
            tool_metadata=tool_metadata,
        )


def start_head_start(project: Project, staging: Path) -> HeadStart | None:
    """Fork the child encoding ahead into `staging`; None when it cannot be forked (no memory
    or process to spare: the build goes on as it would have)."""
    spool, records = staging / SPOOL_NAME, staging / RECORDS_NAME
    started_ns = time.time_ns()
    try:
        pid, reader = fork_child(lambda _pipe: _encode_ahead(project, spool, records))
    except OSError:
        return None
    reader.close()  # the child reports through its records file: it never fills a pipe
    return HeadStart(pid, spool, records, started_ns)


def _encode_ahead(project: Project, spool: Path, records: Path) -> None:
    """The child: encode the registry's included assets in asset_id order until killed.

    Whatever goes wrong here (a registry the scan will report, a full disk) ends it quietly:
    the parent then encodes what it did not, and reports what it meets itself."""
    idle_priority()
    with contextlib.suppress(Exception):
        _encode_registered(project, spool, records)


def _encode_registered(project: Project, spool: Path, records: Path) -> None:
    registry = project.load_registry()
    entries = sorted((e for e in registry.assets if e.included_in_build and not e.quarantined),
                     key=lambda e: e.asset_id)
    del registry
    if len(entries) < HEAD_START_MIN_ASSETS:
        return
    encoder = _Encoder(project)
    store = PayloadStore(spool)
    fd = os.open(records, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    pending = bytearray()
    try:
        for count, entry in enumerate(entries, start=1):
            fields = encoder.encode(entry.asset_id, entry.root, store)
            if fields is not None:
                body = pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)
                pending += _LENGTH.pack(len(body)) + body
            if pending and count % BATCH == 0:
                store.flush()  # the payloads are in the file before their records
                _write_all(fd, pending)
                pending.clear()
        store.flush()
        _write_all(fd, pending)
    finally:
        os.close(fd)
        store.close()


def idle_priority() -> None:
    """Run only on a core nothing else wants (SCHED_IDLE; else the lowest nice).

    The child's work is a bonus: on a busy machine, where the scheduler shares one session's
    CPU among its processes (autogroups), it would otherwise slow the parent's scan, on the
    build's critical path, by as much as it encodes, and it pays ≈ 25% more per asset than
    the parent (it reads each asset.json again)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(AttributeError, OSError):
            os.nice(19)


class _Encoder:
    def __init__(self, project: Project) -> None:
        self.assets_dir = project.assets_dir
        self.real_assets = os.path.realpath(self.assets_dir)
        self.table = pipelines()
        self.shared = SharedBlocks()
        self.token = CancellationToken()  # never cancelled: the child is killed

    def encode(self, asset_id: int, root: str, store: PayloadStore) -> tuple[Any, ...] | None:
        """One asset's record fields, or None where the scan would find it cannot be encoded
        (the parent encodes or reports it)."""
        from packer.build.emit import encode_payload

        if InsideRoot.below(self.real_assets, root).real_base != f"{self.real_assets}/{root}":
            return None  # a link or an odd path on the way: no root the walk would list
        anchor = read_anchor(self.assets_dir, self.real_assets, root, asset_id,
                             shared=self.shared)
        decl = anchor.decl
        if decl is None or any(d.blocking for d in anchor.diagnostics):
            return None
        paths = decl.all_inputs()
        pipeline = self.table.get(decl.output.format)
        if pipeline is None or len(anchor.input_stats) != len(paths):
            return None
        inputs = [InputFacts(role=role, path=path, size=st[0], mtime_ns=st[1], ctime_ns=st[2])
                  for (role, path), st in zip(paths, anchor.input_stats, strict=True)]
        base = f"{self.assets_dir}/{root}" if root else str(self.assets_dir)
        try:
            miss = encode_payload(decl, pipeline, inputs, store, self.token, root=root,
                                  base=base, asset_id=asset_id, real_assets=self.real_assets)
        except Exception:  # a format error or a failed read: the parent meets it in order
            return None
        body = pickle.dumps(
            (miss.ref.offset, miss.ref.size, miss.payload_hash, miss.decoded_size,
             miss.metadata, miss.tool_metadata, [(f.hash, f.size) for f in inputs]),
            protocol=pickle.HIGHEST_PROTOCOL)
        return (asset_id, root, anchor.fingerprint, anchor.input_stats, body)


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
