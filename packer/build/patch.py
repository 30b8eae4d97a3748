"""Patch build: a change the up-to-date manifest pins on a few known assets rebuilds only those.

When the manifest's stat pass (packer.build.uptodate) finds that the only paths that changed (or
sit in the racy window) are inputs or `asset.json` files of assets in the build set, and nothing
structural did (registry, prometeu.json, any folder listing, cache.json, build/), the build
re-reads, re-validates and re-decides only those assets and patches everything else from what
the previous build left, each piece checked against the hash the manifest recorded for it:

- cache.json, asset_table_metadata.json and the artifact's head (prelude + header) by their
  whole-content hashes; every reused payload by its own hash, the gaps between them as zeros.

The outputs, the cache, the manifest and the event stream are byte for byte what the normal
path gives for the same inputs (tests/packer/test_build_patch.py). Whatever it cannot prove
sends the build down the normal path before anything is published: `attempt` returns None and
says why in a debug log line. Docs: docs/formats.md, "Patch builds".
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from packer import __version__
from packer.build import manifest_file, recording, splice, uptodate
from packer.build.artifact import (
    PayloadRef,
    PayloadStore,
    PreviousArtifact,
    _copy_range,
    _write_all,
)
from packer.build.cache import ArtifactRecord, BuildCache, CacheEntry
from packer.build.check import AssetWork, CacheView, Selection, decide_all, select
from packer.build.emit import BuiltAsset, produce, publish
from packer.build.hashing import HASH_ALGORITHM, hash_bytes
from packer.build.layout import (
    PRELUDE_SIZE,
    align,
    pack_prelude,
    payload_offset_for,
    unpack_prelude,
)
from packer.build.manifest_file import NoopAsset
from packer.build.outputs import TOOL_METADATA_SCHEMA_VERSION, tool_metadata_row
from packer.build.plan import PlannedEntry, check_integers_only
from packer.build.result import AssetCacheOutcome, BuildResult, cache_outcome
from packer.build.staging import (
    ARTIFACT,
    ASSET_TABLE,
    PRELOAD,
    TOOL_METADATA,
    commit,
    discard,
    new_staging,
    promote,
)
from packer.files.atomic import atomic_write_bytes, canonical_json_bytes
from packer.files.lock import read_lock
from packer.files.safe_read import MAX_STATE_FILE_BYTES, open_file, read_regular
from packer.formats import FormatError
from packer.lane.events import (
    AffectedAsset,
    BuildFinishedDetail,
    BuildStartedDetail,
    CacheHitDetail,
    EventKind,
    Outcome,
)
from packer.workspace.anchors import read_anchor
from packer.workspace.scan import AssetRecord, AssetState, WorkspaceSnapshot

if TYPE_CHECKING:
    from packer.build.runner import _BuildRun

log = logging.getLogger(__name__)

READ_BUFFER = 1 << 20
CANCEL_EVERY = 256  # assets between cancellation checks while verifying payloads


@dataclass(frozen=True, slots=True)
class _Layout:
    """The patched build's outputs, in manifest (asset_id) order where per asset."""

    offsets: list[int]  # from the payload start
    sizes: list[int]
    input_bytes: list[int]
    header: bytes
    head: bytes  # prelude + header + padding
    payload_offset: int
    file_size: int
    small: dict[str, bytes]  # the mirrors and the tool metadata


class _Fallback(Exception):
    """This change cannot be patched: the normal path builds it (the message says why)."""


@dataclass(slots=True)
class _Previous:
    """What the previous build left, each part checked against the manifest's hashes."""

    manifest: manifest_file.Manifest
    cache: splice.Rows  # cache.json, split per asset
    cache_started_at_ns: int
    header: bytes
    table: splice.Rows  # the header's asset table
    preloaded: set[int]
    tool: splice.Rows  # asset_table_metadata.json
    artifact: Path
    parsed: dict[int, dict[str, Any]] = field(default_factory=dict)

    def entry(self, index: int) -> dict[str, Any]:
        """The cache entry of the manifest's index-th asset, parsed (once) as plain JSON."""
        found = self.parsed.get(index)
        if found is None:
            found = self.parsed[index] = json.loads(
                splice.entry_value(self.cache.row(index)))
        return found


