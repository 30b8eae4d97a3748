"""Atomic file writes: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from packer.lane.release import others_may_wait_for_the_gil

_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)  # what json.dumps(value, **these) would make on each call
# A container holding more items than this (or holding one that does) is encoded item by item.
PIECE_ITEMS = 64


def canonical_json_bytes(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace: equal values give equal bytes.

    The bytes are exactly `json.dumps`'s. Beside other threads (the Studio's GUI), a big
    document (a 10k build's tool metadata or header, the hash cache) is encoded in many small
    calls instead of one: a single C call holds the GIL throughout (126-250 ms for 10k rows on
    a loaded machine), which froze the Studio's GUI thread for that long at the end of every
    build when builds ran in its process. Alone (a CLI command, a build's child process), one
    call is the cheaper way."""
    if not others_may_wait_for_the_gil():
        return _CANONICAL.encode(value).encode("utf-8")
    parts: list[str] = []
    _encode(value, parts, _CANONICAL, sort_keys=True)
    return "".join(parts).encode("utf-8")


def _big(value: Any) -> bool:
    return isinstance(value, (dict, list, tuple)) and len(value) > PIECE_ITEMS


def _encode(value: Any, parts: list[str], encoder: json.JSONEncoder, *, sort_keys: bool
            ) -> None:
    items: Iterable[Any]
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        items = ()
    if not _big(value) and not any(_big(item) for item in items):
        parts.append(encoder.encode(value))
        return
    if isinstance(value, dict):
        parts.append("{")
        # in json's order (sorted: the (key, value) pairs, keys being unique), each key written
        # as json writes it (an int key becomes "1")
        pairs = sorted(value.items()) if sort_keys else value.items()
        for index, (key, item) in enumerate(pairs):
            parts.append(("," if index else "") + encoder.encode({key: None})[1:-5])
            _encode(item, parts, encoder, sort_keys=sort_keys)
        parts.append("}")
    else:
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _encode(item, parts, encoder, sort_keys=sort_keys)
        parts.append("]")


def pretty_json_bytes(value: Any) -> bytes:
    """Stable, human-diffable JSON for files users may read (sorted keys, two-space indent)."""
    text = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; some platforms cannot open a directory, which is fine.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _new_temp_file(path: Path) -> tuple[int, Path]:
    """`.<name>.<random>.tmp` beside `path`, created 0o666 so the umask decides its mode (as for
    any new file; mkstemp would make it 0o600 and other users would lose read access).
    os.open already makes the descriptor non-inheritable (PEP 446): no O_CLOEXEC needed."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def _keep_mode(fd: int, path: Path) -> None:
    """A file that is replaced keeps its permission bits (a new one keeps the umask's)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode):
        os.fchmod(fd, stat.S_IMODE(st.st_mode))


def atomic_write_bytes(path: Path, data: bytes, *, create_parent: bool = True) -> None:
    """Write to a temp file in the same folder, fsync it, then rename it over `path`.

    `create_parent=False` (the caches that reads keep) fails with FileNotFoundError instead of
    making the folder: a project deleted while a read ran must not come back as a ghost."""
    atomic_write_chunks(path, (data,), create_parent=create_parent)


def atomic_write_chunks(
    path: Path, chunks: Iterable[bytes], *, create_parent: bool = True
) -> None:
    """`atomic_write_bytes` of the concatenated `chunks`, written as they come (a big file is
    never held whole in memory). An exception from `chunks` leaves `path` as it was."""
    if create_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _new_temp_file(path)
    try:
        _keep_mode(fd, path)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_bytes(path, pretty_json_bytes(value))
