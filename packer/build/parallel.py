"""Encoding a build's misses on every core: forked children take turns with the parent.

Why fork: the works (declarations, pipelines, input facts) are already in memory, and a forked
child sees them for free where a spawned one would read and validate every `asset.json` again.

The misses are dealt out in turns of TURN (`_turns`). The parent encodes its own turns as
before; each child encodes its turns in asset order, appends the payloads to its own spool
(aligned as a PayloadStore's, so `write_artifact` copies a run of them in one range) and sends
one small record per asset down a pipe. The parent alone publishes: it takes a child's record
when its loop reaches that asset, so the events, the outputs and the first FormatError are
exactly those of the sequential loop.

A child never outlives the build: the parent kills and reaps every child on its way out
(finished, blocked, failed or cancelled), and a child whose parent died meets a closed pipe."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from packer.build.artifact import PayloadRef, PayloadStore
from packer.build.forking import fork_child
from packer.diagnostics import Diagnostic
from packer.formats import FormatError
from packer.lane.cancellation import CancellationToken

if TYPE_CHECKING:
    from packer.build.check import AssetWork
    from packer.build.emit import BuiltAsset

MIN_SHARE = 128  # misses per process below which no child is forked (a judgement, not a
# measurement: a fork and its pipe cost little next to encoding 128 assets)
TURN = 64  # misses a process encodes before the next one's turn
PIPE_BYTES = 1 << 20  # a child's records waiting for the parent (Linux's default maximum)
_LENGTH = struct.Struct("<I")


class EncodingProcessFailed(RuntimeError):
    """A child ended without sending what it owed (killed, out of memory, …)."""


class _Encoded(NamedTuple):
    """An encoded asset as a child sends it: pickled as a plain tuple (`tuple(record)`), which
    pickle makes and reads in C, 1.4 µs against 4.8 µs for a slotted dataclass, for each of
    half the misses on the parent's path."""

    position: int
    offset: int
    size: int
    payload_hash: str
    decoded_size: int
    metadata: Any
    tool_metadata: Any
    inputs: list[tuple[str | None, int]]  # each input's (hash, size), as encoding found them


@dataclass(frozen=True, slots=True)
class _Refused:
    position: int
    diagnostics: list[Diagnostic] | None  # a FormatError's (exceptions do not pickle whole)
    failure: str  # otherwise: what went wrong

    def error(self) -> Exception:
        if self.diagnostics is not None:
            return FormatError(self.diagnostics)
        return RuntimeError(self.failure)


class _Child:
    def __init__(self, pid: int, reader: IO[bytes], spool: Path, positions: Sequence[int]):
        self.pid = pid
        self.reader = reader
        self.spool = spool
        self.positions = positions
        self.done = False

    def next_record(self) -> _Encoded | _Refused:
        head = self.reader.read(_LENGTH.size)
        if len(head) != _LENGTH.size:
            raise EncodingProcessFailed(self.ended_early())
        (length,) = _LENGTH.unpack(head)
        body = self.reader.read(length)
        if len(body) != length:
            raise EncodingProcessFailed(self.ended_early())
        record = pickle.loads(body)
        if type(record) is tuple:
            return _Encoded._make(record)
        assert isinstance(record, _Refused)
        return record

    def ended_early(self) -> str:
        _pid, status = os.waitpid(self.pid, 0)
        self.done = True
        return (f"an encoding process ended early ({_describe_status(status)}); "
                "build again, or with --jobs 1")

    def stop(self) -> None:
        if not self.done:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.done = True
        self.reader.close()


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


