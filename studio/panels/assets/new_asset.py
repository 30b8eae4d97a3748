"""New Asset: the preview of an asset made from files, with its settings, before anything is
written. It shows the asset.json the packer would write, the files left out and why, the
diagnostics the asset would have and the registry and disk changes; Apply writes and registers.

Files from outside the project are copied into the folder chosen here ("Copy into"), as part of
the same preview and apply: nothing is copied before Apply.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from packer.mutations import (
    MutationAction,
    MutationPreview,
    MutationRequest,
    MutationResult,
    SafeFix,
)
from packer.mutations.proposal import ASSET_TYPES
from studio.panels.assets.actions import describe_preview, preview_title
from studio.services.asset_drop import AssetDrop, AssetDropKind
from studio.services.session import ProjectSession
from studio.services.workers import JobFailed

AUTOMATIC = "Automatic (from the files)"


def describe_proposal(preview: MutationPreview) -> str:
    """The declaration, the files left out and the findings, as simple HTML."""
    proposal = preview.proposal
    if proposal is None:
        return ""
    parts = [f"<b>asset.json</b><pre>{escape(proposal.declaration_text)}</pre>"]
    if proposal.diagnostics:
        items = "".join(
            f"<li><span style='color:{'#c62828' if d.blocking else '#9a6700'}'>"
            f"{escape(d.code)}</span> {escape(d.message)}</li>" for d in proposal.diagnostics)
        parts.append(f"<b>Diagnostics the new asset would have</b><ul>{items}</ul>")
    else:
        parts.append("<b>Diagnostics the new asset would have:</b> none<br>")
    if proposal.skipped:
        items = "".join(f"<li>{escape(s.path)}: {escape(s.reason)}</li>"
                        for s in proposal.skipped)
        parts.append(f"<b>Not inputs</b><ul>{items}</ul>")
    return "".join(parts)


class NewAssetDialog(QDialog):
    """One proposal at a time; changing a setting asks the packer for a new preview."""

    applied = Signal(object)  # MutationResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Asset")
        self.setObjectName("new_asset_dialog")
        self.resize(560, 640)
        self.session: ProjectSession | None = None
        self.drop: AssetDrop | None = None
        self.preview: MutationPreview | None = None
        self._asked: MutationRequest | None = None
        self.origin = QLabel()
        self.origin.setWordWrap(True)
        form = self._build_settings()
        self.title = QLabel()
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addWidget(self.origin)
        layout.addLayout(form)
        layout.addWidget(self.title)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.type_choice.currentIndexChanged.connect(self._on_setting_changed)
        self.derive_palette.toggled.connect(self._on_setting_changed)
        self.name_edit.editingFinished.connect(self._on_setting_changed)
        self.destination.editingFinished.connect(self._on_setting_changed)

    def _build_buttons(self) -> QHBoxLayout:
        self.refresh_button = QPushButton("Preview Again")
        self.fix_button = QPushButton("Leave Out the Files with Errors")
        self.fix_button.hide()
        self.apply_button = QPushButton("Create Asset")
        self.cancel_button = QPushButton("Cancel")
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.fix_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.apply_button)
        self.refresh_button.clicked.connect(self._on_setting_changed)
        self.fix_button.clicked.connect(self._on_use_fix)
        self.apply_button.clicked.connect(self._on_apply)
        self.cancel_button.clicked.connect(self.close)
        return buttons

    def _build_settings(self) -> QFormLayout:
        self.type_choice = QComboBox()
        self.type_choice.addItem(AUTOMATIC, None)
        for asset_type in ASSET_TYPES:
            self.type_choice.addItem(asset_type, asset_type)
        self.name_edit = QLineEdit(placeholderText="from the folder's name")
        self.derive_palette = QCheckBox("Derive a palette from the tiles' colours")
        self.destination = QLineEdit()
        self.destination.setAccessibleName("Copy into")
        self.destination.setToolTip("The new folder under assets/ the files are copied into")
        form = QFormLayout()
        form.addRow("Type:", self.type_choice)
        form.addRow("Name:", self.name_edit)
        form.addRow("", self.derive_palette)
        form.addRow("Copy into (under assets/):", self.destination)
        self._destination_label = form.labelForField(self.destination)
        return form

    def propose(self, session: ProjectSession, drop: AssetDrop) -> None:
        """Show the dialog for a folder (or files) and ask for the first preview."""
        self.session, self.drop = session, drop
        copy_in = drop.kind is AssetDropKind.COPY_IN
        what = f"{len(drop.files)} file(s) of " if drop.files else ""
        self.origin.setText(
            f"Copy {what}{drop.source} into the project as a new asset." if copy_in
            else f"Make an asset of {what}assets/{drop.root}.")
        self.destination.setText((drop.root or "") if copy_in else "")
        self.destination.setVisible(copy_in)
        if self._destination_label is not None:
            self._destination_label.setVisible(copy_in)
        self.type_choice.blockSignals(True)
        self.type_choice.setCurrentIndex(0)
        self.type_choice.blockSignals(False)
        self.name_edit.clear()
        self.derive_palette.blockSignals(True)
        self.derive_palette.setChecked(False)
        self.derive_palette.blockSignals(False)
        self._show(None)
        self.show()
        self.raise_()
        self._request_preview()

    def request(self) -> MutationRequest | None:
        drop = self.drop
        if drop is None:
            return None
        copy_in = drop.kind is AssetDropKind.COPY_IN
        root = self.destination.text().strip() if copy_in else drop.root
        if not root:
            return None
        return MutationRequest(
            action=MutationAction.NEW, asset=root, files=drop.files,
            source=drop.source if copy_in else None, asset_type=self.type_choice.currentData(),
            name=self.name_edit.text().strip() or None,
            derive_palette=self.derive_palette.isChecked(),
        )

    def _request_preview(self) -> None:
        request, session = self.request(), self.session
        if request is None or session is None:
            self.status.setText("Choose the folder under assets/ to copy the files into.")
            return
        if request == self._asked and self.preview is not None:
            return
        self._asked = request
        self.apply_button.setEnabled(False)
        self.status.setText("Previewing…")
        session.preview_mutation(request, self._on_previewed, self._on_failed)

    def _on_previewed(self, preview: MutationPreview) -> None:
        if preview.request != self._asked:
            return  # a newer request is on its way
        self.status.clear()
        self._show(preview)

    def _show(self, preview: MutationPreview | None) -> None:
        self.preview = preview
        if preview is None:
            self.title.clear()
            self.body.clear()
            self.apply_button.setEnabled(False)
            self.fix_button.hide()
            return
        self.title.setText(preview_title(preview))
        self.body.setText(describe_proposal(preview) + describe_preview(preview))
        self.apply_button.setEnabled(not preview.blocked)
        fix = self._files_fix()
        self.fix_button.setVisible(fix is not None)
        if fix is not None:
            self.fix_button.setToolTip(fix.description)

    def _files_fix(self) -> SafeFix | None:
        """The packer's offer to leave out the files with errors, if it made one."""
        preview = self.preview
        fixes = preview.safe_fixes if preview is not None else ()
        return next((f for f in fixes if f.request is not None
                     and f.request.action is MutationAction.NEW), None)

    @Slot()
    def _on_use_fix(self) -> None:
        fix, drop = self._files_fix(), self.drop
        if fix is not None and fix.request is not None and drop is not None:
            self.drop = replace(drop, files=fix.request.files)
            self._request_preview()

    def _on_failed(self, failure: JobFailed) -> None:
        self._show(None)
        self.status.setText(f"{failure.title}. Details are in the Logs panel."
                            if not failure.cancelled else failure.title)

    @Slot()
    def _on_setting_changed(self) -> None:
        if self.isVisible():
            self._request_preview()

    @Slot()
    def _on_apply(self) -> None:
        preview, session = self.preview, self.session
        if preview is None or session is None or preview.blocked:
            return
        self.apply_button.setEnabled(False)
        self.status.setText("Creating the asset…")
        if session.apply_mutation(preview, self._on_applied, self._on_failed) is None:
            self.apply_button.setEnabled(True)

    def _on_applied(self, result: MutationResult) -> None:
        self.status.setText(result.message)
        self.applied.emit(result)
        if result.applied:
            self._asked = None
            self._show(None)
            self.close()
        else:
            self.status.setStyleSheet("color: #c62828;")