def attempt(
    run: _BuildRun, difference: uptodate.Difference, started_at_ns: int
) -> BuildResult | None:
    """The build as a patch of the previous one, or None (nothing published, nothing changed
    but the manifest forgotten and an empty staging folder removed) to take the normal path."""
    manifest = difference.manifest
    if manifest is None:
        return None
    try:
        try:
            previous = _load_previous(run, manifest)
            affected = _affected(run, previous, difference)
            patch = _Patch(run, previous, affected, started_at_ns, difference.changed)
            selection, view = patch.prove()
        except (KeyError, TypeError, ValueError, OSError) as exc:  # nothing changed yet
            raise _Fallback(f"{type(exc).__name__}: {exc}") from exc
        return patch.write(selection, view)
    except _Fallback as exc:
        log.debug("patch build not possible (%s): taking the normal path", exc)
        return None


def _rel(run: _BuildRun, path: Path) -> str:
    return os.path.relpath(path, run.project.root).replace(os.sep, "/")


def _checked_read(run: _BuildRun, path: Path, expected: str | None) -> bytes:
    try:
        raw = read_regular(path, follow_symlinks=False, limit=MAX_STATE_FILE_BYTES)
    except OSError as exc:
        raise _Fallback(f"{path.name} cannot be read: {exc}") from exc
    if expected is None or hash_bytes(raw) != expected:
        raise _Fallback(f"{path.name} is not what the previous build wrote")
    return raw


def _load_previous(run: _BuildRun, manifest: manifest_file.Manifest) -> _Previous:
    project = run.project
    build_rel = _rel(run, project.build_dir)
    cache_raw = _checked_read(run, project.cache_path,
                              manifest.checks.get(_rel(run, project.cache_path)))
    tool_raw = _checked_read(run, project.build_dir / TOOL_METADATA,
                             manifest.checks.get(f"{build_rel}/{TOOL_METADATA}"))
    artifact = project.build_dir / ARTIFACT
    try:
        with open_file(artifact) as handle:
            head = handle.read(manifest.payload_offset)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise _Fallback(f"{ARTIFACT} cannot be read: {exc}") from exc
    if hash_bytes(head) != manifest.head_hash or size != manifest.output_bytes:
        raise _Fallback(f"{ARTIFACT} is not what the previous build wrote")
    header = head[PRELUDE_SIZE:PRELUDE_SIZE + unpack_prelude(head)[2]]
    ids = [a.asset_id for a in manifest.assets]
    try:
        split = header.rindex(b',"preload":')  # the preload list holds no strings
        table = header[len(b'{"asset_table":'):split]
        preload = header[split + len(b',"preload":'):-1]
        if header != b'{"asset_table":' + table + b',"preload":' + preload + b"}":
            raise splice.SpliceError("the header is not the two mirrors spliced")
        preloaded = {int(p["asset_id"]) for p in json.loads(preload)}
        cache, (started_at_ns, header_hash, recorded_size) = splice.cache_rows(cache_raw, ids)
        if header_hash != hash_bytes(header) or recorded_size != size:
            raise splice.SpliceError("cache.json describes another artifact")
        tail = (b'],"hash_algorithm":' + json.dumps(HASH_ALGORITHM).encode()
                + b',"packer_version":' + json.dumps(__version__, ensure_ascii=False).encode()
                + b',"schema_version":' + str(TOOL_METADATA_SCHEMA_VERSION).encode() + b"}")
        return _Previous(manifest, cache, started_at_ns, header, splice.table_rows(table, ids),
                         preloaded, splice.tool_rows(tool_raw, ids, tail), artifact)
    except (ValueError, KeyError, TypeError) as exc:
        raise _Fallback(f"the previous build's files are not split as expected: {exc}") from exc


