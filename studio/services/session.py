"""One open project: runs its packer calls on the worker pool and publishes their results.

Panels never call the packer; they ask the session, and hear the results on the Studio bus: the
session publishes on the Assets workspace's bus (which republishes on the global bus), so panels
stay ignorant of the session's callers and of each other. F5 runs the packer's rescan, and only
when it reports changes a listing whose changed rows alone are published. After a mutation the
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

from packer.build import BuildResult, build
from packer.doctor.one_asset import WorkspaceIndex
from packer.doctor.queries import (
    AssetDetails,
    AssetListing,
    AssetSummary,
    get_asset_details,
    list_assets_indexed,
    workspace_index,
)
from packer.doctor.rescan import RescanReport, rescan
from packer.errors import AssetNotFoundError
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
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
from studio.services.bus import StudioBus, StudioEvent
from studio.services.preview_data import AssetPreview, NoPreview, make_preview
from studio.services.workers import JobClass, JobFailed, JobInfo, WorkerPool


@dataclass(frozen=True, slots=True)
class DetailsResult:
    key: AssetKey
    details: AssetDetails
    preview: AssetPreview


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

    def retire(self) -> None:
        """Another project is open: publish nothing more (late results are dropped)."""
        self.retired = True

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
            on_failure=lambda failure: self._on_no_listing(generation),
        )
        return self._listing_job

    def rescan(self) -> JobInfo | None:
        """F5: the packer's rescan (its asset_discovered / asset_changed events go to the
        Activity), then only the rows it names change. With no previous scan record to compare
        with (the rescan says it recorded a baseline), the whole list is shown again."""
        if self.retired:
            return None
        project = self.project
        known = self.listing

        def job(sink: EventSink, token: CancellationToken
                ) -> tuple[RescanReport, tuple[AssetListing, WorkspaceIndex] | None]:
            report = rescan(project, sink, token)
            if not report.baseline and not report.changes:
                return report, None  # nothing changed: nothing to read
            return report, list_assets_indexed(project, sink, token)

        def done(result: tuple[RescanReport, tuple[AssetListing, WorkspaceIndex] | None]
                 ) -> None:
            report, listed = result
            if listed is None:
                return
            listing, self.index = listed
            self._listing_generation += 1  # an older listing still running is superseded
            if report.baseline or known is None or self.listing is not known:
                self.listing = listing
                self._publish(AssetsListed(listing))
                return
            self._publish_changed_rows(known, listing, report)

        return self.pool.submit(f"Rescan {project.name}", job, on_result=done)

    def _publish_changed_rows(self, before: AssetListing, after: AssetListing,
                              report: RescanReport) -> None:
        old = {asset_key(a.asset_id, a.root): a for a in before.assets}
        new = {asset_key(a.asset_id, a.root): a for a in after.assets}
        named = {asset_key(c.asset_id, c.root) for c in report.changes}
        removed = tuple(k for k in old if k not in new)
        changed = tuple(a for k, a in new.items() if k in named or k not in old)
        self.listing = after
        self._publish(AssetRowsChanged(after, removed, changed))

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

        def job(sink: EventSink, token: CancellationToken) -> BuildResult:
            return build(project, sink, token)

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

    def _on_no_listing(self, generation: int) -> None:
        if generation == self._listing_generation:
            self._listing_job = None

    def _on_build_ended(self, outcome: object) -> None:
        self._build_job = None
        self._publish(BuildRunning(False))
