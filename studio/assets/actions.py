"""The Actions section: the mutations the packer offers for the selected asset, each through
preview → consent → apply. The preview is shown inline; destructive ones ask once more."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from packer.mutations import (
    MutationAction,
    MutationPreview,
    MutationRequest,
    MutationResult,
    OperationClass,
)
from packer.queries import AssetDetails
from packer.scan import AssetState
from studio.prompts import Prompter
from studio.session import ProjectSession

A = MutationAction
# Which mutations make sense in which state; the packer's preview still has the last word.
ACTIONS_BY_STATE: dict[tuple[AssetState, bool], tuple[MutationAction, ...]] = {
    (AssetState.UNREGISTERED, False): (A.REGISTER, A.RELOCATE, A.REMOVE),
    (AssetState.REGISTERED, True): (A.EXCLUDE, A.RENAME, A.RELOCATE, A.QUARANTINE, A.FORGET,
                                    A.REMOVE),
    (AssetState.REGISTERED, False): (A.INCLUDE, A.RENAME, A.RELOCATE, A.QUARANTINE, A.FORGET,
                                     A.REMOVE),
    (AssetState.MISSING, True): (A.RELOCATE, A.FORGET),
    (AssetState.MISSING, False): (A.RELOCATE, A.FORGET),
    (AssetState.QUARANTINED, False): (A.RESTORE, A.FORGET, A.REMOVE),
    (AssetState.QUARANTINED, True): (A.RESTORE, A.FORGET, A.REMOVE),
}
DESTRUCTIVE = frozenset({A.REMOVE})
LABELS = {
    A.REGISTER: "Register", A.ADOPT: "Adopt", A.FORGET: "Forget", A.REMOVE: "Remove files…",
    A.QUARANTINE: "Quarantine", A.RESTORE: "Restore", A.RELOCATE: "Move / Rename Folder…",
    A.INCLUDE: "Include in Build", A.EXCLUDE: "Exclude from Build", A.RENAME: "Rename…",
}


def actions_for(details: AssetDetails) -> tuple[MutationAction, ...]:
    return ACTIONS_BY_STATE.get((details.state, details.included_in_build), ())


@dataclass(frozen=True, slots=True)
class _Target:
    asset: int | str
    root: str
    name: str | None


def describe_preview(preview: MutationPreview) -> str:
    """The inline preview as simple HTML: class, changes, blockers, warnings, safe fixes."""
    kind = ("registry only (files stay)" if preview.operation_class
            is OperationClass.REGISTRY_MUTATION else "moves, changes or deletes files")
    parts = [f"<b>{preview.action.verb.capitalize()} {_esc(preview.target.label())}</b> — {kind}"]
    lines = preview.change_lines()
    parts.append("<b>Changes</b><ul>" + "".join(f"<li>{_esc(c)}</li>" for c in lines) + "</ul>"
                 if lines else "<i>Nothing would change.</i>")
    if preview.blockers:
        parts.append("<b style='color:#c62828'>Blocked</b><ul>" + "".join(
            f"<li>{_esc(n.message)}{' — ' + _esc(n.fix) if n.fix else ''}</li>"
            for n in preview.blockers) + "</ul>")
    if preview.warnings:
        parts.append("<b>Warnings</b><ul>" + "".join(
            f"<li>{_esc(n.message)}</li>" for n in preview.warnings) + "</ul>")
    if preview.safe_fixes:
        parts.append("<b>Safe fixes</b><ul>" + "".join(
            f"<li>{_esc(f.description)}</li>" for f in preview.safe_fixes) + "</ul>")
    return "".join(parts)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ActionsPanel(QWidget):
    applied = Signal(object)  # MutationResult (applied or not)

    def __init__(self, prompter: Prompter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompter = prompter
        self.session: ProjectSession | None = None
        self._target: _Target | None = None
        self.preview: MutationPreview | None = None
        self.buttons: dict[MutationAction, QPushButton] = {}
        self.button_grid = QGridLayout()
        self.hint = QLabel("Select an asset to see what can be done with it.")
        self.preview_view = QTextBrowser()
        self.preview_view.setMinimumHeight(120)
        self.preview_view.hide()
        self.apply_button = QPushButton("Apply")
        self.discard_button = QPushButton("Discard")
        self.result = QLabel()
        self.result.setWordWrap(True)
        consent = QHBoxLayout()
        consent.addStretch(1)
        consent.addWidget(self.discard_button)
        consent.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addLayout(self.button_grid)
        layout.addWidget(self.preview_view)
        layout.addLayout(consent)
        layout.addWidget(self.result)
        self.apply_button.clicked.connect(self._on_apply)
        self.discard_button.clicked.connect(self._on_discard)
        self._set_preview(None)

    def set_session(self, session: ProjectSession | None) -> None:
        self.session = session
        self.show_details(None)

    def show_details(self, details: AssetDetails | None) -> None:
        for button in self.buttons.values():
            button.deleteLater()
        self.buttons.clear()
        if details is None:
            self._target = None
            self._set_preview(None)
            self.result.clear()
            self.hint.setText("Select an asset to see what can be done with it.")
            return
        target = _Target(
            details.asset_id if details.asset_id is not None else details.root,
            details.root, details.name,
        )
        if self._target is None or target.asset != self._target.asset:
            # Another asset: its predecessor's preview and result no longer apply. (Fresh details
            # of the same asset keep a pending preview; the packer refuses it if it went stale.)
            self._set_preview(None)
            self.result.clear()
        self._target = target
        offered = actions_for(details)
        self.hint.setText("Each action is previewed first; nothing changes until you apply it."
                          if offered else "No actions for this asset.")
        for position, action in enumerate(offered):
            button = QPushButton(LABELS[action])
            button.setProperty("mutation_action", action.value)
            button.clicked.connect(self._on_action_clicked)
            self.button_grid.addWidget(button, position // 3, position % 3)
            self.buttons[action] = button

    # -- preview --

    def request_preview(self, action: MutationAction) -> bool:
        target, session = self._target, self.session
        if target is None or session is None:
            return False
        to = name = None
        if action is A.RELOCATE:
            to = self.prompter.ask_text(self, "Move asset folder",
                                        "New folder, relative to assets/:", target.root)
            if to is None:
                return False
        elif action is A.RENAME:
            name = self.prompter.ask_text(self, "Rename asset",
                                          "New logical name (game code refers to it):",
                                          target.name or "")
            if name is None:
                return False
        request = MutationRequest(action=action, asset=target.asset, to=to, name=name)
        self.result.setText(f"Previewing {action.verb}…")
        return session.preview_mutation(request, self._on_previewed) is not None

    def _on_previewed(self, preview: MutationPreview) -> None:
        target = self._target
        if target is None or preview.request.asset != target.asset:
            return  # the user moved on to another asset
        self.result.clear()
        self._set_preview(preview)

    def _set_preview(self, preview: MutationPreview | None) -> None:
        self.preview = preview
        self.preview_view.setVisible(preview is not None)
        self.apply_button.setVisible(preview is not None)
        self.discard_button.setVisible(preview is not None)
        if preview is not None:
            self.preview_view.setHtml(describe_preview(preview))
            self.apply_button.setEnabled(not preview.blocked and not preview.changes_nothing)
            self.apply_button.setText(f"Apply {preview.action.verb}")

    # -- consent and apply --

    @Slot()
    def _on_apply(self) -> None:
        preview, session = self.preview, self.session
        if preview is None or session is None:
            return
        if preview.consent_required or preview.action in DESTRUCTIVE:
            lines = "\n".join(preview.change_lines())
            if not self.prompter.confirm(
                self, f"{preview.action.verb.capitalize()} {preview.target.label()}?",
                f"This changes files on disk:\n{lines}", action=f"Yes, {preview.action.verb}",
                destructive=True,
            ):
                self.result.setText("Not applied.")
                return
        self.apply_button.setEnabled(False)
        if session.apply_mutation(preview, self._on_applied) is None:
            self.apply_button.setEnabled(True)

    def _on_applied(self, result: MutationResult) -> None:
        self._set_preview(None)
        self.result.setText(result.message)
        self.result.setStyleSheet("" if result.applied else "color: #c62828;")
        self.applied.emit(result)

    @Slot()
    def _on_discard(self) -> None:
        self._set_preview(None)

    @Slot()
    def _on_action_clicked(self) -> None:
        button = self.sender()
        if isinstance(button, QPushButton):
            self.request_preview(MutationAction(str(button.property("mutation_action"))))
