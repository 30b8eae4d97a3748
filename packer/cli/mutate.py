"""Mutation commands: register, adopt, forget, remove, quarantine, restore, relocate, include,
exclude, rename.

Each one previews first. `--preview` stops there. Without `--yes` the preview is printed and, when
stdin is a terminal, the user is asked to confirm; with no terminal nothing is applied and the exit
code is 1. `--yes` applies (and is the consent that moving and deleting need). Exit codes: 0 applied
(or a preview without blockers), 1 blocked, refused, failed or not confirmed, 2 usage.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from packer.cli.common import (
    EXIT_BLOCKED,
    EXIT_OK,
    CliError,
    CommandContext,
    add_command,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from packer.files.project import Project
from packer.mutations.actions import DEFAULT_LOCK_TIMEOUT_S, MutationAction

if TYPE_CHECKING:
    from packer.mutations.model import MutationPreview, MutationRequest, MutationResult, Note

_COMMANDS: dict[str, tuple[MutationAction, str]] = {
    "register": (MutationAction.REGISTER, "Register an asset.json: it gets the next asset_id"),
    "adopt": (MutationAction.ADOPT, "Adopt an unregistered asset (same as register)"),
    "forget": (MutationAction.FORGET, "Drop an asset from the registry; its files stay"),
    "remove": (MutationAction.REMOVE, "Delete an asset's files (and its registry entry)"),
    "quarantine": (MutationAction.QUARANTINE,
                   "Move an asset to assets/.prometeu/quarantine/, out of the build"),
    "restore": (MutationAction.RESTORE, "Move a quarantined asset back"),
    "relocate": (MutationAction.RELOCATE, "Move or rename an asset root (ids are kept)"),
    "include": (MutationAction.INCLUDE, "Include a registered asset in the build"),
    "exclude": (MutationAction.EXCLUDE, "Exclude a registered asset from the build"),
    "rename": (MutationAction.RENAME, "Change an asset's logical name (visible to game code)"),
}
_FILES_SHOWN = 8


def _text(text: str = "", style: str = "") -> Text:
    """rich's Text, imported when something is printed (not when the parser is built)."""
    from rich.text import Text

    return Text(text, style=style)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the mutation commands."""
    for name, (action, help_text) in _COMMANDS.items():
        parser = add_command(
            subparsers, name, help_text, _run_mutation,
            description=f"{help_text}. Prints a preview first; applies with --yes or after "
            "confirmation on a terminal. Exit 1 when nothing was applied.",
        )
        parser.add_argument("asset", metavar="ASSET",
                            help="an asset_id (7 or #7) or the asset's root (relative to "
                            "assets/, or a path to the folder)")
        if action is MutationAction.RELOCATE:
            parser.add_argument("--to", required=True, metavar="DEST",
                                help="the new root, relative to assets/")
        elif action is MutationAction.RESTORE:
            parser.add_argument("--to", default=None, metavar="DEST",
                                help="restore to this root instead of where it came from")
        elif action is MutationAction.RENAME:
            parser.add_argument("--name", required=True, metavar="NEW",
                                help="the new logical name")
        add_consent_options(parser)
        parser.set_defaults(mutation=action)


def add_consent_options(parser: argparse.ArgumentParser) -> None:
    """--yes | --preview, and --wait: how every mutation command asks for consent."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--yes", "-y", action="store_true",
                      help="apply without asking (gives consent to move or delete files)")
    mode.add_argument("--preview", action="store_true",
                      help="only show what would change")
    parser.add_argument("--wait", type=_wait_seconds, default=DEFAULT_LOCK_TIMEOUT_S,
                        metavar="SECONDS",
                        help="how long to wait for another writer of this project "
                        f"(default {DEFAULT_LOCK_TIMEOUT_S:g})")


def _asset_argument(project: Project, text: str) -> int | str:
    """`7` / `#7` → an id; otherwise a root, read as every path argument is (path_argument)."""
    if re.fullmatch(r"#?\d+", text.strip()):
        return int(text.strip().lstrip("#"))
    return path_argument(project, text)


