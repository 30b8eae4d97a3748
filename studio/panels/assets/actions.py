"""The Actions section: the mutations the packer offers for the selected asset, each through
preview → consent → apply. The preview is shown inline; destructive ones ask once more."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QResizeEvent, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from packer.doctor.queries import AssetDetails
from packer.mutations import (
    MutationAction,
    MutationPreview,
    MutationRequest,
    MutationResult,
    OperationClass,
)
from packer.workspace.scan import AssetState
from studio.panels.prompts import Prompter
from studio.services.session import ProjectSession
from studio.services.workers import JobFailed

A = MutationAction
# Which mutations make sense in which state; the packer's preview still has the last word.
ACTIONS_BY_STATE: dict[tuple[AssetState, bool], tuple[MutationAction, ...]] = {
    # Adopt, not register (the same change): the packer's fix for an unregistered asset, and
    # its CLI command, say 'adopt', so the button the user looks for says it too.
    (AssetState.UNREGISTERED, False): (A.ADOPT, A.RELOCATE, A.REMOVE),
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
# The questions the Move / Rename Folder… and Rename… actions ask (prompts.text_question).
MOVE_TITLE, MOVE_LABEL = "Move asset folder", "New folder, relative to assets/:"
RENAME_TITLE, RENAME_LABEL = "Rename asset", "New logical name (game code refers to it):"

LABELS = {
    A.REGISTER: "Register", A.ADOPT: "Adopt", A.FORGET: "Forget", A.REMOVE: "Remove files…",
    A.QUARANTINE: "Quarantine", A.RESTORE: "Restore", A.RELOCATE: "Move / Rename Folder…",
    A.INCLUDE: "Include in Build", A.EXCLUDE: "Exclude from Build", A.RENAME: "Rename…",
}
TOOLTIPS = {
    A.REGISTER: "Register this asset: give it an id so it is built.",
    A.ADOPT: "Register this asset: give it an id so it is built (prometeu-packer adopt).",
    A.FORGET: "Take it out of the registry (its id is retired for good); its files stay.",
    A.REMOVE: "Delete the asset's folder from disk (and its registry entry). Asks again.",
    A.QUARANTINE: "Move its folder into .prometeu/quarantine/ (kept, not built) until restored.",
    A.RESTORE: "Bring a quarantined asset back where it was.",
    A.RELOCATE: "Move its folder elsewhere under assets/; its id stays the same.",
    A.INCLUDE: "Build it into assets.pa again.",
    A.EXCLUDE: "Keep it registered but leave it out of assets.pa.",
    A.RENAME: "Change its logical name (the one game code refers to).",
}


def actions_for(details: AssetDetails) -> tuple[MutationAction, ...]:
    return ACTIONS_BY_STATE.get((details.state, details.included_in_build), ())


@dataclass(frozen=True, slots=True)
class _Target:
    asset: int | str
    root: str
    name: str | None

    def same_asset(self, other: _Target) -> bool:
        """The same asset, also across a change of identity: adopted (root → id) or moved
        (same id, new root)."""
        return self.asset == other.asset or self.root == other.root


MAX_BUTTON_COLUMNS = 3
REGISTRY_PREFIX = "registry: "
# The preview card: a tinted box with a coloured edge, amber when files on disk would change.
CARD_STYLE = (
    "QFrame#mutation_preview {{ border: 2px solid {edge}; border-radius: 4px;"
    " background: {fill}; }}"
    " QFrame#mutation_preview QLabel {{ background: transparent; border: none; }}"
)
REGISTRY_CARD = CARD_STYLE.format(edge="#4682c8", fill="rgba(70, 130, 200, 28)")
FILES_CARD = CARD_STYLE.format(edge="#d08a00", fill="rgba(208, 138, 0, 30)")
BLOCKED_CARD = CARD_STYLE.format(edge="#c62828", fill="rgba(198, 40, 40, 24)")


def button_columns(available: int, widest: int, spacing: int) -> int:
    """How many action buttons fit on one row (1 to 3): they wrap instead of being clipped."""
    if widest <= 0:
        return MAX_BUTTON_COLUMNS
    return max(1, min(MAX_BUTTON_COLUMNS, (available + spacing) // (widest + spacing)))


def preview_title(preview: MutationPreview) -> str:
    kind = ("registry only (files stay)" if preview.operation_class
            is OperationClass.REGISTRY_MUTATION else "moves, changes or deletes files")
    return f"Preview: {preview.action.verb} {preview.target.label()} — {kind}"


def describe_preview(preview: MutationPreview) -> str:
    """The inline preview as simple HTML: what changes in the registry and on disk, then
    blockers, warnings and safe fixes (the title says the class, see preview_title)."""
    registry = [c.describe().removeprefix(REGISTRY_PREFIX) for c in preview.registry_changes]
    if preview.next_asset_id_after != preview.next_asset_id_before:
        registry.append(
            f"next_asset_id {preview.next_asset_id_before} → {preview.next_asset_id_after}"
        )
    disk = [c.describe() for c in preview.disk_changes]
    parts: list[str] = []
    if registry:
        parts.append(_section("In the registry (index.json)", registry))
    if disk:
        parts.append(_section("On disk", disk))
    if not registry and not disk:
        parts.append("<p><i>Nothing would change.</i></p>")  # a block: never "change.Blocked"
    if preview.blockers:
        parts.append(_section("Blocked", [
            n.message + (f" — {n.fix}" if n.fix else "") for n in preview.blockers
        ], colour="#c62828"))
    if preview.warnings:
        parts.append(_section("Warnings", [n.message for n in preview.warnings]))
    if preview.safe_fixes:
        parts.append(_section("Safe fixes (not part of this change)",
                              [f.description for f in preview.safe_fixes]))
    return "".join(parts)


def _section(title: str, lines: list[str], colour: str | None = None) -> str:
    style = f" style='color:{colour}'" if colour else ""
    items = "".join(f"<li>{_esc(line)}</li>" for line in lines)
    return f"<b{style}>{_esc(title)}</b><ul style='margin-top:2px'>{items}</ul>"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(html_text: str) -> str:
    document = QTextDocument()
    document.setHtml(html_text)
    return document.toPlainText()


class ActionsPanel(QWidget):
    applied = Signal(object)  # MutationResult (applied or not)
    preview_shown = Signal()  # a preview arrived: the pane scrolls the card into view

    def __init__(self, prompter: Prompter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompter = prompter
        self.session: ProjectSession | None = None
        self._target: _Target | None = None
        self.preview: MutationPreview | None = None
        self.buttons: dict[MutationAction, QPushButton] = {}
        self.button_grid = QGridLayout()
        self._columns = 0
        self.hint = QLabel("Select an asset to see what can be done with it.")
        self.hint.setWordWrap(True)
        self._build_preview_card()
        self.result = QLabel()
        self.result.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addLayout(self.button_grid)
        layout.addWidget(self.preview_card)
        layout.addWidget(self.result)
        self.apply_button.clicked.connect(self._on_apply)
        self.discard_button.clicked.connect(self._on_discard)
        self._set_preview(None)

    def _build_preview_card(self) -> None:
        """The preview with its consent buttons right under it, in one box that stands out."""
        self.preview_card = QFrame()
        self.preview_card.setObjectName("mutation_preview")
        self.preview_card.setAccessibleName("Mutation preview")
        self.preview_title = QLabel()
        self.preview_title.setWordWrap(True)
        font = self.preview_title.font()
        font.setBold(True)
        self.preview_title.setFont(font)
        self.preview_body = QLabel()
        self.preview_body.setWordWrap(True)
        self.preview_body.setTextFormat(Qt.TextFormat.RichText)
        self.preview_body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.apply_button = QPushButton("Apply")
        self.discard_button = QPushButton("Discard")
        consent = QHBoxLayout()
        consent.addStretch(1)
        consent.addWidget(self.discard_button)
        consent.addWidget(self.apply_button)
        card = QVBoxLayout(self.preview_card)
        card.setContentsMargins(10, 8, 10, 8)
        card.addWidget(self.preview_title)
        card.addWidget(self.preview_body)
        card.addLayout(consent)
        self.preview_card.hide()

    def preview_text(self) -> str:
        """The card's words as plain text (what a screen reader or a test reads)."""
        return f"{self.preview_title.text()}\n{_plain(self.preview_body.text())}"

    def set_session(self, session: ProjectSession | None) -> None:
        self.session = session
        self.show_details(None)

    def show_details(self, details: AssetDetails | None) -> None:
        for button in self.buttons.values():
            self.button_grid.removeWidget(button)
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
        if self._target is None or not target.same_asset(self._target):
            # Another asset: its predecessor's preview and result no longer apply. (Fresh details
            # of the same asset keep a pending preview; the packer refuses it if it went stale.)
            self._set_preview(None)
            self.result.clear()
        self._target = target
        offered = actions_for(details)
        self.hint.setText("Each action is previewed first; nothing changes until you apply it."
                          if offered else "No actions for this asset.")
        for action in offered:
            button = QPushButton(LABELS[action])
            button.setProperty("mutation_action", action.value)
            button.setToolTip(f"{TOOLTIPS[action]} Previewed first.")
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(self._on_action_clicked)
            self.buttons[action] = button
        self._columns = 0
        self._arrange_buttons()

    def _arrange_buttons(self) -> None:
        widest = max((b.sizeHint().width() for b in self.buttons.values()), default=0)
        columns = button_columns(self.width(), widest, self.button_grid.horizontalSpacing())
        if columns == self._columns:
            return
        self._columns = columns
        for button in self.buttons.values():
            self.button_grid.removeWidget(button)
        for column in range(MAX_BUTTON_COLUMNS):
            self.button_grid.setColumnStretch(column, 1 if column < columns else 0)
        for position, button in enumerate(self.buttons.values()):
            self.button_grid.addWidget(button, position // columns, position % columns)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._arrange_buttons()

    # -- preview --

    def request_preview(self, action: MutationAction) -> bool:
        target, session = self._target, self.session
        if target is None or session is None:
            return False
        to = name = None
        if action is A.RELOCATE:
            to = self.prompter.ask_text(self, MOVE_TITLE, MOVE_LABEL, target.root)
            if to is None:
                return False
        elif action is A.RENAME:
            name = self.prompter.ask_text(self, RENAME_TITLE, RENAME_LABEL, target.name or "")
            if name is None:
                return False
        request = MutationRequest(action=action, asset=target.asset, to=to, name=name)
        self.result.setText(f"Previewing {action.verb}…")
        self.result.setStyleSheet("")
        return session.preview_mutation(
            request, self._on_previewed,
            lambda failure: self._on_failed(failure) if self._target == target else None,
        ) is not None

    def _on_previewed(self, preview: MutationPreview) -> None:
        target = self._target
        if target is None or preview.request.asset != target.asset:
            return  # the user moved on to another asset
        self.result.clear()
        self._set_preview(preview)
        self.preview_shown.emit()

    def _set_preview(self, preview: MutationPreview | None) -> None:
        self.preview = preview
        self.preview_card.setVisible(preview is not None)
        if preview is not None:
            self.preview_title.setText(preview_title(preview))
            self.preview_body.setText(describe_preview(preview))
            self.preview_card.setStyleSheet(
                BLOCKED_CARD if preview.blocked else REGISTRY_CARD
                if preview.operation_class is OperationClass.REGISTRY_MUTATION else FILES_CARD
            )
            self.apply_button.setEnabled(not preview.blocked and not preview.changes_nothing)
            asks = preview.consent_required or preview.action in DESTRUCTIVE
            self.apply_button.setText(f"Apply {preview.action.verb}{'…' if asks else ''}")
            self.apply_button.setDefault(True)

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
        if session.apply_mutation(preview, self._on_applied, self._on_failed) is None:
            self.apply_button.setEnabled(True)

    def _on_applied(self, result: MutationResult) -> None:
        self._set_preview(None)
        self.result.setText(result.message)
        self.result.setStyleSheet("" if result.applied else "color: #c62828;")
        self.applied.emit(result)

    def _on_failed(self, failure: JobFailed) -> None:
        """A preview or an apply that raised: say so here, where the user is looking (the
        Logs panel has the traceback). A failed apply's preview is dropped: preview again."""
        self._set_preview(None)
        self.result.setText(f"{failure.title}. Details are in the Logs panel."
                            if not failure.cancelled else failure.title)
        self.result.setStyleSheet("color: #c62828;")

    @Slot()
    def _on_discard(self) -> None:
        self._set_preview(None)

    @Slot()
    def _on_action_clicked(self) -> None:
        button = self.sender()
        if isinstance(button, QPushButton):
            self.request_preview(MutationAction(str(button.property("mutation_action"))))
