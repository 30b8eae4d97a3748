"""Reading the project's files: only regular files are ever opened, and JSON is read bounded.

A FIFO would block `open` forever, `/dev/zero` would be read until memory runs out, and a symlink
named `asset.json` could lead anywhere on the disk. So every file the packer reads is opened with
`O_NONBLOCK` (opening a FIFO then returns at once), with `O_NOFOLLOW` where a symlink is not
allowed, and checked with `fstat` before a byte is read. JSON is parsed from at most a bounded
number of bytes, and every way it can fail (syntax, encoding, nesting, numbers beyond Python's
4,300-digit conversion limit) becomes one `JsonReadError` whose message the caller prefixes with
the file's name.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from packer.lane.release import others_may_wait_for_the_gil

# Bounds that no real file comes near (a 30,000-asset registry is ≈ 6 MB), but that stop a
# runaway file from being read into memory.
MAX_DECLARATION_BYTES = 1 << 20
MAX_PROJECT_FILE_BYTES = 1 << 20
MAX_STATE_FILE_BYTES = 256 << 20

_CHUNK = 1 << 20  # a file that grew past its stat'ed size is read on in pieces of this size
_PROBE = 1 << 16  # after a short read: enough to see the end, small enough to allocate cheaply

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class NotRegularFileError(OSError):
    """The path is not a regular file (or is a symlink where none is allowed), or is too large.

    An OSError, so every caller that already reports an unreadable file reports this one too;
    `strerror` says what was found instead.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(errno.EINVAL, reason, str(path))


class JsonReadError(ValueError):
    """Bytes that are not one readable JSON document; the message names no file."""


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str | Path, *, follow_symlinks: bool = True) -> int:
    """An fd open for reading on a regular file. Never blocks, never follows a refused link."""
    return open_regular_stat(path, follow_symlinks=follow_symlinks)[0]


