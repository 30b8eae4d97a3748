"""Content hashes of the duplicate check, kept in `assets/.prometeu/hashes.json`.

The duplicate check (PK202) hashes every file that shares its size with another: with many small
inputs that is most of the workspace, opened and read on every `list` and `doctor --workspace`.
A hash is reused when the file's (size, mtime_ns, ctime_ns, inode) are what they were and both
times were older than the racy window when it was hashed (the build cache's rule). Only a cache:
an unusable file is silently replaced (it holds no findings, so there is nothing to report), and
one that cannot be written costs time, never correctness. docs/formats.md, "Content hashes".
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from packer.build.cache import RACY_WINDOW_NS
from packer.files.atomic import atomic_write_bytes, canonical_json_bytes
from packer.files.safe_read import loads_beside_threads

HASHES_FILE = "hashes.json"
HASHES_SCHEMA_VERSION = 1

Fingerprint = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


@dataclass(slots=True)
class HashCache:
    path: Path
    # path (relative to assets/) -> (fingerprint, hashed_at_ns, xxh3_128 hex)
    known: dict[str, tuple[Fingerprint, int, str]] = field(default_factory=dict)
    seen: dict[str, tuple[Fingerprint, int, str]] = field(default_factory=dict)
    changed: bool = False

    def get(self, path: str, fingerprint: Fingerprint) -> str | None:
        digest = self.trusted(path, fingerprint)
        if digest is not None:
            self.seen[path] = self.known[path]
        return digest

    def trusted(self, path: str, fingerprint: Fingerprint) -> str | None:
        """The recorded hash if it still holds for a file of this fingerprint (`get` without
        keeping the entry for the next save)."""
        entry = self.known.get(path)
        if entry is None or entry[0] != fingerprint or not holds(fingerprint, entry[1]):
            return None
        return entry[2]

    def put(self, path: str, fingerprint: Fingerprint, hashed_at_ns: int, digest: str) -> None:
        self.seen[path] = (fingerprint, hashed_at_ns, digest)
        self.changed = True

    def save(self) -> None:
        """Keep what this run used (files no longer candidates drop out); never raises OSError."""
        if not self.changed and len(self.seen) == len(self.known):
            return
        data = {"schema_version": HASHES_SCHEMA_VERSION,
                "hashes": {p: [*fp, at, h] for p, (fp, at, h) in sorted(self.seen.items())}}
        if not self.path.parent.is_dir():
            return
        with contextlib.suppress(OSError):
            atomic_write_bytes(self.path, canonical_json_bytes(data), create_parent=False)


def holds(fingerprint: Fingerprint, hashed_at_ns: int) -> bool:
    """Whether a hash made at `hashed_at_ns` still says what a file of this fingerprint holds:
    not when the file was changed within the racy window before it was hashed (a change in the
    same clock tick would leave the fingerprint as it is)."""
    _size, mtime, ctime, _inode = fingerprint
    return max(mtime, ctime) < hashed_at_ns - RACY_WINDOW_NS


def now_ns() -> int:
    return time.time_ns()


def load_hash_cache(packer_dir: Path) -> HashCache:
    cache = HashCache(packer_dir / HASHES_FILE)
    try:
        data = loads_beside_threads(cache.path.read_bytes())
        if data.get("schema_version") != HASHES_SCHEMA_VERSION:
            return cache
        known = cache.known
        for path, row in data["hashes"].items():
            size, mtime, ctime, inode, at, digest = row
            # spelled out, not all(...) over a generator: a third of loading 35k rows
            if not (isinstance(size, int) and isinstance(mtime, int) and isinstance(ctime, int)
                    and isinstance(inode, int) and isinstance(at, int)
                    and isinstance(digest, str)):
                raise TypeError(path)
            known[path] = ((size, mtime, ctime, inode), at, digest)
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        cache.known.clear()  # unusable: start afresh, the next save replaces it
    return cache
