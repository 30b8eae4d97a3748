"""`build(project)`: check, plan, emit into staging, commit, promote, remember in the cache.

The terminal event of a build is always `build_finished` — succeeded, blocked, failed or
cancelled — and `build/` changes only through a committed promotion (packer.build.staging).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packer.build import manifest_file, patch, recording, uptodate
from packer.build.artifact import PayloadStore, read_previous_artifact, write_artifact
from packer.build.buildlock import build_lock
from packer.build.cache import (
    ArtifactRecord,
    BuildCache,
    LoadedCache,
    load_cache,
    save_cache,
)
from packer.build.check import PACKER_VERSION, CacheView, Selection, decide_all, select
from packer.build.emit import BuiltAsset, emit_assets
from packer.build.faults import Faults
from packer.build.hashing import hash_bytes, hash_parts
from packer.build.layout import pack_prelude
from packer.build.outputs import (
    already_current,
    small_outputs,
    tool_metadata_bytes,
    write_tool_metadata,
)
from packer.build.plan import Header, PlannedEntry, header_of, lay_out
from packer.build.result import BuildResult, cache_outcome
from packer.build.staging import (
    ARTIFACT,
    ASSET_TABLE,
    PRELOAD,
    TOOL_METADATA,
    commit,
    discard,
    new_staging,
    promote,
    recover_staging,
    remove_if_empty,
    staging_root,
)
from packer.build.statpass import Fingerprint, SeenStats
from packer.diagnostics import Diagnostic, diagnostic
from packer.files.project import ASSETS_DIR, Project
from packer.formats import FormatError, pipelines
from packer.lane.cancellation import CancellationToken, OperationCancelled
from packer.lane.events import (
    AffectedAsset,
    BuildFinishedDetail,
    BuildStartedDetail,
    CacheHitDetail,
    EventKind,
    Outcome,
)
from packer.lane.gcquiet import quiet_gc
from packer.lane.operation import Operation
from packer.lane.release import release_in_slices
from packer.lane.sinks import EventSink, NullSink
from packer.workspace.anchors import StatRow
from packer.workspace.scan import WalkSummary, build_snapshot_and_walk, diagnostics_detail

if TYPE_CHECKING:
    from packer.build.headstart import EncodedAhead, HeadStart
    from packer.build.side_writer import SideWriter

# A build of this many assets writes cache.json from a child (packer.build.side_writer) while
# it stages and promotes, when it may fork at all (`processes` > 1): ≈ 0.14 s at 10k.
SIDE_WRITE_MIN_ASSETS = 256


def build(
    project: Project,
    sink: EventSink | None = None,
    token: CancellationToken | None = None,
    *,
    use_cache: bool = True,
    processes: int = 1,
) -> BuildResult:
    """Build `build/assets.pa` and its companions. Never raises for bad input: see the outcome.

    `processes` > 1 encodes a big set of misses in that many processes, forked from this one
    (packer.build.parallel): only for a caller whose other threads hold no lock a child could
    need, such as the command line; same outputs and events either way."""
    with quiet_gc():  # the manifest's 60k rows are as many containers for the collector
        # Read before the lock for the operation's project_id: an up-to-date or patch build
        # then need not validate the registry again (check() re-reads it if it was replaced).
        preloaded = manifest_file.load_early(project) if use_cache else None
        project_id = None if preloaded is None else uptodate.known_project_id(
            project, preloaded.manifest, PACKER_VERSION)
        op = Operation(sink or NullSink(), project_id=project_id or project.project_id,
                       operation="build", token=token)
        with op:
            run = _BuildRun(project, op, Faults.from_environment(token=op.token), use_cache,
                            preloaded=preloaded, processes=processes)
            result = run.execute()
        run.release()  # after the terminal event: nobody waits for this
        return result


@dataclass
class _BuildRun:
    project: Project
    op: Operation
    faults: Faults
    use_cache: bool
    preloaded: manifest_file.Preloaded | None = None  # the manifest as `build` read it
    processes: int = 1  # that encode misses (packer.build.parallel)
    # children writing meanwhile (packer.build.side_writer): cache.json, the tool metadata,
    # the manifest's rows
    side_writer: SideWriter | None = None
    tool_writer: SideWriter | None = None
    rows_writer: SideWriter | None = None
    # the child encoding ahead while the scan runs (packer.build.headstart)
    head_start: HeadStart | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    selection: Selection | None = None
    built: list[BuiltAsset] = field(default_factory=list)
    staging: Path | None = None
    committed: bool = False
    walk: WalkSummary | None = None
    made_build_dir: bool = False  # build/ did not exist: a build that does not commit removes it
    # fingerprints the failed up-to-date check took, reused when recording the new manifest
    seen: dict[str, Fingerprint | None] = field(default_factory=SeenStats)

    @property
    def token(self) -> CancellationToken:
        return self.op.token

    @property
    def build_dir(self) -> Path:
        return self.project.build_dir

    def release(self) -> None:
        """Drop the working state in slices (packer.lane.release): freed at once when `build`
        returns, it held the GIL ~60 ms at 10k, the Studio GUI's worst stall of a build."""
        selection, self.selection = self.selection, None
        self.preloaded = None
        release_in_slices(self.built, self.seen, self.diagnostics,
                          selection.work if selection else None,
                          selection.diagnostics if selection else None)

    def execute(self) -> BuildResult:
        try:
            with build_lock(self.project.packer_dir):
                try:
                    return self._run()
                finally:
                    self._stop_head_start()
        except OperationCancelled as exc:
            self._discard()
            reason = self.token.reason or "cancelled"
            return self._finish(Outcome.CANCELLED,
                                f"Build cancelled ({reason}); build/ is unchanged",
                                error=str(exc))
        except FormatError as exc:  # a miss's inputs break its format's rules
            self._discard()
            self._add(exc.diagnostics)
            self._publish_diagnostics()
            return self._finish_blocked()
        except Exception as exc:
            self._discard()
            where = ("the promotion will be completed by the next build" if self.committed
                     else "build/ is unchanged")
            return self._finish(Outcome.FAILED, f"Build failed: {exc}; {where}",
                                error=f"{type(exc).__name__}: {exc}")

    # -- the steps --

    def _run(self) -> BuildResult:
        started_at_ns = time.time_ns()
        if self.use_cache:
            difference = uptodate.Difference()
            manifest = uptodate.check(self.project, self.token, packer_version=PACKER_VERSION,
                                      pipelines=_pipeline_versions(), seen=self.seen,
                                      difference=difference, preloaded=self.preloaded,
                                      processes=self.processes)
            self.preloaded = None  # `difference` keeps what a patch needs
            if manifest is not None:
                return self._finish_unchanged(manifest)
            # Only a few known assets changed: rebuild just those (None: it cannot prove that)
            patched = patch.attempt(self, difference, started_at_ns)
            if patched is not None:
                return patched
        manifest_file.forget(self.project)  # before build/ or cache.json can change
        for action in recover_staging(self.build_dir):
            self._add([diagnostic("PK208", f"build/.staging: {action}")])
        if self.processes > 1 and (not self.use_cache or self._first_build()):
            self._start_head_start()
        snapshot, self.walk = build_snapshot_and_walk(self.project, self.token)
        selection = self.selection = select(self.project, snapshot, self.token)
        # The selection keeps what the build needs of the snapshot; the rest (the registry's
        # entries, records outside the build) would stay alive to the end: ≈ 1.3 KB per asset.
        del snapshot
        self.op.emit(
            EventKind.BUILD_STARTED,
            f"Build started: {len(selection.work)} assets, "
            f"{selection.input_bytes / 1_000_000:.1f} MB of inputs",
            detail=BuildStartedDetail(asset_count=len(selection.work),
                                      input_bytes=selection.input_bytes),
        )
        self.op.progress(0, len(selection.work), phase="check",
                         summary=f"Checking {len(selection.work)} assets…")
        view, loaded = self._cache_view()
        if view.first_build:
            pass  # nothing was ever built here: no cache is expected, so nothing to warn about
        elif loaded.problem is not None and self.use_cache:
            self._add([diagnostic("PK206", f"build cache not used: {loaded.problem}",
                                  file="assets/.prometeu/cache.json")])
        if not selection.blocking:
            decide_all(selection, view, self.token, self.faults)
        self._add(selection.diagnostics)
        if self.diagnostics:
            self._publish_diagnostics()
        if self.blocking:
            self._discard()  # the staging folder a head start made
            return self._finish_blocked()
        return self._emit(view, loaded, started_at_ns)

    def _first_build(self) -> bool:
        """Nothing was ever built here (as `_cache_view` finds): every asset will be a miss."""
        return not self.project.cache_path.exists() and not (self.build_dir / ARTIFACT).exists()

    def _start_head_start(self) -> None:
        """Fork a child that encodes ahead while this process scans (packer.build.headstart):
        it writes into this build's staging folder, made now rather than after the scan."""
        from packer.build import headstart  # only where it forks

        if not headstart.worth_starting(self.project):
            return
        self._make_staging()
        assert self.staging is not None
        self.head_start = headstart.start_head_start(self.project, self.staging)

    def _ahead(self, store: PayloadStore) -> EncodedAhead | None:
        """What the head start encoded, its child killed (and reaped when the build ends);
        its spool goes with `store`'s."""
        if self.head_start is None:
            return None
        ahead = self.head_start.collect()
        store.adopt(ahead.spool)
        return ahead

    def _stop_head_start(self) -> None:
        head_start, self.head_start = self.head_start, None
        if head_start is not None:
            head_start.stop()

    def _make_staging(self) -> None:
        if self.staging is None:
            self.made_build_dir = not self.build_dir.exists()
            self.staging = new_staging(self.build_dir, self.op.operation_id)

    def _cache_view(self) -> tuple[CacheView, LoadedCache]:
        if not self.use_cache:
            # Every asset is encoded: nothing is reused from the previous artifact, and a
            # build/ "already current" needs every asset a hit, so it is not even read.
            return CacheView(None, None, True, None), LoadedCache(None, None)
        previous = read_previous_artifact(self.build_dir / ARTIFACT)
        loaded = load_cache(self.project.cache_path)
        problem = loaded.problem
        cache = loaded.cache
        if cache is None and previous is None and not self.project.cache_path.exists():
            return CacheView(None, None, False, None, first_build=True), loaded
        if cache is not None and problem is None:
            record = cache.artifact
            if previous is None:
                problem = "build/assets.pa is missing or unreadable"
            elif record is None or record.header_hash != hash_bytes(previous.header) or (
                record.size != previous.file_size
            ):
                problem = "build/assets.pa is not the artifact the cache describes"
        return CacheView(cache, previous, False, problem), loaded

    def _emit(self, view: CacheView, loaded: LoadedCache, started_at_ns: int) -> BuildResult:
        assert self.selection is not None
        self._make_staging()
        staging = self.staging
        assert staging is not None
        store = PayloadStore(staging / "payload.spool")
        try:
            self.built = emit_assets(self.op, self.selection.work, view, store,
                                     token=self.token, faults=self.faults,
                                     assets_dir=self.project.assets_dir,
                                     processes=self.processes, ahead=self._ahead(store))
            placed = lay_out(b.planned() for b in self.built)
            aside = self.processes > 1 and len(self.built) >= SIDE_WRITE_MIN_ASSETS
            # With a miss, build/ cannot be current already: its children start at once, and
            # make the tool metadata and the manifest's rows while the header is made here.
            early = aside and not all(b.hit for b in self.built)
            if early:
                self._start_aside(placed, started_at_ns, staging, with_tool=True)
            header = header_of(placed)
            small = {ASSET_TABLE: header.asset_table, PRELOAD: header.preload}
            if not early:
                small = small_outputs(header, self.built)
                previous = view.previous
                if already_current(self.build_dir, header, self.built, small,
                                   previous_head=previous.head if previous else None,
                                   previous_size=previous.file_size if previous else None):
                    self._discard()
                    digest = self._save_cache(header, started_at_ns, loaded)
                    self._record(header, _hashes(small), digest, started_at_ns)
                    return self._finish(Outcome.SUCCEEDED,
                                        "Build is up to date: nothing changed",
                                        header=header, up_to_date=True)
                if aside:
                    self._start_aside(placed, started_at_ns, staging, with_tool=False)
            if aside:
                from packer.build.side_writer import start_side_writer  # only where it forks

                self.side_writer = start_side_writer(self._write_cache(header, started_at_ns),
                                                     self.project.cache_path)
            small_hashes = self._stage(staging, header, small, store)
        finally:
            store.discard()
        self.faults.reached("staged")
        self.token.raise_if_cancelled()  # the last moment a cancel can still win
        commit(staging)
        self.committed = True
        self.faults.reached("committed")
        promote(staging, self.build_dir, self.faults.reached)
        self.staging = None
        self.faults.reached("promoted")
        writer, self.side_writer = self.side_writer, None
        try:
            digest = writer.finish(self.project.cache_path) if writer is not None else None
            if digest is None:
                digest = self._save_cache(header, started_at_ns, None)
        except OSError as exc:
            if writer is not None:
                writer.abandon()  # its side file, if the rename failed
            self.cache_not_saved(exc)
            digest = None  # and so no up-to-date manifest: the next build takes the normal path
        self.faults.reached("cached")
        self._record(header, small_hashes, digest, started_at_ns)
        return self._finish(Outcome.SUCCEEDED, "Build succeeded", header=header)

    def cache_not_saved(self, exc: OSError) -> None:
        """cache.json could not be written after the promotion: the build stands (build/ holds
        it, and the previous cache is stale but harmless: every payload it would let a build
        reuse is checked against its hash), and says so as a warning (PK211)."""
        self._add([diagnostic("PK211", f"build cache not saved: {exc.strerror or exc}",
                              file="assets/.prometeu/cache.json")])
        self._publish_diagnostics()

    def _start_aside(self, placed: tuple[PlannedEntry, ...], started_at_ns: int,
                     staging: Path, *, with_tool: bool) -> None:
        """Fork the children that make the tool metadata (`with_tool`) and the manifest's
        rows meanwhile, where the parent would make them later."""
        from packer.build.side_writer import start_side_writer  # only where it forks

        built = self.built
        if with_tool:  # first: the commit waits for it
            self.tool_writer = start_side_writer(
                lambda path: write_tool_metadata(path, placed, built), staging / TOOL_METADATA)
        if self._records_manifest():
            self.rows_writer = start_side_writer(
                lambda path: recording.write_rows_aside(self._draft(placed, started_at_ns), path),
                manifest_file.manifest_path(self.project))

    def _stage(self, staging: Path, header: Header, small: dict[str, bytes],
               store: PayloadStore) -> dict[str, str]:
        """Write every output into `staging`; returns the content hash of each but the
        artifact (for the manifest)."""
        store.close()
        refs = {b.work.asset_id: b.ref for b in self.built}
        self.faults.reached("write")
        write_artifact(staging / ARTIFACT, header, refs, self.token, spools=store.spools)
        for name, data in small.items():
            (staging / name).write_bytes(data)
        hashes = _hashes(small)
        if TOOL_METADATA not in hashes:  # written by a child meanwhile, or else here
            writer, self.tool_writer = self.tool_writer, None
            target = staging / TOOL_METADATA
            digest = writer.finish(target) if writer is not None else None
            if digest is None:
                data = tool_metadata_bytes(header, self.built)
                target.write_bytes(data)
                digest = hash_bytes(data)
            hashes[TOOL_METADATA] = digest
        return hashes

    def _save_cache(
        self, header: Header, started_at_ns: int, loaded: LoadedCache | None
    ) -> str | None:
        """Write cache.json unless it already says exactly this; its content hash either way."""
        artifact = ArtifactRecord(header_hash=hash_bytes(header.header), size=header.file_size)
        old = loaded.cache if loaded is not None else None
        if old is not None and old.artifact == artifact and self._entries_match(old):
            return loaded.digest if loaded is not None else None  # a no-op: nothing to write
        return self._write_cache(header, started_at_ns)(self.project.cache_path)

    def _write_cache(self, header: Header, started_at_ns: int) -> Callable[[Path], str]:
        """What writes this build's cache.json to a path, and returns its content hash."""
        artifact = ArtifactRecord(header_hash=hash_bytes(header.header), size=header.file_size)

        def write(path: Path) -> str:
            # Streamed: each entry is made, written and dropped (no whole cache in memory).
            return save_cache(path, started_at_ns, artifact,
                              ((b.work.asset_id, b.cache_entry()) for b in self.built))

        return write

    def _entries_match(self, old: BuildCache) -> bool:
        return len(old.assets) == len(self.built) and all(
            old.assets.get(str(b.work.asset_id)) == b.cache_entry() for b in self.built)

    def _records_manifest(self) -> bool:
        """Whether a successful build leaves the up-to-date manifest (given cache.json's hash)."""
        selection = self.selection
        # findings are re-reported by every build: only the normal path does that
        return selection is not None and self.walk is not None and not selection.diagnostics

    def _record(
        self, header: Header, small_hashes: dict[str, str], cache_digest: str | None,
        started_at_ns: int,
    ) -> None:
        """Leave the up-to-date manifest for the next build, when it may rely on it."""
        rows, self.rows_writer = self.rows_writer, None
        if cache_digest is None or not self._records_manifest():
            if rows is not None:
                rows.abandon()
            return
        aside = None
        if rows is not None:
            sent = rows.result()
            aside = None if sent is None else recording.RowsAside.sent(rows.side, sent)
        prelude = pack_prelude(len(header.header))
        padding = bytes(header.payload_offset - len(prelude) - len(header.header))
        try:
            recording.record(self._draft(header.entries, started_at_ns),
                            head_hash=hash_parts(prelude, header.header, padding),
                            payload_offset=header.payload_offset,
                            output_bytes=header.file_size, small_hashes=small_hashes,
                            cache_digest=cache_digest, aside=aside)
        finally:
            if rows is not None:
                rows.remove_side()

    def _draft(self, placed: tuple[PlannedEntry, ...], started_at_ns: int) -> recording.Draft:
        """The manifest of this build as far as it is known once its payloads are placed."""
        assert self.walk is not None
        inputs = _InputPaths(self.built)
        return recording.Draft(
            project=self.project, started_at_ns=started_at_ns, packer_version=PACKER_VERSION,
            pipelines=_pipeline_versions(), walk=self.walk, inputs=inputs,
            assets=_noop_assets(placed, self.built), seen=self.seen,
            input_stats=inputs.stats(),
        )

    def _finish_unchanged(self, manifest: manifest_file.Manifest) -> BuildResult:
        """Up to date by the manifest: the events and result of a no-op's normal path.

        Same sequence as there (build_started, progress, a cache_hit and progress per asset,
        build_finished), same details and summaries, nothing read but the manifest.
        """
        op = self.op
        assets = manifest.assets
        total = len(assets)
        total_bytes = sum(a.input_bytes for a in assets)
        op.emit(
            EventKind.BUILD_STARTED,
            f"Build started: {total} assets, {total_bytes / 1_000_000:.1f} MB of inputs",
            detail=BuildStartedDetail(asset_count=total, input_bytes=total_bytes),
        )
        op.progress(0, total, phase="check", summary=f"Checking {total} assets…")
        done_bytes = 0
        wants = op.wants_events
        for index, asset in enumerate(assets, start=1):
            self.token.raise_if_cancelled()
            if not wants:
                op.emit(EventKind.CACHE_HIT, "")
                continue
            label = f"#{asset.asset_id} {asset.name or asset.root}"
            op.emit(EventKind.CACHE_HIT, f"{label}: cache hit",
                    affected=(AffectedAsset(asset_id=asset.asset_id, root=asset.root,
                                            name=asset.name),),
                    detail=CacheHitDetail(bytes=asset.size))
            done_bytes += asset.input_bytes
            op.progress(index, total, phase="build",
                        summary=f"Building: {index}/{total} assets, "
                        f"{done_bytes / 1_000_000:.1f}/{total_bytes / 1_000_000:.1f} MB",
                        bytes_done=done_bytes, bytes_total=total_bytes)
        op.finish(
            EventKind.BUILD_FINISHED, Outcome.SUCCEEDED, "Build is up to date: nothing changed",
            detail=BuildFinishedDetail(
                asset_count=total, cache_hits=total, cache_misses=0,
                output_bytes=manifest.output_bytes, artifact=f"build/{ARTIFACT}",
                blocking=(), error=None,
            ),
            affected=[],
        )
        return BuildResult.model_construct(
            outcome=Outcome.SUCCEEDED, operation_id=op.operation_id, asset_count=total,
            cache_hits=total, cache_misses=0, input_bytes=total_bytes,
            output_bytes=manifest.output_bytes, artifact=str(self.build_dir / ARTIFACT),
            up_to_date=True,
            cache=tuple(cache_outcome(a.asset_id, True, None, None) for a in assets),
            blocking=(), diagnostics=(), error=None,
        )

    # -- finishing --

    def _publish_diagnostics(self) -> None:
        works = self.selection.work if self.selection is not None else []
        ids = {d.asset_id for d in self.diagnostics}
        self.op.emit(
            EventKind.DIAGNOSTICS_UPDATED,
            f"Build check: {len(self.blocking)} blocking, "
            f"{len(self.diagnostics) - len(self.blocking)} other findings",
            detail=diagnostics_detail(self.diagnostics, assets_checked=len(works)),
            affected=[w.record.affected() for w in works if w.asset_id in ids],
        )

    @property
    def blocking(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.blocking]

    def _add(self, found: list[Diagnostic]) -> None:
        seen = set(map(id, self.diagnostics))
        self.diagnostics.extend(d for d in found if id(d) not in seen)

    def _discard(self) -> None:
        self._stop_head_start()  # first: it writes into the staging folder until it is stopped
        for writer in (self.tool_writer, self.side_writer, self.rows_writer):
            if writer is not None:
                writer.abandon()
        self.tool_writer = self.side_writer = self.rows_writer = None
        if self.staging is not None and not self.committed:
            discard(self.staging)
            self.staging = None
            if self.made_build_dir:  # "build/ is unchanged": it did not exist, so it does not
                remove_if_empty(staging_root(self.build_dir), self.build_dir)

    def _finish_blocked(self) -> BuildResult:
        count = len(self.blocking)
        return self._finish(
            Outcome.BLOCKED,
            f"Build blocked by {count} structural problem{'s' if count != 1 else ''}",
        )

    def _finish(
        self, outcome: Outcome, summary: str, *, header: Header | None = None,
        up_to_date: bool = False, error: str | None = None,
    ) -> BuildResult:
        built = self.built if outcome is Outcome.SUCCEEDED else []
        hits = sum(1 for b in built if b.hit)
        works = self.selection.work if self.selection is not None else []
        output_bytes = header.file_size if header is not None else 0
        artifact = str(self.build_dir / ARTIFACT) if outcome is Outcome.SUCCEEDED else None
        blocking = tuple(self.blocking)
        self.op.finish(
            EventKind.BUILD_FINISHED, outcome, summary,
            detail=BuildFinishedDetail(
                asset_count=len(works), cache_hits=hits, cache_misses=len(built) - hits,
                output_bytes=output_bytes, artifact=f"build/{ARTIFACT}" if artifact else None,
                blocking=tuple(d.summary() for d in blocking[:200]), error=error,
            ),
            # the first 200 misses: made for those only (an AffectedAsset per asset was ~50 ms
            # of a 10k build, 9,800 of them dropped at once)
            affected=[b.work.record.affected()
                      for b in itertools.islice((b for b in built if not b.hit), 200)],
        )
        return BuildResult(
            outcome=outcome, operation_id=self.op.operation_id, asset_count=len(works),
            cache_hits=hits, cache_misses=len(built) - hits,
            input_bytes=sum(w.input_bytes for w in works), output_bytes=output_bytes,
            artifact=artifact, up_to_date=up_to_date,
            cache=tuple(
                cache_outcome(
                    b.work.asset_id, b.hit,
                    b.work.decision.reason.value if b.work.decision.reason else None,
                    None if b.hit else b.work.decision.explanation,
                )
                for b in built
            ),
            blocking=blocking, diagnostics=tuple(self.diagnostics), error=error,
        )