def open_regular_stat(
    path: str | Path, *, follow_symlinks: bool = True
) -> tuple[int, os.stat_result]:
    """`open_regular`, with the `fstat` that proved the file regular.

    The fd keeps O_NONBLOCK: it lets the open of a FIFO return instead of waiting for a writer,
    and it changes nothing for a regular file (reads of one never block), so clearing it would
    only cost a system call per file."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks and os.path.islink(path):
            raise NotRegularFileError(path, "is a symlink, which is not followed here") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(path, f"is {_kind(st.st_mode)}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_to_end(
    fd: int, size_hint: int, *, limit: int | None = None,
    between_chunks: Callable[[], None] | None = None,
) -> bytes:
    """The rest of an open file, asking for about the size it had when stat'ed (`size_hint`).

    `os.read(fd, n)` (and a buffered `read(n)`) allocates n bytes before reading: a 1 MB request
    for a 2 KB file costs more than the read. A short read that brought exactly the stat'ed
    size ends it (a regular file's read is short only at its end); any other short read is
    followed by a small one that should find the end; a file that grew is read on in 1 MB
    chunks. With `limit`, reading
    stops once more than `limit` bytes were read (the caller sees len > limit). `between_chunks`
    runs after each read (a cancellation check).
    """
    cap = None if limit is None else limit + 1
    want = size_hint + 1 if cap is None else min(size_hint + 1, cap)
    chunks = []
    total = 0
    while want > 0 and (chunk := os.read(fd, want)):
        chunks.append(chunk)
        total += len(chunk)
        if between_chunks is not None:
            between_chunks()
        if len(chunk) < want and total == size_hint:
            break  # at its end, and the size it was stat'ed at: no read to find the end
        want = _CHUNK if len(chunk) == want else _PROBE
        if cap is not None:
            want = min(want, cap - total)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_regular(
    path: str | Path, *, follow_symlinks: bool = True, limit: int | None = None
) -> bytes:
    """The bytes of a regular file; NotRegularFileError for anything else or above `limit`."""
    return read_regular_stat(path, follow_symlinks=follow_symlinks, limit=limit)[0]


def read_regular_stat(
    path: str | Path, *, follow_symlinks: bool = True, limit: int | None = None
) -> tuple[bytes, os.stat_result]:
    """read_regular, with the `fstat` of the file that was read."""
    fd, st = open_regular_stat(path, follow_symlinks=follow_symlinks)
    try:
        if limit is not None and st.st_size > limit:
            raise NotRegularFileError(
                path, f"is {st.st_size:,} bytes, more than the {limit:,} allowed")
        data = read_to_end(fd, st.st_size, limit=limit)
        if limit is not None and len(data) > limit:  # grew while being read
            raise NotRegularFileError(path, f"is more than the {limit:,} bytes allowed")
        return data, st
    finally:
        os.close(fd)


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
PIECES_FROM_BYTES = 256 * 1024  # smaller documents are parsed in one call


def loads_in_pieces(raw: bytes | str) -> Any:
    """`json.loads(raw)`, the same value or the same error, but a big document is parsed one
    element at a time at its top two levels: one C call for a 5 MB state file of small rows
    (the up-to-date manifest, the hash cache) holds the GIL for 40-450 ms, and the Studio's GUI
    waited that long at each build's start. In pieces it costs 1.3-2.5x as much in all."""
    if len(raw) < PIECES_FROM_BYTES:
        return json.loads(raw)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value, end = _parse(text, _SPACE.match(text, 0).end(), 2)  # type: ignore[union-attr]
        if _SPACE.match(text, end).end() != len(text):  # type: ignore[union-attr]
            raise ValueError("extra data")
        return value
    except (ValueError, IndexError, RecursionError):
        return json.loads(raw)  # json's own error, exactly (or its value, if this was wrong)


def loads_beside_threads(raw: bytes | str) -> Any:
    """`json.loads(raw)`, in pieces (`loads_in_pieces`) only when another thread may be waiting
    for the GIL (the Studio's GUI, a live progress bar): alone, as a CLI command runs, one call
    is 1.3-2.5x cheaper."""
    return loads_in_pieces(raw) if others_may_wait_for_the_gil() else json.loads(raw)


def _parse(text: str, at: int, depth: int) -> tuple[Any, int]:
    opening = text[at]
    if depth == 0 or opening not in "[{":
        return _DECODER.raw_decode(text, at)
    closing = "]" if opening == "[" else "}"
    items: list[Any] = []
    pairs: dict[str, Any] = {}
    at = _space(text, at + 1)
    if text[at] == closing:
        return (items if opening == "[" else pairs), at + 1
    while True:
        if opening == "{":
            if text[at] != '"':
                raise ValueError("a key")
            key, at = _DECODER.raw_decode(text, at)
            at = _space(text, at)
            if text[at] != ":":
                raise ValueError("a colon")
            value, at = _parse(text, _space(text, at + 1), depth - 1)
            pairs[key] = value  # a repeated key: the last one wins, as in json
        else:
            value, at = _parse(text, at, depth - 1)
            items.append(value)
        at = _space(text, at)
        if text[at] == closing:
            return (items if opening == "[" else pairs), at + 1
        if text[at] != ",":
            raise ValueError("a comma")
        at = _space(text, at + 1)


def _space(text: str, at: int) -> int:
    return _SPACE.match(text, at).end()  # type: ignore[union-attr]


def parse_json(raw: bytes) -> Any:
    """One JSON document from UTF-8 bytes; JsonReadError (a clear message) on any failure."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonReadError(
            f"is not valid UTF-8 JSON: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:  # one call: the registry's JSON takes 6-9 ms at 10k (its validation is the cost)
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonReadError(
            f"is not valid UTF-8 JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise JsonReadError("nests too deeply") from None
    except ValueError:
        # int() refuses literals of more than sys.get_int_max_str_digits() digits (4,300).
        raise JsonReadError("holds a number with too many digits") from None


def open_file(path: str | Path, *, follow_symlinks: bool = True, buffering: int = -1) -> BinaryIO:
    """`open(path, "rb")` for a regular file only (see open_regular)."""
    return os.fdopen(open_regular(path, follow_symlinks=follow_symlinks), "rb", buffering=buffering)
