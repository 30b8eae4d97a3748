"""The build cache `assets/.prometeu/cache.json`: what was built last time, and from what.

Keyed by asset_id. An entry records every effective input of one asset (role, path, size and
mtime as hints, a content hash as the decision), every setting that changes its bytes, and the
payload it produced (hash, size, runtime metadata). The payload bytes themselves are not copied
anywhere: they are read back from the previous `build/assets.pa` and verified against the hash
(see docs/formats.md, "Build cache"). The cache never stores diagnostics and never changes what
is built: a lost or corrupt cache only costs time.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

import xxhash
from pydantic import BaseModel, ConfigDict, JsonValue, TypeAdapter, ValidationError

from packer.build.hashing import HASH_ALGORITHM, hash_bytes
from packer.files.atomic import atomic_write_chunks, canonical_json_bytes
from packer.files.safe_read import MAX_STATE_FILE_BYTES, read_regular
from packer.lane.trusted import trusted_maker

# 2: entries no longer hold a preview_hash (the build writes no previews); a version-1 file
# is foreign (PK206), never read as this one.
CACHE_SCHEMA_VERSION: Literal[2] = 2
# A file whose mtime is this close to (or after) the moment the previous build started reading
# may have changed without its mtime showing it (coarse timestamps): its hints are not trusted.
RACY_WINDOW_NS = 2_000_000_000


class MissReason(StrEnum):
    """Why an asset had to be encoded again (docs/formats.md, "Build cache", lists them)."""

    NEW_ASSET = "new_asset"
    INPUT_CONTENT_CHANGED = "input_content_changed"
    INPUT_ADDED_OR_REMOVED = "input_added_or_removed"
    SETTINGS_CHANGED = "settings_changed"
    PACKER_VERSION_CHANGED = "packer_version_changed"
    CACHE_MISSING_OR_CORRUPT = "cache_missing_or_corrupt"
    FORCED = "forced"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class CachedInput(_Frozen):
    role: str
    path: str
    size: int
    mtime_ns: int
    hash: str


class CachedPayload(_Frozen):
    hash: str
    size: int
    decoded_size: int


class CacheEntry(_Frozen):
    asset_uuid: str
    packer_version: str  # packer release + container schema: a change re-encodes everything
    format_version: int  # the pipeline's own version
    settings: str  # canonical JSON of every declaration setting that changes bytes
    inputs: tuple[CachedInput, ...]
    payload: CachedPayload
    metadata: dict[str, JsonValue]
    tool_metadata: dict[str, JsonValue] = {}


class ArtifactRecord(_Frozen):
    """The `build/assets.pa` the entries' payloads live in (header hash and file size)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # as BuildCache

    header_hash: str
    size: int


class BuildCache(_Frozen):
    # Its validator is built on first use (≈ 2 ms at start-up otherwise): a patch or no-op
    # build only constructs one; loading cache.json (the normal path) validates.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    schema_version: Literal[2] = CACHE_SCHEMA_VERSION
    hash_algorithm: Literal["xxh3_128"] = HASH_ALGORITHM
    started_at_ns: int  # when the build that wrote this cache began reading inputs
    artifact: ArtifactRecord | None = None
    assets: dict[str, CacheEntry] = {}

    def entry(self, asset_id: int) -> CacheEntry | None:
        return self.assets.get(str(asset_id))


@dataclass(frozen=True, slots=True)
class LoadedCache:
    cache: BuildCache | None
    problem: str | None  # why the cache cannot be used (PK206), or None
    digest: str | None = None  # content hash of the bytes read, when the cache is usable