class EncodingWorkers:
    """The children encoding their turns of the misses; `take` hands their results over."""

    def __init__(self, children: list[_Child]):
        self._children = children
        self._owner = {p: child for child in children for p in child.positions}

    def owns(self, position: int) -> bool:
        return position in self._owner

    def take(self, work: AssetWork, position: int) -> BuiltAsset:
        """The asset a child encoded at `position` (raising its FormatError, if it found one)."""
        from packer.build.emit import BuiltAsset

        child = self._owner[position]
        record = child.next_record()
        if record.position != position:
            raise EncodingProcessFailed(f"an encoding process sent asset {record.position} "
                                        f"where {position} was due")
        if isinstance(record, _Refused):
            raise record.error()
        for facts, (digest, size) in zip(work.inputs, record.inputs, strict=True):
            facts.hash, facts.size = digest, size
        return BuiltAsset(
            work=work, hit=False,
            ref=PayloadRef(size=record.size, path=child.spool, offset=record.offset),
            payload_hash=record.payload_hash, decoded_size=record.decoded_size,
            metadata=record.metadata, tool_metadata=record.tool_metadata,
        )

    def stop(self) -> None:
        """Kill and reap every child (a finished one has exited already)."""
        for child in self._children:
            child.stop()


def start_workers(
    works: Sequence[AssetWork], store: PayloadStore, processes: int, real_assets: str | None,
    token: CancellationToken, *, encoded: Collection[int] = (),
) -> EncodingWorkers | None:
    """Fork children for their turns of the misses (less the positions `encoded` already,
    packer.build.headstart); None when it is not worth it, or when a child cannot be forked
    (no memory or process to spare): then this process encodes alone."""
    misses = [i for i, w in enumerate(works) if not w.decision.hit and i not in encoded]
    processes = min(processes, len(misses) // MIN_SHARE)
    if processes < 2 or not hasattr(os, "fork"):
        return None
    turns = _turns(misses, processes)
    children: list[_Child] = []
    try:
        for number, positions in enumerate(turns[1:], start=1):
            spool = store.adopt(store.path.with_name(f"{store.path.name}.{number}"))
            children.append(_fork(_Share(works, positions, spool, real_assets, token)))
    except OSError:  # EAGAIN, ENOMEM: the turns were dealt for every process; deal none
        for child in children:
            child.stop()
        return None
    except BaseException:
        for child in children:
            child.stop()
        raise
    return EncodingWorkers(children)


def _turns(misses: list[int], count: int) -> list[list[int]]:
    """`misses` dealt out in runs of TURN: process k encodes runs k, k + count, k + 2·count, …

    Taking turns keeps every process busy and the parent's publishing steady: when the parent
    reaches a child's run, the child has had the parent's run's time to encode it, and a run's
    records fit in the pipe while the child goes on with its next one."""
    turns: list[list[int]] = [[] for _ in range(count)]
    for start in range(0, len(misses), TURN):
        turns[start // TURN % count].extend(misses[start:start + TURN])
    return turns


@dataclass(frozen=True, slots=True)
class _Share:
    """One child's share: which works it encodes, and into which spool."""

    works: Sequence[AssetWork]
    positions: list[int]
    spool: Path
    real_assets: str | None
    token: CancellationToken


def _fork(share: _Share) -> _Child:
    pid, reader = fork_child(lambda pipe: _send_share(share, pipe), pipe_bytes=PIPE_BYTES)
    return _Child(pid, reader, share.spool, share.positions)


def _send_share(share: _Share, pipe: IO[bytes]) -> None:
    store = PayloadStore(share.spool)
    try:
        for record in _records(share, store):
            sent = tuple(record) if isinstance(record, _Encoded) else record
            body = pickle.dumps(sent, protocol=pickle.HIGHEST_PROTOCOL)
            pipe.write(_LENGTH.pack(len(body)) + body)
    finally:
        store.close()


def _records(share: _Share, store: PayloadStore) -> Iterator[_Encoded | _Refused]:
    from packer.build.emit import encode_miss

    for position in share.positions:
        work = share.works[position]
        try:
            asset = encode_miss(work, store, share.token, share.real_assets)
        except FormatError as exc:
            store.close()  # every payload sent before it is in the spool
            yield _Refused(position, exc.diagnostics, str(exc))
            return
        except Exception as exc:  # raised again by the parent, in order
            store.close()
            yield _Refused(position, None, f"{type(exc).__name__}: {exc}")
            return
        if position == share.positions[-1]:
            store.close()  # flushed before the last record: the parent copies right after
        yield _Encoded(position, asset.ref.offset, asset.ref.size, asset.payload_hash,
                       asset.decoded_size, asset.metadata, asset.tool_metadata,
                       [(f.hash, f.size) for f in work.inputs])
