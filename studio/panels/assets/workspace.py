"""The Assets workspace: the navigator on the left, the selected asset's details on the right,
and the New Asset preview for files dropped on the navigator or chosen with "New Asset…"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from packer.doctor.queries import AssetListing
from packer.mutations import MutationResult
from studio.panels.assets.actions import ActionsPanel
from studio.panels.assets.details import AssetDetails
from studio.panels.assets.navigator import AssetNavigator
from studio.panels.assets.new_asset import NewAssetDialog
from studio.panels.assets.rows import AssetRow, row_from_summary
from studio.panels.prompts import Prompter
from studio.services.asset_drop import AssetDrop, AssetDropKind
from studio.services.asset_key import AssetKey, asset_key
from studio.services.session import DetailsResult, ProjectSession


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
        self._listing_generation = 0
        self._details_request: tuple[AssetKey, int] | None = None
        self.shown: DetailsResult | None = None
        self._pending_selection: AssetKey | None = None
        self.navigator.asset_selected.connect(self._on_asset_selected)
        self.action_panel.applied.connect(self._on_mutation_applied)
        self.action_panel.preview_shown.connect(self._on_mutation_preview_shown)
        self.new_asset = NewAssetDialog(self)
        self.new_asset.applied.connect(self._on_new_asset_applied)
        self.navigator.files_dropped.connect(self._on_files_dropped)
        self.navigator.new_asset_requested.connect(self.ask_new_asset)

    def set_session(self, session: ProjectSession | None) -> None:
        if self.session is not None:
            self.session.listing_changed.disconnect(self._on_listing_changed)
            self.session.details_loaded.disconnect(self._on_details_loaded)
            self.session.details_failed.disconnect(self._on_details_failed)
        self.session = session
        self.new_asset.close()
        self._details_request = None
        self.shown = None
        self.navigator.set_workspace_problems(())
        self.navigator.set_rows([])
        self.details.show_details(None)
        self.action_panel.set_session(session)
        if session is not None:
            session.listing_changed.connect(self._on_listing_changed)
            session.details_loaded.connect(self._on_details_loaded)
            session.details_failed.connect(self._on_details_failed)

    def select_asset(self, key: AssetKey | None) -> bool:
        return self.navigator.select(key)

    def restore_selection(self, key: AssetKey) -> None:
        """Select this asset once the next listing arrives (a restored session)."""
        self._pending_selection = key

    # -- session results --

    @Slot(object)
    def _on_listing_changed(self, listing: AssetListing) -> None:
        self._listing_generation += 1
        self.navigator.set_workspace_problems(listing.workspace_diagnostics)
        key, self._pending_selection = self._pending_selection, None
        self.navigator.set_rows([row_from_summary(a) for a in listing.assets], select=key)

    @Slot(object)
    def _on_details_loaded(self, result: DetailsResult) -> None:
        if self._details_request is None or result.key != self._details_request[0]:
            return  # the user has moved on to another asset
        self.shown = result
        self.details.show_details(result.details)
        self.details.preview.show_preview(result.preview)
        self.action_panel.show_details(result.details)

    @Slot(object, str)
    def _on_details_failed(self, key: AssetKey, message: str) -> None:
        if self._details_request is not None and key == self._details_request[0]:
            self.details.preview.show_message(message)

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