class _InputPaths:
    """The build set's input paths as the manifest lists them (`assets/<root>/<path>`), made
    as they are written: a list of them was ≈ 0.35 KB per asset at the build's peak."""

    __slots__ = ("_built",)

    def __init__(self, built: list[BuiltAsset]) -> None:
        self._built = built

    def __len__(self) -> int:
        return sum(len(b.work.inputs) for b in self._built)

    def __iter__(self) -> Iterator[str]:
        for b in self._built:
            prefix = f"{ASSETS_DIR}/{b.work.record.root}/"
            for facts in b.work.inputs:
                yield prefix + facts.path

    def __contains__(self, path: object) -> bool:
        return any(path == listed for listed in self)

    def stats(self) -> Iterator[StatRow | None]:
        """The scan's stat of each input, parallel to the paths (None where it has none)."""
        for b in self._built:
            stats = b.work.record.input_stats
            if len(stats) == len(b.work.inputs):
                yield from stats
            else:
                yield from itertools.repeat(None, len(b.work.inputs))


def _noop_assets(placed: tuple[PlannedEntry, ...], built: list[BuiltAsset]
                 ) -> Iterator[manifest_file.NoopAsset]:
    """Each built asset as the manifest lists it, made as it is written."""
    by_id = {e.asset_id: e for e in placed}
    for b in built:
        work = b.work
        entry = by_id[work.asset_id]
        yield manifest_file.NoopAsset(
            asset_id=work.asset_id, root=work.record.root, name=work.decl.name,
            offset=entry.offset, size=entry.size, payload_hash=b.payload_hash,
            input_bytes=work.input_bytes,
        )


def _hashes(small: dict[str, bytes]) -> dict[str, str]:
    return {name: hash_bytes(data) for name, data in small.items()}


def _pipeline_versions() -> dict[str, int]:
    return {fmt: pipeline.format_version for fmt, pipeline in sorted(pipelines().items())}