def _affected(run: _BuildRun, previous: _Previous, difference: uptodate.Difference) -> list[int]:
    """Indexes (in manifest order) of the assets owning every changed or racy path."""
    project = run.project
    manifest = previous.manifest
    by_root = {a.root: index for index, a in enumerate(manifest.assets)}
    build_prefix = _rel(run, project.build_dir) + "/"
    artifact_rel = build_prefix + ARTIFACT
    cache_rel = _rel(run, project.cache_path)

    def owner(path: str) -> int | None:
        if not path.startswith("assets/"):
            return None
        rel = path[len("assets/"):]
        parts = rel.split("/")
        for cut in range(len(parts) - 1, -1, -1):
            index = by_root.get("/".join(parts[:cut]))
            if index is None:
                continue
            inside = "/".join(parts[cut:])
            inputs = previous.entry(index)["inputs"]
            if inside == "asset.json" or any(i["path"] == inside for i in inputs):
                return index
            return None
        return None

    affected: set[int] = set()
    for path in difference.changed:
        index = owner(path)
        if index is None:
            raise _Fallback(f"{path} changed and belongs to no asset of the build")
        affected.add(index)
    for path in difference.racy:
        index = owner(path)
        if index is not None:
            affected.add(index)  # re-read: a same-tick edit may hide behind its fingerprint
        elif path in {artifact_rel, cache_rel}:
            continue  # both checked by content whatever their age (_load_previous, _verify)
        elif not (path.startswith(build_prefix)
                  and uptodate._content_matches(project, manifest, path, run.token)):
            raise _Fallback(f"{path} is in the racy window")
    if not affected:
        raise _Fallback("no asset changed")
    return sorted(affected)


