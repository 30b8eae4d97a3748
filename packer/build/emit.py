"""The emission pass: for each asset, reuse the cached payload (verified) or encode it anew.

Encoding is also the format check of a miss: the first FormatError blocks the build (raised with
the findings of every remaining miss), before anything is staged for promotion.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pydantic import JsonValue

from packer.build.artifact import PayloadRef, PayloadStore
from packer.build.cache import CachedPayload, CacheEntry, Decision, InputFacts, MissReason
from packer.build.check import PACKER_VERSION, AssetWork, CacheView, validate_misses
from packer.build.faults import Faults
from packer.build.hashing import hash_bytes, hash_file, hash_file_range
from packer.build.plan import PlannedEntry
from packer.files.declaration import AssetDeclaration
from packer.files.paths import InsideRoot
from packer.files.safe_read import open_file
from packer.formats import FormatError, FormatPipeline
from packer.lane.cancellation import CancellationToken
from packer.lane.events import CacheHitDetail, CacheMissDetail, EventKind
from packer.lane.operation import Operation
from packer.lane.trusted import trusted_maker

if TYPE_CHECKING:
    from packer.build.headstart import EncodedAhead


@dataclass(slots=True)
class BuiltAsset:
    work: AssetWork
    hit: bool
    ref: PayloadRef
    payload_hash: str
    decoded_size: int
    metadata: dict[str, JsonValue]
    tool_metadata: dict[str, JsonValue]

    def planned(self) -> PlannedEntry:
        decl = self.work.decl
        return PlannedEntry(
            asset_id=self.work.asset_id, asset_name=decl.name, bank_type=decl.bank_type,
            codec=decl.output.codec, size=self.ref.size, decoded_size=self.decoded_size,
            metadata=self.metadata, preload=decl.preload.enabled,
        )

    def cache_entry(self) -> CacheEntry:
        """This asset's cache entry: the old one itself for a hit whose input hints held.

        Built without re-validation (`model_construct`): every value comes from this build's
        own typed results or from the validated old entry, and a no-op build then compares
        2,000 entries by identity instead of validating each one's metadata again.
        """
        work = self.work
        old = work.entry
        if self.hit and old is not None and all(
            (i.size, i.mtime_ns, i.hash) == (o.size, o.mtime_ns, o.hash)
            for i, o in zip(work.inputs, old.inputs, strict=True)
        ):
            return old
        return _make_entry(
            asset_uuid=work.decl.asset_uuid, packer_version=PACKER_VERSION,
            format_version=work.pipeline.format_version, settings=work.settings,
            inputs=tuple(i.cached() for i in work.inputs),
            payload=_make_payload(hash=self.payload_hash, size=self.ref.size,
                                  decoded_size=self.decoded_size),
            metadata=self.metadata, tool_metadata=self.tool_metadata,
        )


# model_construct of every field, faster (two per encoded asset); one fields set shared by all
# (never mutated: the models are frozen)
_make_entry = trusted_maker(CacheEntry, set(CacheEntry.model_fields))
_make_payload = trusted_maker(CachedPayload, set(CachedPayload.model_fields))


def emit_assets(
    op: Operation,
    works: list[AssetWork],
    view: CacheView,
    store: PayloadStore,
    *,
    token: CancellationToken,
    faults: Faults,
    assets_dir: Path | None = None,
    processes: int = 1,
    ahead: EncodedAhead | None = None,
) -> list[BuiltAsset]:
    """Produce every payload in asset_id order, publishing cache_hit/cache_miss and progress.

    With `assets_dir` (the works' roots are below it), it is resolved once and each miss's root
    from there, instead of a realpath from `/` per asset in its pipeline. With `processes` > 1,
    forked children take turns encoding the misses (packer.build.parallel); `ahead`: the misses
    a child encoded while the scan ran (packer.build.headstart), taken where the scan saw their
    assets as it did. What is published and returned is the same.
    """
    real_assets = os.path.realpath(assets_dir) if assets_dir is not None else None
    built: list[BuiltAsset] = []
    total = len(works)
    total_bytes = sum(w.input_bytes for w in works)
    done_bytes = 0
    with contextlib.ExitStack() as stack:
        previous: BinaryIO | None = None
        if view.previous is not None and any(w.decision.hit for w in works):
            previous = stack.enter_context(open_file(view.previous.path))
        workers = None
        early = ahead.usable(works) if ahead is not None else {}
        if processes > 1:  # imported only then: a no-op or patch build never forks
            from packer.build.parallel import start_workers

            workers = start_workers(works, store, processes, real_assets, token, encoded=early)
        if workers is not None:
            stack.callback(workers.stop)
        for index, work in enumerate(works, start=1):
            token.raise_if_cancelled()
            faults.reached("encode")
            asset = _reuse(work, view, previous, token) if work.decision.hit else None
            if asset is None:
                try:
                    if early and index - 1 in early:
                        assert ahead is not None
                        asset = ahead.built(work, early.pop(index - 1))
                    elif workers is not None and workers.owns(index - 1):
                        asset = workers.take(work, index - 1)
                    else:
                        asset = encode_miss(work, store, token, real_assets)
                except FormatError as exc:
                    # Blocked: nothing more is encoded or published, but every other miss's
                    # format problems are still reported, as a validating check would have.
                    raise FormatError(exc.diagnostics + validate_misses(works[index:])) from exc
            _publish(op, asset)
            built.append(asset)
            done_bytes += work.input_bytes
            if op.wants_events:
                op.progress(
                    index, total, phase="build",
                    summary=f"Building: {index}/{total} assets, "
                    f"{_megabytes(done_bytes)}/{_megabytes(total_bytes)} MB",
                    bytes_done=done_bytes, bytes_total=total_bytes,
                )
    return built


def produce(
    work: AssetWork, view: CacheView, previous: BinaryIO | None, store: PayloadStore,
    token: CancellationToken,
) -> BuiltAsset:
    """One asset's payload as `emit_assets` makes it (reused when intact, else encoded),
    without publishing anything. Raises FormatError when a miss's inputs break its format."""
    asset = _reuse(work, view, previous, token) if work.decision.hit else None
    return asset if asset is not None else encode_miss(work, store, token)


def publish(op: Operation, asset: BuiltAsset) -> None:
    """The cache_hit or cache_miss event `emit_assets` publishes for this asset."""
    _publish(op, asset)


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f}"


