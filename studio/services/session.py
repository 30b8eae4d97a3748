"""One open project: runs its packer calls on the worker pool and publishes their results.

Panels never call the packer; they ask the session, and hear the results on the Studio bus: the
session publishes on the Assets workspace's bus (which republishes on the global bus), so panels
stay ignorant of the session's callers and of each other. Once the first listing is shown, the
session takes the rescan's baseline (when there is no scan record) and validates the project in
the background (doctor: its findings reach the rows as events). F5 (and the window regaining
focus) runs the packer's rescan, and only when it reports changes are the rows it names read,
from the rescan's own snapshot, and published alone. After a mutation the
session asks the packer for that asset instead of reading files; a build changes nothing the
listing shows (it never writes under assets/ but the build cache), so after a build the panels
update from the build's own events instead (its diagnostics), and no listing runs. A retired
session (another project was opened) publishes nothing more: its late results belong to a
project no longer shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject

from packer.doctor.hash_cache import load_hash_cache
from packer.doctor.hygiene import list_workspace_files
from packer.doctor.one_asset import WorkspaceIndex, registry_fingerprint
from packer.doctor.queries import (
    AssetDetails,
    AssetListing,
    AssetSummary,
    get_asset_details,
    list_assets_indexed,
    summaries_of,
    workspace_index,
)
from packer.doctor.rescan import RescanReport, rescan, rescan_snapshot
from packer.doctor.scan_record import load_scan_record
from packer.doctor.service import DoctorReport, doctor
from packer.doctor.validation_cache import load_validation_cache
from packer.errors import AssetNotFoundError
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import PackerEvent
from packer.lane.sinks import EventSink
from packer.mutations import (
    AssetIdentity,
    MutationAction,
    MutationPreview,
    MutationRequest,
    MutationResult,
    apply_mutation,
    preview_mutation,
)
from studio.services.asset_drop import AssetDrop, classify_asset_drop
from studio.services.asset_key import AssetKey, asset_key
from studio.services.build_process import build_in_child
from studio.services.bus import StudioBus, StudioEvent
from studio.services.preview_data import AssetPreview, NoPreview, make_preview
from studio.services.workers import JobClass, JobFailed, JobInfo, WorkerPool


@dataclass(frozen=True, slots=True)
class DetailsResult:
    key: AssetKey
    details: AssetDetails
    preview: AssetPreview


@dataclass(frozen=True, slots=True)
class RescanOutcome:
    """A rescan's report and what the rows need: the whole listing after a baseline, else the
    summaries of the roots it found new or changed."""

    report: RescanReport
    listing: AssetListing | None
    index: WorkspaceIndex | None  # what one-asset reads compare with from now on
    changed: tuple[AssetSummary, ...]


@dataclass(frozen=True, slots=True)
class AssetsListed(StudioEvent):
    """The packer's asset list of the open project (opened, F5, after a build or a mutation)."""

    listing: AssetListing


@dataclass(frozen=True, slots=True)
class AssetRowsChanged(StudioEvent):
    """Some assets changed (a mutation): `removed` keys are gone from `listing`, `changed` are
    the new summaries (possibly under new keys). `listing` is the session's listing after it."""

    listing: AssetListing
    removed: tuple[AssetKey, ...]
    changed: tuple[AssetSummary, ...]


@dataclass(frozen=True, slots=True)
class AssetDetailsLoaded(StudioEvent):
    result: DetailsResult


@dataclass(frozen=True, slots=True)
class AssetDetailsFailed(StudioEvent):
    key: AssetKey
    message: str


@dataclass(frozen=True, slots=True)
class BuildRunning(StudioEvent):
    """A build of the open project started (True) or its job ended (False)."""

    running: bool


def _asset_ref(key: AssetKey) -> int | str:
    return key[1]