class _Patch:
    """One patch build: `prove` (no side effect; _Fallback when it cannot), then `write`."""

    def __init__(self, run: _BuildRun, previous: _Previous, affected: list[int],
                 started_at_ns: int, changed: list[str]) -> None:
        self.run = run
        self.op = run.op
        self.token = run.token
        self.project = run.project
        self.previous = previous
        self.manifest = previous.manifest
        self.rows = previous.manifest.assets
        self.affected = affected
        self.started_at_ns = started_at_ns
        self.changed = changed  # the workspace paths whose fingerprint changed
        self.built: dict[int, BuiltAsset] = {}  # by manifest index

    def prove(self) -> tuple[Selection, CacheView]:
        """Everything that can send the build down the normal path, with no side effect."""
        selection = self._select()
        view = self._view()
        decide_all(selection, view, self.token, self.run.faults)
        self._verify_reused()
        return selection, view

    def write(self, selection: Selection, view: CacheView) -> BuildResult:
        manifest_file.forget(self.project)  # before build/ or cache.json can change
        run = self.run
        run.made_build_dir = False
        staging = run.staging = new_staging(self.project.build_dir, self.op.operation_id)
        store = PayloadStore(staging / "payload.spool")
        try:
            self._produce(selection.work, view, store)
            return self._emit(staging, store)
        finally:
            store.discard()

    # -- proving, before anything is published --

    def _select(self) -> Selection:
        project = self.project
        real_assets = os.path.realpath(project.assets_dir)
        names = {a.name for i, a in enumerate(self.rows) if i not in self.affected}
        records = []
        for index in self.affected:
            row = self.rows[index]
            entry = self.previous.entry(index)
            with read_lock(project):  # as the scan: never see a mutation half applied
                anchor = read_anchor(project.assets_dir, real_assets, row.root, row.asset_id)
            decl = anchor.decl
            if decl is None or anchor.diagnostics:
                raise _Fallback(f"{row.root}/asset.json has findings")
            if decl.asset_uuid != entry["asset_uuid"]:
                raise _Fallback(f"{row.root}: asset_uuid changed")
            if [list(p) for p in decl.all_inputs()] != [[i["role"], i["path"]]
                                                        for i in entry["inputs"]]:
                raise _Fallback(f"{row.root}: its list of inputs changed")
            if decl.name in names:
                raise _Fallback(f"{row.root}: its name is another asset's")
            names.add(decl.name)
            records.append(AssetRecord.model_construct(
                root=row.root, state=AssetState.REGISTERED, asset_id=row.asset_id,
                asset_uuid=decl.asset_uuid, included_in_build=True, declaration=decl,
                diagnostics=(), files=(), anchor_fingerprint=anchor.fingerprint,
                input_stats=anchor.input_stats,
            ))
        snapshot = WorkspaceSnapshot.model_construct(
            project_id=self.op.project_id, registry=None, assets=tuple(records),
            diagnostics=())
        selection = select(self.project, snapshot, self.token)
        if selection.diagnostics or len(selection.work) != len(records):
            raise _Fallback("a changed asset has findings")
        return selection

    def _view(self) -> CacheView:
        rows, previous = self.rows, self.previous
        try:
            entries = {str(rows[i].asset_id): CacheEntry.model_validate_json(
                splice.entry_value(previous.cache.row(i))) for i in self.affected}
        except ValueError as exc:
            raise _Fallback(f"cache.json entry invalid: {exc}") from exc
        cache = BuildCache.model_construct(
            started_at_ns=previous.cache_started_at_ns,
            artifact=ArtifactRecord.model_construct(header_hash=hash_bytes(previous.header),
                                                    size=self.manifest.output_bytes),
            assets=entries)
        payload_offset = self.manifest.payload_offset
        reused = PreviousArtifact(
            path=self.previous.artifact, head=b"", header=self.previous.header,
            payload_offset=payload_offset, file_size=self.manifest.output_bytes,
            slots={self.rows[i].asset_id: (payload_offset + self.rows[i].offset,
                                           self.rows[i].size) for i in self.affected})
        return CacheView(cache, reused, False, None)

    def _verify_reused(self) -> None:
        """Every payload this build copies matches its hash; the gaps between them are zeros."""
        affected = set(self.affected)
        try:
            with open_file(self.previous.artifact, buffering=READ_BUFFER) as handle:
                handle.seek(self.manifest.payload_offset)
                end = 0
                for index, row in enumerate(self.rows):
                    if index % CANCEL_EVERY == 0:
                        self.token.raise_if_cancelled()
                    gap = row.offset - end
                    if gap < 0 or (gap and any(handle.read(gap))):
                        raise _Fallback(f"{ARTIFACT}: bytes between payloads are not zeros")
                    data = handle.read(row.size)
                    end = row.offset + row.size
                    if index in affected:
                        continue  # checked by `produce` when it is reused
                    if len(data) != row.size or hash_bytes(data) != row.payload_hash:
                        raise _Fallback(f"{ARTIFACT}: payload of #{row.asset_id} changed")
        except OSError as exc:
            raise _Fallback(f"{ARTIFACT} cannot be read: {exc}") from exc

    def _produce(self, works: list[AssetWork], view: CacheView, store: PayloadStore) -> None:
        with open_file(self.previous.artifact) as handle:
            for index, work in zip(self.affected, works, strict=True):
                self.token.raise_if_cancelled()
                try:
                    self.built[index] = produce(work, view, handle, store, self.token)
                except FormatError as exc:
                    self._abandon()
                    raise _Fallback("a changed asset breaks its format's rules") from exc
        store.close()

    def _abandon(self) -> None:
        run = self.run
        if run.staging is not None:
            discard(run.staging)
            run.staging = None

    # -- publishing and writing --

    def _emit(self, staging: Path, store: PayloadStore) -> BuildResult:
        built = self.built
        layout = self._publish_assets()
        if (all(a.hit for a in built.values()) and layout.header == self.previous.header
                and layout.small[TOOL_METADATA] == self.previous.tool.data):
            self._abandon()
            self._record(layout, self._save_cache(layout, up_to_date=True))
            return self._finish("Build is up to date: nothing changed", layout, True)
        build_dir = self.project.build_dir
        faults = self.run.faults
        faults.reached("write")
        self._write_artifact(staging / ARTIFACT, layout)
        for name, data in layout.small.items():
            (staging / name).write_bytes(data)
        faults.reached("staged")
        self.token.raise_if_cancelled()  # the last moment a cancel can still win
        commit(staging)
        self.run.committed = True
        faults.reached("committed")
        promote(staging, build_dir, faults.reached)
        self.run.staging = None
        faults.reached("promoted")
        try:
            digest: str | None = self._save_cache(layout, up_to_date=False)
        except OSError as exc:
            self.run.cache_not_saved(exc)
            digest = None
        faults.reached("cached")
        if digest is not None:  # else no manifest: the next build takes the normal path
            self._record(layout, digest)
        return self._finish("Build succeeded", layout, False)

    def _publish_assets(self) -> _Layout:
        """The events of the normal path's check and emission passes; the new layout."""
        op, rows, built = self.op, self.rows, self.built
        sizes = [row.size for row in rows]
        input_bytes = [row.input_bytes for row in rows]
        for index, new in built.items():
            sizes[index] = new.ref.size
            input_bytes[index] = new.work.input_bytes
        total, total_bytes = len(rows), sum(input_bytes)
        op.emit(
            EventKind.BUILD_STARTED,
            f"Build started: {total} assets, {total_bytes / 1_000_000:.1f} MB of inputs",
            detail=BuildStartedDetail(asset_count=total, input_bytes=total_bytes),
        )
        op.progress(0, total, phase="check", summary=f"Checking {total} assets…")
        wants = op.wants_events
        if not wants and not self.run.faults.watches("encode"):
            # No event is built: the changed assets publish theirs (as emission counts them),
            # every other one is a cache hit's sequence number.
            self.token.raise_if_cancelled()
            for index in sorted(built):
                publish(op, built[index])
            op.skip(total - len(built))
            return self._layout(sizes, input_bytes)
        done_bytes = 0
        for index, row in enumerate(rows):
            self.token.raise_if_cancelled()
            self.run.faults.reached("encode")
            asset = built.get(index)
            if asset is not None:
                publish(op, asset)
            elif not wants:
                op.emit(EventKind.CACHE_HIT, "")
            else:
                op.emit(EventKind.CACHE_HIT, f"#{row.asset_id} {row.name or row.root}: cache hit",
                        affected=(AffectedAsset(asset_id=row.asset_id, root=row.root,
                                                name=row.name),),
                        detail=CacheHitDetail(bytes=row.size))
            done_bytes += input_bytes[index]
            if wants:
                op.progress(
                    index + 1, total, phase="build",
                    summary=f"Building: {index + 1}/{total} assets, "
                    f"{done_bytes / 1_000_000:.1f}/{total_bytes / 1_000_000:.1f} MB",
                    bytes_done=done_bytes, bytes_total=total_bytes)
        return self._layout(sizes, input_bytes)

    def _layout(self, sizes: list[int], input_bytes: list[int]) -> _Layout:
        offsets = []
        cursor = 0
        for size in sizes:
            cursor = align(cursor)
            offsets.append(cursor)
            cursor += size
        built = self.built
        # the reused payloads whose offset changed (all after a new one of another size)
        moved = [index for index, (offset, row) in enumerate(zip(offsets, self.rows, strict=True))
                 if offset != row.offset and index not in built]
        header, table_bytes, preload_bytes = self._header(offsets, moved)
        payload_offset = payload_offset_for(len(header))
        head = pack_prelude(len(header)) + header
        return _Layout(
            offsets=offsets, sizes=sizes, input_bytes=input_bytes, header=header,
            head=head + bytes(payload_offset - len(head)), payload_offset=payload_offset,
            file_size=payload_offset + (offsets[-1] + sizes[-1] if sizes else 0),
            small={ASSET_TABLE: table_bytes, PRELOAD: preload_bytes,
                   TOOL_METADATA: self._tool_metadata(offsets, moved)},
        )

    def _header(self, offsets: list[int], moved: list[int]) -> tuple[bytes, bytes, bytes]:
        table = self.previous.table
        preloaded = set(self.previous.preloaded)
        replaced = {}  # every other row is the previous one's bytes
        for index, asset in self.built.items():
            planned = _placed(asset.planned(), offsets[index])
            fresh = planned.table_row()
            check_integers_only(fresh, f"asset_table[asset_id={planned.asset_id}]")
            replaced[index] = canonical_json_bytes(fresh)
            (preloaded.add if planned.preload else preloaded.discard)(planned.asset_id)
        for index in moved:
            replaced[index] = splice.with_table_offset(table.row(index), offsets[index])
        preload = [{"asset_id": asset_id, "slot": slot}
                   for slot, asset_id in enumerate(sorted(preloaded))]
        table_bytes = table.spliced(replaced)
        preload_bytes = canonical_json_bytes(preload)
        header = b'{"asset_table":' + table_bytes + b',"preload":' + preload_bytes + b"}"
        return header, table_bytes, preload_bytes

    def _tool_metadata(self, offsets: list[int], moved: list[int]) -> bytes:
        tool = self.previous.tool
        replaced = {}  # every other row is the previous one's bytes
        for index, asset in self.built.items():
            placed = _placed(asset.planned(), offsets[index])
            replaced[index] = canonical_json_bytes(tool_metadata_row(placed, asset))
        for index in moved:
            replaced[index] = splice.with_tool_offset(tool.row(index), offsets[index])
        return tool.spliced(replaced)

    def _write_artifact(self, path: Path, layout: _Layout) -> None:
        """Head, then each run of reused payloads as one copy from the previous artifact (their
        relative layout is unchanged and its gaps were checked as zeros), each new payload from
        the spool, zeros between."""
        rows, built, token = self.rows, self.built, self.token
        offsets, payload_offset = layout.offsets, layout.payload_offset
        segments: list[tuple[int, Path, int, int]] = []  # new offset, source, offset, length
        reused = 0  # the first row of the current run of reused payloads
        for index in [*sorted(built), len(rows)]:
            if index > reused:
                # Reused rows between two new payloads all moved by the same multiple of the
                # alignment (their sizes are unchanged): one copy keeps their relative layout.
                first, last = rows[reused], rows[index - 1]
                if offsets[index - 1] - offsets[reused] != last.offset - first.offset:
                    raise ValueError("reused payloads would not keep their layout")
                segments.append((offsets[reused], self.previous.artifact,
                                 self.manifest.payload_offset + first.offset,
                                 last.offset + last.size - first.offset))
            if index < len(rows):
                ref: PayloadRef = built[index].ref
                assert ref.path is not None
                segments.append((offsets[index], ref.path, ref.offset, ref.size))
            reused = index + 1
        sources: dict[Path, BinaryIO] = {}
        try:
            with open(path, "wb", buffering=0) as out:
                _write_all(out, layout.head)
                position = payload_offset
                for new_offset, source_path, offset, length in segments:
                    start = payload_offset + new_offset
                    if start > position:
                        _write_all(out, bytes(start - position))
                    source = sources.get(source_path)
                    if source is None:
                        source = sources[source_path] = open(  # noqa: SIM115
                            source_path, "rb", buffering=0)
                    _copy_range(source, offset, length, out, token)
                    position = start + length
                if out.tell() != layout.file_size:
                    raise ValueError(f"wrote {out.tell()} bytes, planned {layout.file_size}")
                os.fsync(out.fileno())
        finally:
            for source in sources.values():
                source.close()

    def _save_cache(self, layout: _Layout, *, up_to_date: bool) -> str:
        """cache.json as pydantic writes it (tests pin the bytes), only changed entries dumped."""
        cache = self.previous.cache
        replaced = {}  # every other entry is the previous one's bytes
        changed = False
        for index, asset in self.built.items():
            fresh = asset.cache_entry().model_dump_json().encode("utf-8")
            changed = changed or fresh != splice.entry_value(cache.row(index))
            replaced[index] = b'"' + str(self.rows[index].asset_id).encode() + b'":' + fresh
        if up_to_date and not changed:
            return hash_bytes(cache.data)  # as the normal path: nothing to write
        data = cache.spliced(replaced, head=splice.cache_prefix(
            self.started_at_ns, hash_bytes(layout.header), layout.file_size))
        atomic_write_bytes(self.project.cache_path, data)
        return hash_bytes(data)

    def _record(self, layout: _Layout, cache_digest: str) -> None:
        offsets = layout.offsets
        rows = []
        for index, row in enumerate(self.rows):
            asset = self.built.get(index)
            if asset is None and offsets[index] == row.offset:
                rows.append(row)  # frozen: the previous manifest's row as it is
            elif asset is None:
                rows.append(NoopAsset(row.asset_id, row.root, row.name, offsets[index],
                                      row.size, row.payload_hash, row.input_bytes))
            else:
                rows.append(NoopAsset(row.asset_id, row.root, asset.work.decl.name,
                                      offsets[index], layout.sizes[index],
                                      asset.payload_hash, layout.input_bytes[index]))
        if not recording.record_patched(
            self.project, self.manifest, started_at_ns=self.started_at_ns,
            changed=self.changed, seen=self.run.seen, assets=rows, head=layout.head,
            payload_offset=layout.payload_offset, output_bytes=layout.file_size,
            small=layout.small, cache_digest=cache_digest,
        ):
            log.debug("the previous manifest's bytes are not as expected: none recorded")

    def _finish(self, summary: str, layout: _Layout, up_to_date: bool) -> BuildResult:
        op, rows, built = self.op, self.rows, self.built
        file_size = layout.file_size
        misses = [built[i] for i in sorted(built) if not built[i].hit]
        total = len(rows)
        op.finish(
            EventKind.BUILD_FINISHED, Outcome.SUCCEEDED, summary,
            detail=BuildFinishedDetail(
                asset_count=total, cache_hits=total - len(misses), cache_misses=len(misses),
                output_bytes=file_size, artifact=f"build/{ARTIFACT}", blocking=(), error=None,
            ),
            affected=[b.work.record.affected() for b in misses][:200],
        )
        outcomes = [cache_outcome(row.asset_id, True, None, None) for row in rows]
        for index, asset in built.items():
            decision = asset.work.decision
            outcomes[index] = AssetCacheOutcome(
                asset_id=rows[index].asset_id, hit=asset.hit,
                reason=decision.reason.value if decision.reason else None,
                explanation=None if asset.hit else decision.explanation)
        return BuildResult.model_construct(
            outcome=Outcome.SUCCEEDED, operation_id=op.operation_id, asset_count=total,
            cache_hits=total - len(misses), cache_misses=len(misses),
            input_bytes=sum(layout.input_bytes),
            output_bytes=file_size, artifact=str(self.project.build_dir / ARTIFACT),
            up_to_date=up_to_date, cache=tuple(outcomes), blocking=(),
            diagnostics=tuple(self.run.diagnostics), error=None,
        )


def _placed(entry: PlannedEntry, offset: int) -> PlannedEntry:
    return PlannedEntry(
        asset_id=entry.asset_id, asset_name=entry.asset_name, bank_type=entry.bank_type,
        codec=entry.codec, size=entry.size, decoded_size=entry.decoded_size,
        metadata=entry.metadata, preload=entry.preload, offset=offset,
    )