def load_cache(path: Path) -> LoadedCache:
    try:
        raw = read_regular(path, follow_symlinks=False, limit=MAX_STATE_FILE_BYTES)
    except FileNotFoundError:
        return LoadedCache(None, f"{path.name} does not exist yet")
    except OSError as exc:
        return LoadedCache(None, f"{path.name} cannot be read: {exc.strerror or exc}")
    try:  # the usual case, parsed and validated in one pass in pydantic's own code
        return LoadedCache(BuildCache.model_validate_json(raw), None, hash_bytes(raw))
    except ValidationError:
        pass  # parse it again below only to say precisely what is wrong
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # ValueError: also digits past int's limit
        return LoadedCache(None, f"{path.name} is not valid JSON: {exc}")
    if isinstance(data, dict) and data.get("schema_version") != CACHE_SCHEMA_VERSION:
        return LoadedCache(
            None, f"{path.name} has schema_version {data.get('schema_version')!r}; "
            f"this packer writes {CACHE_SCHEMA_VERSION}",
        )
    try:
        return LoadedCache(BuildCache.model_validate(data), None, hash_bytes(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        return LoadedCache(None, f"{path.name} is invalid at {where}: {first['msg']}")


@functools.cache
def _entries_adapter() -> TypeAdapter[dict[int, CacheEntry]]:
    """Made on first use: it builds a validator and a serialiser (milliseconds at start-up,
    which a no-op or patch build that never serialises an entry would pay)."""
    return TypeAdapter(dict[int, CacheEntry])


def save_cache(
    path: Path, started_at_ns: int, artifact: ArtifactRecord | None,
    entries: Iterable[tuple[int, CacheEntry]],
) -> str:
    """Write the cache atomically, entry by entry; returns the content hash of the bytes written.

    The bytes are those of `BuildCache(started_at_ns, artifact, assets).model_dump_json()` for
    the same entries in the same order, but neither that model nor its whole JSON is ever made:
    at 10k assets they were ≈ 58 MB at the top of a full build's memory (docs/benchmarks.md).
    """
    hasher = xxhash.xxh3_128()

    def chunks() -> Iterator[bytes]:
        empty = BuildCache.model_construct(started_at_ns=started_at_ns, artifact=artifact,
                                           assets={}).model_dump_json().encode("utf-8")
        if not empty.endswith(_EMPTY_ASSETS):  # `assets` must stay the last field
            raise AssertionError(f"unexpected cache layout: {empty!r}")
        pending = [empty[:-len(_EMPTY_ASSETS)], b'"assets":{']
        pending_bytes = 0
        separator = b""
        listed = iter(entries)
        # _ENTRIES_PER_CALL entries per serializer call ('{"1":a,"2":b}' is "{" + '"1":a,"2":b'
        # + "}"): a call per entry was a third of this file's cost at 10k
        while batch := list(itertools.islice(listed, _ENTRIES_PER_CALL)):
            by_id = dict(batch)
            if len(by_id) == len(batch):
                piece = separator + _entries_adapter().dump_json(by_id)[1:-1]
            else:  # a repeated id (never in a build): written as often as it is given
                piece = separator + b",".join(
                    b'"%d":%s' % (asset_id, entry.model_dump_json().encode("utf-8"))
                    for asset_id, entry in batch)
            separator = b","
            pending.append(piece)
            pending_bytes += len(piece)
            if pending_bytes >= _WRITE_CHUNK:
                yield from _hashed(hasher, b"".join(pending))
                pending, pending_bytes = [], 0
        pending.append(b"}}")
        yield from _hashed(hasher, b"".join(pending))

    atomic_write_chunks(path, chunks())
    return str(hasher.hexdigest())


_EMPTY_ASSETS = b'"assets":{}}'
_ENTRIES_PER_CALL = 256
_WRITE_CHUNK = 1 << 18


def _hashed(hasher: xxhash.xxh3_128, chunk: bytes) -> Iterator[bytes]:
    hasher.update(chunk)
    yield chunk


def settings_key(
    asset_type: str, fmt: str, codec: str, metadata: dict[str, JsonValue],
    pipeline: dict[str, JsonValue],
) -> str:
    """Canonical JSON, compared as text: 16 and 16.0 differ here, as they do to a pipeline."""
    return canonical_json_bytes({
        "codec": codec, "format": fmt, "metadata": metadata, "pipeline": pipeline,
        "type": asset_type,
    }).decode("utf-8")


@dataclass(slots=True)
class InputFacts:
    """One declared input as this build sees it; `hash` is filled when known."""

    role: str
    path: str
    size: int
    mtime_ns: int
    ctime_ns: int  # not a recorded hint: it tells whether the file changed since a build began
    hash: str | None = None

    def cached(self) -> CachedInput:
        assert self.hash is not None
        return _make_cached_input(role=self.role, path=self.path, size=self.size,
                                  mtime_ns=self.mtime_ns, hash=self.hash)


# CachedInput.model_construct of every field, faster (one per input of a build: 25k at 10k);
# one fields set shared by all (never mutated: the models are frozen)
_make_cached_input = trusted_maker(CachedInput, set(CachedInput.model_fields))


@dataclass(frozen=True, slots=True)
class Decision:
    reason: MissReason | None  # None: a hit
    explanation: str

    @property
    def hit(self) -> bool:
        return self.reason is None


def decide(
    entry: CacheEntry | None,
    *,
    asset_uuid: str,
    packer_version: str,
    format_version: int,
    settings: str,
    inputs: list[InputFacts],
    previous_started_at_ns: int,
    hash_input: Callable[[InputFacts], str],
) -> Decision:
    """Compare one asset with its cache entry, cheapest checks first; hash only what must be.

    An input whose size and mtime equal the entry's (and whose mtime is not racy) keeps the
    recorded hash; any other input is hashed with `hash_input`, and the hash decides.
    """
    if entry is None or entry.asset_uuid != asset_uuid:
        return Decision(MissReason.NEW_ASSET, "no cache entry for this asset")
    if entry.packer_version != packer_version:
        return Decision(
            MissReason.PACKER_VERSION_CHANGED,
            f"built by packer {entry.packer_version}, this is {packer_version}",
        )
    if entry.format_version != format_version:
        return Decision(
            MissReason.PACKER_VERSION_CHANGED,
            f"format pipeline version {entry.format_version} → {format_version}",
        )
    if entry.settings != settings:
        return Decision(MissReason.SETTINGS_CHANGED, _settings_change(entry.settings, settings))
    old_list = [(i.role, i.path) for i in entry.inputs]
    new_list = [(i.role, i.path) for i in inputs]
    if old_list != new_list:
        return Decision(MissReason.INPUT_ADDED_OR_REMOVED, _inputs_change(old_list, new_list))
    changed = []
    racy_after = previous_started_at_ns - RACY_WINDOW_NS
    for facts, old in zip(inputs, entry.inputs, strict=True):
        # ctime too: a write whose mtime was put back (os.utime) still moves the ctime past
        # the previous build's start, so that file is hashed.
        trusted = (facts.size == old.size and facts.mtime_ns == old.mtime_ns
                   and max(facts.mtime_ns, facts.ctime_ns) < racy_after)
        if trusted:
            facts.hash = old.hash
            continue
        if facts.hash is None:
            facts.hash = hash_input(facts)
        if facts.hash != old.hash:
            changed.append(facts.path)
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3
                                          else "")
        return Decision(MissReason.INPUT_CONTENT_CHANGED, f"content changed: {shown}")
    return Decision(None, "inputs and settings unchanged")


def _settings_change(old: str, new: str) -> str:
    try:
        before, after = json.loads(old), json.loads(new)
    except json.JSONDecodeError:
        return "settings changed"
    keys = sorted(
        k for k in set(before) | set(after)
        if json.dumps(before.get(k), sort_keys=True) != json.dumps(after.get(k), sort_keys=True)
    )
    return f"changed: {', '.join(keys) or 'settings'}"


def _inputs_change(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> str:
    old_set, new_set = set(old), set(new)
    added = [f"{role}:{path}" for role, path in new if (role, path) not in old_set]
    removed = [f"{role}:{path}" for role, path in old if (role, path) not in new_set]
    if not added and not removed:
        return "inputs reordered"
    parts = []
    if added:
        parts.append("added " + ", ".join(added[:3]) + ("…" if len(added) > 3 else ""))
    if removed:
        parts.append("removed " + ", ".join(removed[:3]) + ("…" if len(removed) > 3 else ""))
    return "; ".join(parts)
