"""Content hashes for the cache: xxh3_128 (measured fastest here; see docs/benchmarks.md).

xxh3 is not cryptographic, and the cache does not need it to be: it guards against accidental
change, not against an adversary who controls both the cache and the inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Literal

import xxhash

from packer.files.safe_read import open_file
from packer.lane.cancellation import CancellationToken

HASH_ALGORITHM: Literal["xxh3_128"] = "xxh3_128"
CHUNK_SIZE = 1 << 20


def hash_bytes(data: bytes | memoryview) -> str:
    return str(xxhash.xxh3_128_hexdigest(data))


def hash_parts(*parts: bytes | memoryview) -> str:
    """`hash_bytes` of the parts joined, without joining them (xxh3 streamed is the same)."""
    hasher = xxhash.xxh3_128()
    for part in parts:
        hasher.update(part)
    return str(hasher.hexdigest())


def hash_file(path: Path | str, token: CancellationToken) -> tuple[str, int]:
    """(hex digest, size) of a file, read in 1 MiB chunks with a cancellation check per chunk."""
    hasher = xxhash.xxh3_128()
    size = 0
    with open_file(path, buffering=0) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            hasher.update(chunk)
            size += len(chunk)
            if size > CHUNK_SIZE:
                token.raise_if_cancelled()
    return str(hasher.hexdigest()), size


def hash_file_range(
    handle: BinaryIO, offset: int, size: int, token: CancellationToken
) -> str:
    """Hash `size` bytes of an open file from `offset` (a short file raises EOFError)."""
    hasher = xxhash.xxh3_128()
    done = 0
    handle.seek(offset)
    while done < size:
        chunk = handle.read(min(CHUNK_SIZE, size - done))
        if not chunk:
            raise EOFError(f"file ends {size - done} bytes before the expected end")
        hasher.update(chunk)
        done += len(chunk)
        if done < size:
            token.raise_if_cancelled()
    return str(hasher.hexdigest())