def _reuse(
    work: AssetWork, view: CacheView, previous: BinaryIO | None, token: CancellationToken
) -> BuiltAsset | None:
    """The cached payload, read back from the previous artifact and checked against its hash."""
    entry = work.entry
    assert entry is not None and view.previous is not None and previous is not None
    start, size = view.previous.slots[work.asset_id]
    try:
        intact = hash_file_range(previous, start, size, token) == entry.payload.hash
    except (OSError, EOFError):
        intact = False
    if not intact:
        work.decision = Decision(MissReason.CACHE_MISSING_OR_CORRUPT,
                                 "the cached payload in build/assets.pa no longer matches its hash")
        return None
    return BuiltAsset(
        work=work, hit=True, ref=PayloadRef(size=size, path=view.previous.path, offset=start),
        payload_hash=entry.payload.hash, decoded_size=entry.payload.decoded_size,
        metadata=entry.metadata, tool_metadata=entry.tool_metadata,
    )


def encode_miss(
    work: AssetWork, store: PayloadStore, token: CancellationToken,
    real_assets: str | None = None,
) -> BuiltAsset:
    miss = encode_payload(work.decl, work.pipeline, work.inputs, store, token,
                          root=work.record.root, base=work.base, asset_id=work.asset_id,
                          real_assets=real_assets)
    return BuiltAsset(
        work=work, hit=False, ref=miss.ref, payload_hash=miss.payload_hash,
        decoded_size=miss.decoded_size, metadata=miss.metadata,
        tool_metadata=miss.tool_metadata,
    )


@dataclass(frozen=True, slots=True)
class EncodedMiss:
    """What encoding one asset made: its payload (in a store) and its metadata."""

    ref: PayloadRef
    payload_hash: str
    decoded_size: int
    metadata: dict[str, JsonValue]
    tool_metadata: dict[str, JsonValue]


def encode_payload(
    decl: AssetDeclaration, pipeline: FormatPipeline, inputs: list[InputFacts],
    store: PayloadStore, token: CancellationToken, *, root: str, base: str,
    asset_id: int | None, real_assets: str | None = None,
) -> EncodedMiss:
    """Encode one asset's inputs into `store`, filling in each input's hash (and size, as
    read); what `encode_miss` does for a work, from its parts (packer.build.headstart has no
    work yet)."""
    inside = None if real_assets is None else InsideRoot.below(real_assets, root)
    encoded = pipeline.encode(decl, Path(base), token, root=root, asset_id=asset_id,
                              inside=inside)
    for facts in inputs:  # hashed as they were read for encoding, when they were
        if facts.hash is None:
            if facts.path in encoded.input_digests:
                facts.hash, facts.size = encoded.input_digests[facts.path]
            else:
                facts.hash, facts.size = hash_file(f"{base}/{facts.path}", token)
    return EncodedMiss(ref=store.add(encoded.payload), payload_hash=hash_bytes(encoded.payload),
                       decoded_size=encoded.decoded_size, metadata=encoded.metadata,
                       tool_metadata=encoded.tool_metadata)


def _publish(op: Operation, asset: BuiltAsset) -> None:
    if not op.wants_events:  # nothing is built, but the sequence still counts the event
        op.emit(EventKind.CACHE_HIT if asset.hit else EventKind.CACHE_MISS, "")
        return
    record = asset.work.record
    affected = (record.affected(),)
    if asset.hit:
        op.emit(EventKind.CACHE_HIT, f"{record.label()}: cache hit", affected=affected,
                detail=CacheHitDetail(bytes=asset.ref.size))
        return
    decision = asset.work.decision
    reason = decision.reason.value if decision.reason is not None else "unknown"
    op.emit(EventKind.CACHE_MISS, f"{record.label()}: cache miss ({reason})", affected=affected,
            detail=CacheMissDetail(reason=reason, explanation=decision.explanation or None))