def path_argument(project: Project, text: str) -> str:
    """Every path argument reads the same way, whatever the current folder: relative to assets/.

    A leading `assets/` is stripped (so `assets/x`, as the shell completes it in the project
    folder, and `x` are the same root), and an absolute path must lie inside assets/.
    """
    from packer.files.project import ASSETS_DIR

    path = Path(text)
    if path.is_absolute():
        return _inside_assets(project, path, text)
    parts = [part for part in PurePosixPath(text).parts if part != "."]
    if parts and parts[0] == ASSETS_DIR:
        parts = parts[1:]
    return "/".join(parts) or "."


def _inside_assets(project: Project, path: Path, text: str) -> str:
    resolved = path.resolve()
    assets = project.assets_dir.resolve()
    if resolved != assets and assets not in resolved.parents:
        raise CliError(f"{text} is not inside the project's assets/ folder ({assets})")
    return resolved.relative_to(assets).as_posix() or "."


def _destination(project: Project, text: str | None) -> str | None:
    return None if text is None else path_argument(project, text)


def _wait_seconds(text: str) -> float:
    """--wait: a finite number of seconds, zero or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a number of seconds, 0 or more (0: do not wait)")
    return value


def _stdin_is_terminal() -> bool:
    return bool(sys.stdin) and sys.stdin.isatty()


def _run_mutation(ctx: CommandContext) -> int:
    from pydantic import ValidationError  # not needed at start-up

    from packer.mutations.model import MutationRequest

    project = ctx.project
    args = ctx.args
    action: MutationAction = args.mutation
    try:
        request = MutationRequest(
            action=action, asset=_asset_argument(project, args.asset),
            to=_destination(project, getattr(args, "to", None)),
            name=getattr(args, "name", None),
        )
    except ValidationError as exc:
        raise CliError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from exc
    return run_mutation_request(ctx, request)


def run_mutation_request(ctx: CommandContext, request: MutationRequest) -> int:
    """Preview, print, confirm or not, apply; the exit code (see the module docstring)."""
    from packer.files.lock import LockHeldError  # not needed at start-up
    from packer.mutations import apply_mutation, preview_mutation

    project = ctx.project
    args = ctx.args
    result: MutationResult | None = None
    with ctx.event_sink() as sink:
        try:
            preview = preview_mutation(project, request, sink, ctx.token,
                                       lock_timeout=args.wait)
        except LockHeldError as exc:  # another writer is applying: nothing was changed
            ctx.error(str(exc))
            return EXIT_BLOCKED
        print_preview(ctx.out, preview)
        proceed = not (args.preview or preview.blocked) and (
            args.yes or _confirmed(ctx, preview)
        )
        if proceed:
            result = apply_mutation(
                project, preview, consent=True, sink=sink, token=ctx.token, lock_timeout=args.wait,
                command=f"prometeu-packer {args.command}",
            )
    if ctx.json_output:
        ctx.write_json({
            "preview": preview.model_dump(mode="json"),
            "applied": bool(result and result.applied),
            "result": result.model_dump(mode="json") if result else None,
        })
    _print_outcome(ctx, preview, result)
    if result is not None:
        return EXIT_OK if result.applied else EXIT_BLOCKED
    if args.preview and not preview.blocked:
        return EXIT_OK
    return EXIT_BLOCKED


def _confirmed(ctx: CommandContext, preview: MutationPreview) -> bool:
    if not _stdin_is_terminal():
        return False
    question = "Apply these changes? [y/N] "
    ctx.err.print(_text(question), end="")
    answer = sys.stdin.readline().strip().lower()
    return answer in {"y", "yes"}


def _print_outcome(
    ctx: CommandContext, preview: MutationPreview, result: MutationResult | None
) -> None:
    out = ctx.out
    if result is not None:
        style = "bold green" if result.applied else "bold red"
        word = "Applied" if result.applied else "Not applied"
        out.print(_text(f"{word}: {result.message}", style=style), soft_wrap=True)
        for warning in result.warnings:
            out.print(_text(f"  ! {warning}", style="yellow"), soft_wrap=True)
    elif preview.blocked:
        out.print(_text("Blocked: nothing was changed.", style="bold red"))
    elif ctx.args.preview:
        out.print(_text("Preview only: nothing was changed."))
    elif _stdin_is_terminal():
        out.print(_text("Not confirmed: nothing was changed."))
    else:
        out.print(_text("Nothing was changed: no terminal to confirm on. Re-run with --yes to "
                       "apply."), soft_wrap=True)


def print_preview(console: Console, preview: MutationPreview) -> None:
    """The preview as text: what changes, then blockers, warnings and safe fixes, apart."""
    target = preview.target
    head = _text(f"{preview.action.verb} ", style="bold")
    label = target.label()
    head.append(label if label == target.root else f"{label} ({target.root})")
    head.append(f"  [{preview.operation_class.value.replace('_', ' ')}"
                f"{', needs consent' if preview.consent_required else ''}]", style="dim")
    console.print(head, soft_wrap=True)
    registry_lines = [c.describe() for c in preview.registry_changes]
    if preview.next_asset_id_after != preview.next_asset_id_before:
        registry_lines.append(f"next_asset_id {preview.next_asset_id_before} → "
                              f"{preview.next_asset_id_after}")
    _section(console, "Registry changes", registry_lines)
    if preview.disk_changes:
        console.print(_text("Disk changes:", style="bold"))
        for change in preview.disk_changes:
            console.print(_text(f"  • {change.describe()}"), soft_wrap=True)
            shown = change.files[:_FILES_SHOWN]
            for name in shown:
                console.print(_text(f"      {name}", style="dim"), soft_wrap=True)
            if len(change.files) > len(shown):
                console.print(_text(f"      … and {len(change.files) - len(shown)} more",
                                   style="dim"))
    if preview.changes_nothing and not preview.blocked:
        console.print(_text("Nothing to change."))
    if preview.proposal is not None:
        _print_proposal(console, preview)
    _notes(console, "Blockers", "✗", "bold red", preview.blockers)
    _notes(console, "Warnings", "!", "yellow", preview.warnings)
    if preview.safe_fixes:
        console.print(_text("Safe fixes:", style="bold"))
        for fix in preview.safe_fixes:
            console.print(_text(f"  → {fix.description}", style="cyan"), soft_wrap=True)


def _print_proposal(console: Console, preview: MutationPreview) -> None:
    """new: the asset.json to be written, the files left out and the asset's findings."""
    proposal = preview.proposal
    assert proposal is not None
    console.print(_text(f"Declaration (assets/{preview.target.root}/asset.json):", style="bold"))
    for line in proposal.declaration_text.splitlines():
        console.print(_text(f"    {line}", style="dim"), soft_wrap=True)
    if proposal.skipped:
        console.print(_text("Not inputs:", style="bold"))
        for skipped in proposal.skipped:
            console.print(_text(f"  - {skipped.path}: {skipped.reason}"), soft_wrap=True)
    if proposal.diagnostics:
        console.print(_text("Diagnostics the new asset would have:", style="bold"))
        for found in proposal.diagnostics:
            finding = _text(f"  {found.severity.value} ",
                           style="red" if found.blocking else "yellow")
            finding.append(f"{found.code} ", style="bold")
            finding.append(found.message)
            console.print(finding, soft_wrap=True)
    else:
        console.print(_text("Diagnostics the new asset would have: none"))


def _section(console: Console, title: str, lines: list[str]) -> None:
    if lines:
        console.print(_text(f"{title}:", style="bold"))
        for line in lines:
            console.print(_text(f"  • {line.removeprefix('registry: ')}"), soft_wrap=True)


def _notes(console: Console, title: str, mark: str, style: str, notes: tuple[Note, ...]) -> None:
    if not notes:
        return
    console.print(_text(f"{title}:", style="bold"))
    for note in notes:
        line = _text(f"  {mark} ", style=style)
        if note.code:
            line.append(f"{note.code} ", style="bold")
        line.append(note.message)
        console.print(line, soft_wrap=True)
        if note.fix:
            console.print(_text(f"      fix: {note.fix}", style="dim"), soft_wrap=True)
