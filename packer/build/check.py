"""The check pass: select the build set, stat its inputs, decide hit or miss.

Nothing is written or decoded here. A miss's format is checked by encoding it (packer.build.emit:
`encode` reports every format problem, so validating first would decode each input twice); a
hit is never re-checked: it means the same inputs and settings were encoded successfully before,
and the format rules are a pure function of exactly those.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from packer import __version__
from packer.build.artifact import PreviousArtifact
from packer.build.cache import (
    BuildCache,
    CacheEntry,
    Decision,
    InputFacts,
    MissReason,
    decide,
    settings_key,
)
from packer.build.faults import Faults
from packer.build.hashing import hash_file
from packer.build.layout import CONTAINER_SCHEMA_VERSION
from packer.diagnostics import Diagnostic, diagnostic
from packer.files.declaration import DECLARATION_FILE, AssetDeclaration
from packer.files.project import Project
from packer.formats import FormatPipeline, pipelines
from packer.lane.cancellation import CancellationToken
from packer.workspace.scan import AssetRecord, WorkspaceSnapshot

PACKER_VERSION = f"{__version__}+pa{CONTAINER_SCHEMA_VERSION}"


# Decisions are frozen: the ones every asset of a build gets alike are made once.
_FORCED = Decision(MissReason.FORCED, "--no-cache: every asset is encoded")
_FIRST_BUILD = Decision(MissReason.NEW_ASSET, "first build of this project: nothing to reuse yet")
_UNDECIDED = Decision(MissReason.FORCED, "")


@dataclass(slots=True)
class AssetWork:
    """One build-set asset on its way through the build."""

    record: AssetRecord
    asset_id: int
    decl: AssetDeclaration
    base: str  # the root's folder, `str(assets_dir / root)`
    pipeline: FormatPipeline
    inputs: list[InputFacts]
    settings: str  # shared by every asset with the same settings (a few per project)
    entry: CacheEntry | None = None
    decision: Decision = field(default_factory=lambda: _UNDECIDED)

    # The root's Path and the input paths are made when asked (once or twice per asset), not
    # kept: held for every asset of a 10k build they were ≈ 0.6 KB each of its peak memory.
    @property
    def root_path(self) -> Path:
        return Path(self.base)

    @property
    def targets(self) -> list[str]:
        """Input paths (the root joined with the declared path), parallel to `inputs`."""
        base = self.base
        return [f"{base}/{facts.path}" for facts in self.inputs]

    @property
    def input_bytes(self) -> int:
        return sum(i.size for i in self.inputs)


@dataclass(slots=True)
class Selection:
    work: list[AssetWork] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def blocking(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.blocking]

    @property
    def input_bytes(self) -> int:
        return sum(w.input_bytes for w in self.work)


def select(project: Project, snapshot: WorkspaceSnapshot, token: CancellationToken) -> Selection:
    """The build set in asset_id order, with the structural findings that block it."""
    selection = Selection(diagnostics=list(snapshot.diagnostics))
    table = pipelines()
    settings_seen: dict[str, str] = {}  # equal settings kept once (a project has a few)
    # The settings of one (type, output block) pair: the scan shares equal output blocks
    # (SharedBlocks), so 10k assets have a few, each encoded once. Keyed by the block's id:
    # every declaration stays alive (in `snapshot`) while this runs.
    settings_by_block: dict[tuple[str, int], str] = {}
    assets_dir = str(project.assets_dir)
    for record in snapshot.assets:
        # Registered and included (the scan clears `included_in_build` for quarantined assets).
        # Not `in_build_set`: a registered asset whose root is missing is still in the build
        # set, and its PK101/PK102 must block the build rather than silently drop the asset.
        if record.asset_id is None or not record.included_in_build:
            continue
        token.raise_if_cancelled()
        selection.diagnostics.extend(record.diagnostics)
        decl = record.declaration
        if record.blocking or decl is None:
            continue
        pipeline = table.get(decl.output.format)
        if pipeline is None:
            selection.diagnostics.append(diagnostic(
                "PK108", f"{record.root}: this packer has no pipeline for {decl.output.format}",
                root=record.root, file=DECLARATION_FILE, asset_id=record.asset_id,
            ))
            continue
        # `str(assets_dir / root)`, without a Path per asset (a root the walk found is normal)
        base = f"{assets_dir}/{record.root}" if record.root else assets_dir
        facts = _stat_inputs(decl, base, record, selection)
        if facts is None:
            continue
        block = (decl.type, id(decl.output))
        settings = settings_by_block.get(block)
        if settings is None:
            settings = settings_key(decl.type, decl.output.format, decl.output.codec,
                                    decl.output.metadata, decl.output.pipeline)
            settings = settings_by_block[block] = settings_seen.setdefault(settings, settings)
        selection.work.append(AssetWork(
            record=record, asset_id=record.asset_id, decl=decl, base=base,
            pipeline=pipeline, inputs=facts, settings=settings,
        ))
    return selection


def _stat_inputs(
    decl: AssetDeclaration, base: str, record: AssetRecord, selection: Selection
) -> list[InputFacts] | None:
    # The scan has just checked every input (inside the root, a readable regular file; else a
    # blocking PK106/107/112/114) and kept its stat: (size, mtime_ns, ctime_ns) are the cache
    # hints. Pipelines read through `InsideRoot` again, and hashing opens the same joined path.
    roles_paths = decl.all_inputs()
    if len(record.input_stats) == len(roles_paths):
        return [InputFacts(role=role, path=path, size=st[0], mtime_ns=st[1], ctime_ns=st[2])
                for (role, path), st in zip(roles_paths, record.input_stats, strict=True)]
    facts: list[InputFacts] = []
    for role, path in roles_paths:
        try:
            st = os.stat(f"{base}/{path}")
        except OSError as exc:
            # The scan saw this input fine a moment ago; the disk changed under us.
            selection.diagnostics.append(diagnostic(
                "PK106", f"{record.root}: input {path!r} vanished during the build: {exc}",
                root=record.root, file=path, asset_id=record.asset_id,
            ))
            return None
        facts.append(InputFacts(role=role, path=path, size=st.st_size, mtime_ns=st.st_mtime_ns,
                                ctime_ns=st.st_ctime_ns))
    return facts


@dataclass(frozen=True, slots=True)
class CacheView:
    """What this build may reuse: the loaded cache and the artifact its payloads live in."""

    cache: BuildCache | None
    previous: PreviousArtifact | None
    forced: bool
    problem: str | None  # why nothing can be reused (whole-cache problem), if anything
    first_build: bool = False  # no cache.json and no build/assets.pa: nothing was ever built


def decide_all(
    selection: Selection, view: CacheView, token: CancellationToken, faults: Faults
) -> None:
    """Give every asset its cache decision."""
    started = view.cache.started_at_ns if view.cache is not None else 0
    for work in selection.work:
        token.raise_if_cancelled()
        faults.reached("check")
        work.decision = _decide_one(work, view, started, token)


def validate_misses(works: list[AssetWork]) -> list[Diagnostic]:
    """The format findings of every miss in `works` (a build already blocked: nothing encoded)."""
    found: list[Diagnostic] = []
    for work in works:
        if not work.decision.hit:
            found.extend(work.pipeline.validate(
                work.decl, work.root_path, root=work.record.root, asset_id=work.asset_id,
            ))
    return found


def _decide_one(
    work: AssetWork, view: CacheView, started: int, token: CancellationToken
) -> Decision:
    if view.forced:
        return _FORCED
    if view.first_build:
        return _FIRST_BUILD
    if view.cache is None:
        return Decision(MissReason.CACHE_MISSING_OR_CORRUPT, view.problem or "no cache")
    work.entry = view.cache.entry(work.asset_id)

    def hash_input(facts: InputFacts) -> str:
        digest, facts.size = hash_file(f"{work.base}/{facts.path}", token)
        return digest

    decision = decide(
        work.entry, asset_uuid=work.decl.asset_uuid, packer_version=PACKER_VERSION,
        format_version=work.pipeline.format_version, settings=work.settings,
        inputs=work.inputs, previous_started_at_ns=started, hash_input=hash_input,
    )
    if not decision.hit:
        return decision
    return _check_reusable(work, view)


def _check_reusable(work: AssetWork, view: CacheView) -> Decision:
    """A hit also needs its payload in the previous artifact."""
    entry = work.entry
    assert entry is not None
    if view.problem is not None or view.previous is None:
        return Decision(MissReason.CACHE_MISSING_OR_CORRUPT,
                        view.problem or "build/assets.pa is missing")
    slot = view.previous.slots.get(work.asset_id)
    if slot is None or slot[1] != entry.payload.size:
        return Decision(MissReason.CACHE_MISSING_OR_CORRUPT,
                        "build/assets.pa does not hold this asset's cached payload")
    return Decision(None, "inputs and settings unchanged")