class ProjectSession(QObject):
    def __init__(
        self, project: Project, pool: WorkerPool, bus: StudioBus, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.pool = pool
        self.bus = bus  # the Assets workspace's bus
        self.retired = False
        self.listing: AssetListing | None = None
        # What the last listing saw of every asset: a click then reads that one asset alone
        # (packer.doctor.one_asset); None until the first listing (a click reads everything).
        self.index: WorkspaceIndex | None = None
        self._build_job: JobInfo | None = None
        self._listing_job: JobInfo | None = None
        self._details_job: JobInfo | None = None
        self._listing_generation = 0
        self._rescan_job: JobInfo | None = None
        self._background_jobs: list[JobInfo] = []
        self._baseline_job: JobInfo | None = None
        self._background_wanted = False

    def retire(self) -> None:
        """Another project is open: publish nothing more (late results are dropped)."""
        self.retired = True
        self.cancel_background_work()

    def _publish(self, event: StudioEvent) -> None:
        if not self.retired:
            self.bus.publish(event)

    # -- reads --

    def refresh(self) -> JobInfo | None:
        """Ask the packer for the asset list (F5, and after every build or mutation). The newest
        request wins: an older scan that finishes later (it ran past its last cancellation
        check) is dropped, never shown over a newer listing."""
        if self.retired:
            return None
        if self._listing_job is not None:
            self.pool.cancel(self._listing_job.job_id)
        project = self.project

        def job(sink: EventSink, token: CancellationToken
                ) -> tuple[AssetListing, WorkspaceIndex]:
            return list_assets_indexed(project, sink, token)

        self._listing_generation += 1
        generation = self._listing_generation
        self._listing_job = self.pool.submit(
            f"Scan {project.name}", job,
            on_result=lambda result: self._on_listing(generation, *result),
            on_failure=lambda failure: self._on_no_listing(generation, failure),
        )
        return self._listing_job

    @property
    def rescanning(self) -> bool:
        """A rescan runs (F5, the focus rescan, or the baseline taken after opening)."""
        return (self._rescan_job is not None or self._baseline_job is not None
                or self._background_wanted)

    def rescan(self, *, background: bool = False) -> JobInfo | None:
        """F5 (and the window regaining focus): the packer's rescan, whose asset_discovered /
        asset_changed events go to the Activity; then only the rows it names change, read from
        the rescan's own snapshot (no listing operation). With no previous scan record to
        compare with (the rescan says it recorded a baseline), the whole list is shown again.
        `background`: the Studio's own rescan (the focus rescan), on the background lane like
        the work after opening: cancelled, never asked about, by the user's work."""
        if self.retired:
            return None
        project = self.project

        def job(sink: EventSink, token: CancellationToken) -> RescanOutcome:
            fingerprint = registry_fingerprint(project)  # before the scan reads the registry
            report, snapshot = rescan_snapshot(project, sink, token)
            if report.baseline:
                listing, index = list_assets_indexed(project, sink, token)
                return RescanOutcome(report, listing, index, ())
            if not report.changes:
                return RescanOutcome(report, None, None, ())  # nothing changed: nothing to read
            files = list_workspace_files(project.assets_dir, token)
            roots = [c.root for c in report.changes if c.kind != "removed"]
            changed = summaries_of(project, snapshot, roots, token, files=files)
            # Others changed: one-asset reads compare with what this scan saw of them.
            index = WorkspaceIndex(snapshot, files, hashes=load_hash_cache(project.packer_dir),
                                   validation=load_validation_cache(project),
                                   fingerprint=fingerprint)
            return RescanOutcome(report, None, index, changed)

        def done(outcome: RescanOutcome) -> None:
            self._rescan_ended(info)
            if outcome.index is not None:
                self.index = outcome.index
            if outcome.listing is not None:
                self._listing_generation += 1  # an older listing still running is superseded
                self.listing = outcome.listing
                self._publish(AssetsListed(outcome.listing))
            elif outcome.report.changes:
                self._publish_changed_rows(outcome.report, outcome.changed)

        info = self.pool.submit(f"Rescan {project.name}", job, on_result=done,
                                on_failure=lambda failure: self._rescan_ended(info),
                                background=background)
        self._rescan_job = info
        if background and info is not None:
            running = set(self.pool.running())
            self._background_jobs = [i for i in self._background_jobs if i in running]
            self._background_jobs.append(info)
        return info

    def _rescan_ended(self, info: JobInfo | None) -> None:
        if self._rescan_job is info:
            self._rescan_job = None

    def _publish_changed_rows(self, report: RescanReport,
                              changed: tuple[AssetSummary, ...]) -> None:
        """Replace the rows of the roots the rescan named (a row may change key: an asset
        registered, or moved under its id) and drop those of removed roots."""
        listing = self.listing
        if listing is None:
            self.refresh()  # the first listing is not here yet: let it show what is there now
            return
        named_roots = {c.root for c in report.changes}
        new_keys = {asset_key(a.asset_id, a.root) for a in changed}
        removed = tuple(key for a in listing.assets
                        if (key := asset_key(a.asset_id, a.root)) in new_keys
                        or a.root in named_roots)
        gone = set(removed)
        kept = [a for a in listing.assets if asset_key(a.asset_id, a.root) not in gone]
        self.listing = listing.model_copy(update={"assets": (*kept, *changed)})
        self._publish(AssetRowsChanged(self.listing, removed, changed))

    # -- the Studio's own work after a project opens --

    def start_background_work(self) -> None:
        """After the project opens: take the scan baseline when there is no usable scan record
        (so the first F5 after an edit reports it), then validate formats (doctor, cheap with
        the validation cache), whose diagnostics_updated events fill the navigator's badges.
        Both run on the background lane, one after the other, once the first listing is shown
        (the rows the validation's findings update must be there); a build or a mutation
        cancels them (the user goes first), and a cancelled one is no failure."""
        if self.listing is None:
            self._background_wanted = True  # started by the first listing (_on_listing)
            return
        self._start_background_now()

    def _start_background_now(self) -> None:
        self._background_wanted = False
        if self.retired:
            return
        project = self.project

        def baseline(sink: EventSink, token: CancellationToken) -> RescanReport | None:
            if token.cancelled:
                return None  # cancelled while queued: nothing to say
            if load_scan_record(project, project.project_id).record is not None:
                return None  # a usable record: the next rescan compares with it
            return rescan(project, sink, token)

        def validate(sink: EventSink, token: CancellationToken) -> DoctorReport | None:
            if token.cancelled:
                return None
            return doctor(project, sink=sink, token=token)

        def baseline_ended(outcome: object) -> None:
            if self._baseline_job is first:
                self._baseline_job = None

        first = self.pool.submit(f"Baseline scan of {project.name}", baseline, background=True,
                                 on_result=baseline_ended, on_failure=baseline_ended)
        self._baseline_job = first
        then = self.pool.submit(f"Validate {project.name}", validate, background=True)
        self._background_jobs += [info for info in (first, then) if info is not None]

    def cancel_background_work(self) -> None:
        for info in self._background_jobs:
            self.pool.cancel(info.job_id)
        self._background_jobs = []

    def load_details(self, key: AssetKey) -> JobInfo | None:
        """The details of the asset the user clicked, on the interactive lane (never queued
        behind background reads or the build). A newer click cancels an older read still
        running: the user has moved on, and its result would be dropped anyway."""
        if self._details_job is not None:
            self.pool.cancel(self._details_job.job_id)
        project = self.project
        index = self.index

        def job(sink: EventSink, token: CancellationToken) -> DetailsResult:
            details = get_asset_details(project, _asset_ref(key), sink, token, index=index)
            preview: AssetPreview = NoPreview("No preview: asset.json is missing or not valid.")
            if details.declaration is not None:
                preview = make_preview(
                    details.declaration, project.assets_dir / details.root, token
                )
            return DetailsResult(key, details, preview)

        def done(result: DetailsResult) -> None:
            self._details_ended(info)
            self._publish(AssetDetailsLoaded(result))

        def failed(failure: JobFailed) -> None:
            self._details_ended(info)
            if not failure.cancelled:
                self._publish(AssetDetailsFailed(key, failure.title))

        info = self.pool.submit(
            f"Details of {key[1] if key[0] == 'root' else f'#{key[1]}'}", job,
            on_result=done, on_failure=failed, interactive=True,
        )
        self._details_job = info
        return info

    def _details_ended(self, info: JobInfo | None) -> None:
        if self._details_job is info:
            self._details_job = None

    def look_at_drop(
        self, local: list[str], remote: list[str], on_result: Callable[[AssetDrop], None]
    ) -> JobInfo | None:
        """What files dropped on the navigator (or chosen for a new asset) mean."""
        assets_dir = self.project.assets_dir

        def job(sink: EventSink, token: CancellationToken) -> AssetDrop:
            return classify_asset_drop(local, remote, assets_dir)

        return self.pool.submit("Look at the dropped files", job, on_result=on_result)

    # -- writes --

    def build(self) -> JobInfo | None:
        project = self.project

        def job(sink: EventSink, token: CancellationToken) -> PackerEvent:
            return build_in_child(project, sink, token)

        self.cancel_background_work()  # the user goes first
        info = self.pool.submit(
            f"Build {project.name}", job, job_class=JobClass.WRITE,
            on_result=self._on_build_ended, on_failure=self._on_build_ended,
        )
        if info is not None:
            self._build_job = info
            self._publish(BuildRunning(True))
        return info

    def preview_mutation(
        self, request: MutationRequest, on_preview: Callable[[MutationPreview], None],
        on_failure: Callable[[JobFailed], None],
    ) -> JobInfo | None:
        project = self.project

        def job(sink: EventSink, token: CancellationToken) -> MutationPreview:
            return preview_mutation(project, request, sink, token)

        return self.pool.submit(f"Preview {request.action.verb}", job, on_result=on_preview,
                                on_failure=on_failure)

    def apply_mutation(
        self, preview: MutationPreview, on_result: Callable[[MutationResult], None],
        on_failure: Callable[[JobFailed], None],
    ) -> JobInfo | None:
        """Apply with consent (the caller asked the user); then ask the packer for a new list."""
        project = self.project

        def job(sink: EventSink, token: CancellationToken) -> MutationResult:
            return apply_mutation(project, preview, consent=True, sink=sink, token=token,
                                  command="prometeu-studio")

        self.cancel_background_work()  # the user goes first

        def done(result: MutationResult) -> None:
            on_result(result)
            if result.applied and self.listing is not None:
                self._reread(preview.action, preview.target, result.target)  # that asset only
            else:
                self.refresh()

        def failed(failure: JobFailed) -> None:
            on_failure(failure)
            if not failure.cancelled:
                self.refresh()  # whatever happened on disk, show what the packer now sees

        return self.pool.submit(
            f"{preview.action.verb.capitalize()} {preview.target.label()}", job,
            job_class=JobClass.WRITE, on_result=done, on_failure=failed,
        )

    def _reread(self, action: MutationAction, before: AssetIdentity, after: AssetIdentity
                ) -> None:
        """Read the one asset a mutation changed (by its identity after the change, as the
        mutation's events name it) instead of listing the whole project again."""
        project = self.project
        old_key = asset_key(before.asset_id, before.root)

        # A removed asset is gone (nothing to read); a forgotten one keeps its root, not its id.
        ref: int | str | None = None if action is MutationAction.REMOVE else (
            after.root if action is MutationAction.FORGET or after.asset_id is None
            else after.asset_id)

        def job(sink: EventSink, token: CancellationToken
                ) -> tuple[AssetSummary | None, WorkspaceIndex]:
            # The mutation may have changed what the others see of this asset (its root, its
            # uuid, its name): a new index, then the asset read with it.
            index = workspace_index(project, token)
            if ref is None:
                return None, index
            try:
                details = get_asset_details(project, ref, sink, token, index=index)
            except AssetNotFoundError:
                return None, index  # gone after all: its row goes
            return AssetSummary.model_validate(
                details.model_dump(include=set(AssetSummary.model_fields))), index

        def done(result: tuple[AssetSummary | None, WorkspaceIndex]) -> None:
            summary, self.index = result
            if self.listing is None:
                return
            listing = self.listing
            changed = (summary,) if summary is not None else ()
            new_key = asset_key(summary.asset_id, summary.root) if summary is not None else None
            assets = [a for a in listing.assets
                      if asset_key(a.asset_id, a.root) not in (old_key, new_key)]
            self.listing = listing.model_copy(update={"assets": (*assets, *changed)})
            self._publish(AssetRowsChanged(self.listing, (old_key,), changed))

        def failed(failure: JobFailed) -> None:
            self.refresh()  # whatever happened, show what the packer now sees

        self.pool.submit(f"Read {after.label()} after the change", job, on_result=done,
                         on_failure=failed)

    def cancel_build(self) -> None:
        if self._build_job is not None:
            self.pool.cancel(self._build_job.job_id)

    @property
    def building(self) -> bool:
        return self._build_job is not None

    # -- outcomes --

    def _on_listing(self, generation: int, listing: AssetListing, index: WorkspaceIndex
                    ) -> None:
        if generation != self._listing_generation:
            return  # superseded by a newer refresh
        self._listing_job = None
        self.listing = listing
        self.index = index
        self._publish(AssetsListed(listing))
        if self._background_wanted:
            self._start_background_now()

    def _on_no_listing(self, generation: int, failure: JobFailed) -> None:
        if generation == self._listing_generation:
            self._listing_job = None
            if self._background_wanted and not failure.cancelled:
                self._start_background_now()  # no rows to wait for: the rest still helps

    def _on_build_ended(self, outcome: object) -> None:
        self._build_job = None
        self._publish(BuildRunning(False))
