"""The Assets workspace: the navigator on the left, the selected asset's details on the right,
and the New Asset preview for files dropped on the navigator or chosen with "New Asset…"."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from packer.diagnostics import Severity
from packer.lane.events import DiagnosticsUpdatedDetail, Outcome
from packer.mutations import MutationResult
from studio.panels.assets.actions import ActionsPanel
from studio.panels.assets.details import AssetDetails
from studio.panels.assets.navigator import AssetNavigator
from studio.panels.assets.new_asset import NewAssetDialog
from studio.panels.assets.rows import AssetRow, RowState, row_from_summary
from studio.panels.prompts import Prompter
from studio.services.asset_drop import AssetDrop, AssetDropKind
from studio.services.asset_key import AssetKey, asset_key
from studio.services.bus import PackerEventsDelivered, StudioBus, Subscription
from studio.services.session import (
    AssetDetailsFailed,
    AssetDetailsLoaded,
    AssetRowsChanged,
    AssetsListed,
    DetailsResult,
    ProjectSession,
)

# Operations whose findings update the navigator's badges as they arrive.
BADGE_OPERATIONS = frozenset({"build", "doctor"})
VALIDATED = frozenset({Outcome.SUCCEEDED, Outcome.BLOCKED})  # a doctor that ran to its end


class AssetsWorkspace(QWidget):
    """Shows what the session reports; turns the user's selection into details requests."""

    selection_changed = Signal(object)  # AssetKey or None
    project_dropped = Signal(object)  # Path: a project folder dropped on the navigator opens

    def __init__(self, prompter: Prompter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompter = prompter
        self.session: ProjectSession | None = None
        self.navigator = AssetNavigator()
        self.action_panel = ActionsPanel(prompter)
        self.details = AssetDetails(self.action_panel)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("assets_splitter")
        self.splitter.addWidget(self.navigator)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self._layout = layout
        self._listing_generation = 0
        self._details_request: tuple[AssetKey, int] | None = None
        self.shown: DetailsResult | None = None
        self._pending_selection: AssetKey | None = None
        self._subscriptions: list[Subscription] = []
        self.operation_bar: QWidget | None = None
        self.navigator.asset_selected.connect(self._on_asset_selected)
        self.action_panel.applied.connect(self._on_mutation_applied)
        self.action_panel.preview_shown.connect(self._on_mutation_preview_shown)
        self.new_asset = NewAssetDialog(self)
        self.new_asset.applied.connect(self._on_new_asset_applied)
        self.navigator.files_dropped.connect(self._on_files_dropped)
        self.navigator.new_asset_requested.connect(self.ask_new_asset)

    def follow(self, bus: StudioBus, global_bus: StudioBus) -> None:
        """Hear the open project's listing and details on the Assets workspace's bus, and the
        packer's events (a build's findings) on the global bus."""
        for subscription in self._subscriptions:
            subscription.unsubscribe()
        self._subscriptions = [
            bus.subscribe(AssetsListed, self._on_assets_listed),
            bus.subscribe(AssetRowsChanged, self._on_rows_changed),
            bus.subscribe(AssetDetailsLoaded, self._on_details_loaded),
            bus.subscribe(AssetDetailsFailed, self._on_details_failed),
            global_bus.subscribe(PackerEventsDelivered, self._on_packer_events),
        ]

    def set_operation_bar(self, bar: QWidget | None) -> None:
        """The inline progress bar of this workspace's running operations (scans, doctor,
        mutations), shown above the navigator while one runs; replaces the previous one."""
        if self.operation_bar is not None:
            self.operation_bar.setParent(None)
            self.operation_bar.deleteLater()
        self.operation_bar = bar
        if bar is not None:
            self._layout.insertWidget(0, bar)

    def set_session(self, session: ProjectSession | None) -> None:
        """The project whose assets are shown (None: none); its results arrive on the bus."""
        self.session = session
        self.new_asset.close()
        self._details_request = None
        self.shown = None
        self.navigator.set_workspace_problems(())
        self.navigator.set_rows([])
        self.details.show_details(None)
        self.action_panel.set_session(session)

    def select_asset(self, key: AssetKey | None) -> bool:
        return self.navigator.select(key)

    def restore_selection(self, key: AssetKey) -> None:
        """Select this asset once the next listing arrives (a restored session)."""
        self._pending_selection = key

    # -- session results --

    def _on_assets_listed(self, event: AssetsListed) -> None:
        listing = event.listing
        self._listing_generation += 1
        self.navigator.set_workspace_problems(listing.workspace_diagnostics)
        key, self._pending_selection = self._pending_selection, None
        self.navigator.set_rows([row_from_summary(a) for a in listing.assets], select=key)

    def _on_rows_changed(self, event: AssetRowsChanged) -> None:
        """One asset changed (a mutation): only its row changes, and its details are read
        again when they are the ones shown."""
        self._listing_generation += 1  # what is shown predates the change
        key, self._pending_selection = self._pending_selection, None
        rows = [row_from_summary(a) for a in event.changed]
        self.navigator.replace_rows(event.removed, rows, select=key)
        selected = self.navigator.selected_key()
        if selected is not None and self.session is not None and any(
            r.key == selected for r in rows
        ) and self._details_request != (selected, self._listing_generation):
            self._details_request = (selected, self._listing_generation)
            self.session.load_details(selected)

    def _on_details_loaded(self, event: AssetDetailsLoaded) -> None:
        result = event.result
        if self._details_request is None or result.key != self._details_request[0]:
            return  # the user has moved on to another asset
        self.shown = result
        self.details.show_details(result.details)
        self.details.preview.show_preview(result.preview)
        self.action_panel.show_details(result.details)

    def _on_details_failed(self, event: AssetDetailsFailed) -> None:
        if self._details_request is not None and event.key == self._details_request[0]:
            self.details.preview.show_message(event.message)

    def _on_packer_events(self, delivered: PackerEventsDelivered) -> None:
        """A build's or a doctor's findings update the rows they concern (no listing runs
        after either; doctor runs on its own after a project opens: background validation).
        The listing counts hygiene and structural findings but only the format errors the
        validation cache knew; a row shows, per severity, the larger of the two counts (the
        operation's findings include the structural ones the listing already counted). A
        doctor that ended validated every asset but the unregistered ones: their "unchecked"
        mark goes."""
        listing = self.session.listing if self.session is not None else None
        if listing is None:
            return
        found: dict[str, Counter[str]] = {}
        validated = False
        for item in delivered.items:
            event = item.event
            detail = event.detail
            if (item.origin is not None or event.operation not in BADGE_OPERATIONS
                    or event.project_id != listing.project_id):
                continue  # replayed, another operation, or a project no longer shown
            if event.operation == "doctor" and event.terminal:
                # (Its totals repeat the per-asset events' findings.)
                validated = validated or event.outcome in VALIDATED
                continue
            if isinstance(detail, DiagnosticsUpdatedDetail):
                for diagnostic in detail.diagnostics:
                    if diagnostic.root is not None:
                        found.setdefault(diagnostic.root, Counter())[diagnostic.severity] += 1
        if not found and not validated:
            return
        rows = [r for r in self.navigator.rows()
                if r.root in found or (validated and r.unchecked
                                       and r.state is not RowState.UNREGISTERED)]
        none: Counter[str] = Counter()
        self.navigator.update_rows([replace(
            row,
            errors=max(row.errors, found.get(row.root, none)[Severity.ERROR.value]),
            warnings=max(row.warnings, found.get(row.root, none)[Severity.WARNING.value]),
            infos=max(row.infos, found.get(row.root, none)[Severity.INFO.value]),
            unchecked=row.unchecked and not (validated
                                             and row.state is not RowState.UNREGISTERED),
        ) for row in rows])
        shown = self.shown
        if (shown is not None and shown.details.root in found and self.session is not None
                and (self._details_request is None or self._details_request[0] == shown.key)):
            # (Not while the user's click on another asset is loading: that read goes on.)
            self._details_request = (shown.key, self._listing_generation)
            self.session.load_details(shown.key)  # its diagnostics section, with the findings

    @Slot(object)
    def _on_mutation_applied(self, result: MutationResult) -> None:
        if result.applied:
            # Follow the asset to its new identity (a registered asset gets an id).
            self.restore_selection(asset_key(result.target.asset_id, result.target.root))
        self.details.reveal(self.action_panel.result)  # the outcome, where the user clicked

    @Slot()
    def _on_mutation_preview_shown(self) -> None:
        # The card sits at the bottom of a long pane: bring it (and its Apply) into view.
        self.details.reveal(self.action_panel.preview_card)

    # -- new assets from files --

    @Slot()
    def ask_new_asset(self) -> None:
        """"New Asset…": choose a folder of files (in assets/, or elsewhere to copy in)."""
        if self.session is None:
            return
        folder = self.prompter.choose_folder(self, "Choose the folder of files for the new asset")
        if folder is not None:
            self.session.look_at_drop([str(folder)], [], self._on_drop_looked_at)

    @Slot(list, list)
    def _on_files_dropped(self, local: list[str], remote: list[str]) -> None:
        if self.session is not None:
            self.session.look_at_drop(local, remote, self._on_drop_looked_at)

    def propose_new_asset(self, local: list[str]) -> None:
        """Files of the open project dropped elsewhere on the window: a new asset too."""
        self._on_files_dropped(local, [])

    def _on_drop_looked_at(self, drop: AssetDrop) -> None:
        if drop.kind is AssetDropKind.OPEN_PROJECT and drop.path is not None:
            self.project_dropped.emit(Path(drop.path))
        elif drop.kind is AssetDropKind.REFUSED or self.session is None:
            self.prompter.refuse(self, "Cannot make an asset of this", drop.message)
        else:
            self.new_asset.propose(self.session, drop)

    @Slot(object)
    def _on_new_asset_applied(self, result: MutationResult) -> None:
        if result.applied:
            self.restore_selection(asset_key(result.target.asset_id, result.target.root))

    # -- user input --

    @Slot(object)
    def _on_asset_selected(self, row: AssetRow | None) -> None:
        self.selection_changed.emit(row.key if row else None)
        if row is None:
            self._details_request = None
            self.shown = None
            self.details.show_details(None)
            self.action_panel.show_details(None)
            return
        request = (row.key, self._listing_generation)
        if request == self._details_request or self.session is None:
            return  # same asset, same listing: what is shown is still current
        self._details_request = request
        self.session.load_details(row.key)
