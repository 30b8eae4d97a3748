"""Writing `assets.pa` from a header and the payload bytes, and finding payloads in an old one.

Payload bytes come from three places: memory (just encoded), the spool file (encoded payloads
beyond the memory budget), or the previous `build/assets.pa` (cache hits, already verified
against their hash). File-to-file copies use `os.copy_file_range` where the OS has it, so the
bytes never pass through Python.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from packer.build.layout import (
    CONTAINER_SCHEMA_VERSION,
    MAGIC,
    PRELUDE_SIZE,
    pack_prelude,
    unpack_prelude,
)
from packer.build.plan import Header
from packer.files.safe_read import open_file
from packer.lane.cancellation import CancellationToken

COPY_CHUNK = 8 << 20
SPOOL_BUFFER = 1 << 20
SPOOL_ALIGNMENT = 16  # as the artifact's payloads: a run of spooled payloads is one copy


@dataclass(frozen=True, slots=True)
class PayloadRef:
    """One asset's payload: `size` bytes of `path` from `offset` (or, in tests, in memory)."""

    size: int
    data: bytes | None = None
    path: Path | None = None
    offset: int = 0


class PayloadStore:
    """Appends every encoded payload to a spool file as it is made, so none stays in memory.

    Each payload starts at a multiple of SPOOL_ALIGNMENT and the gaps are zeros, exactly as in
    the artifact: when the payloads are spooled in asset_id order (a full build), the spool is
    the artifact's payload section and `write_artifact` copies it in one range, in the kernel.
    """

    def __init__(self, spool_path: Path) -> None:
        self._spool_path = spool_path
        self._spool: BinaryIO | None = None
        self._spool_size = 0
        self._adopted: list[Path] = []  # other processes' spools (packer.build.parallel)

    def add(self, data: bytes) -> PayloadRef:
        if self._spool is None:
            self._spool = open(self._spool_path, "wb", buffering=SPOOL_BUFFER)  # noqa: SIM115
        gap = -self._spool_size % SPOOL_ALIGNMENT
        if gap:
            self._spool.write(bytes(gap))
        offset = self._spool_size + gap
        self._spool.write(data)
        self._spool_size = offset + len(data)
        return PayloadRef(size=len(data), path=self._spool_path, offset=offset)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def flush(self) -> None:
        """Every payload added so far in the file (another process may read it now)."""
        if self._spool is not None:
            self._spool.flush()

    @property
    def path(self) -> Path:
        return self._spool_path

    def adopt(self, spool_path: Path) -> Path:
        """A spool another process fills the same way; discarded with this one."""
        self._adopted.append(spool_path)
        return spool_path

    @property
    def spools(self) -> tuple[Path, ...]:
        return (self._spool_path, *self._adopted)

    def discard(self) -> None:
        self.close()
        for path in self.spools:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _write_all(handle: BinaryIO, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = handle.write(view)
        if written is None or written <= 0:
            raise OSError("short write")
        view = view[written:]


def _copy_range(
    source: BinaryIO, offset: int, size: int, target: BinaryIO, token: CancellationToken
) -> None:
    copied = 0
    copy_file_range = getattr(os, "copy_file_range", None)
    while copied < size:
        want = min(COPY_CHUNK, size - copied)
        moved = 0
        if copy_file_range is not None:
            try:
                moved = copy_file_range(source.fileno(), target.fileno(), want, offset + copied)
            except OSError:
                copy_file_range = None  # e.g. across file systems on old kernels: fall back
        if moved <= 0:
            source.seek(offset + copied)
            chunk = source.read(want)
            if not chunk:
                raise EOFError(f"{source.name} ends before the payload it should hold")
            _write_all(target, chunk)
            moved = len(chunk)
        copied += moved
        token.raise_if_cancelled()


def write_artifact(
    path: Path, header: Header, refs: dict[int, PayloadRef], token: CancellationToken,
    *, spools: Collection[Path] = (),
) -> None:
    """Write prelude, header, padding and every payload at its planned offset, then fsync.

    Consecutive payloads that lie in one of `spools` (PayloadStore files, whose gaps are zeros
    they wrote themselves) at the same distances from each other as in the plan are copied as
    one range. Payloads from anywhere else (the previous artifact) are copied one by one, never
    with the bytes between them, and the padding is written as zeros.
    """
    payload_offset = header.payload_offset
    sources: dict[Path, BinaryIO] = {}

    def source_of(ref_path: Path | None) -> BinaryIO:
        assert ref_path is not None
        source = sources.get(ref_path)
        if source is None:
            source = sources[ref_path] = open(ref_path, "rb", buffering=0)  # noqa: SIM115
        return source

    try:
        with open(path, "wb", buffering=0) as out:
            head = pack_prelude(len(header.header)) + header.header
            _write_all(out, head + bytes(payload_offset - len(head)))
            position = payload_offset
            run: list[int] = []  # [spool offset, artifact offset, length] of a pending copy
            run_spool: Path | None = None
            for entry in header.entries:
                ref = refs[entry.asset_id]
                if ref.size != entry.size:
                    raise ValueError(f"asset {entry.asset_id}: payload size changed while writing")
                start = payload_offset + entry.offset
                if run and ref.data is None and ref.path == run_spool and (
                    ref.offset - run[0] == start - run[1]
                ):
                    run[2] = start - run[1] + ref.size  # the gap in the spool is zeros too
                    continue
                if run:
                    _copy_range(source_of(run_spool), run[0], run[2], out, token)
                    position = run[1] + run[2]
                    run = []
                if start > position:
                    _write_all(out, bytes(start - position))
                position = start
                if ref.data is not None:
                    _write_all(out, ref.data)
                    position += ref.size
                elif ref.path is not None and ref.path in spools:
                    run, run_spool = [ref.offset, start, ref.size], ref.path
                elif ref.path is not None:
                    _copy_range(source_of(ref.path), ref.offset, ref.size, out, token)
                    position += ref.size
                token.raise_if_cancelled()
            if run:
                _copy_range(source_of(run_spool), run[0], run[2], out, token)
            if out.tell() != header.file_size:
                raise ValueError(f"wrote {out.tell()} bytes, planned {header.file_size}")
            os.fsync(out.fileno())
    finally:
        for source in sources.values():
            source.close()


@dataclass(frozen=True, slots=True)
class PreviousArtifact:
    """What the previous `build/assets.pa` holds, as far as reuse needs to know."""

    path: Path
    head: bytes  # prelude + header + padding (everything before the payload)
    header: bytes
    payload_offset: int
    file_size: int
    slots: dict[int, tuple[int, int]]  # asset_id -> (absolute offset, size)


def read_previous_artifact(path: Path) -> PreviousArtifact | None:
    """Parse just enough of an existing artifact to find payloads; None when it is unusable."""
    try:
        with open_file(path) as handle:
            file_size = os.fstat(handle.fileno()).st_size
            prelude = handle.read(PRELUDE_SIZE)
            if len(prelude) != PRELUDE_SIZE:
                return None
            magic, version, header_len, payload_offset, _flags, _reserved = unpack_prelude(prelude)
            if magic != MAGIC or version != CONTAINER_SCHEMA_VERSION:
                return None
            if not PRELUDE_SIZE + header_len <= payload_offset <= file_size:
                return None
            rest = handle.read(payload_offset - PRELUDE_SIZE)
    except OSError:
        return None
    header = rest[:header_len]
    try:
        table = json.loads(header)["asset_table"]
        slots = {
            int(row["asset_id"]): (payload_offset + int(row["offset"]), int(row["size"]))
            for row in table
        }
    except (ValueError, KeyError, TypeError):
        return None
    if any(start + size > file_size for start, size in slots.values()):
        return None
    return PreviousArtifact(path=path, head=prelude + rest, header=header,
                            payload_offset=payload_offset, file_size=file_size, slots=slots)
