"""`prometeu-packer new PROJECT PATH...`: make an asset of a folder (or some files) under assets/.

The proposal (type, inputs, settings, the asset.json to write and the findings it would have) is
a preview like every mutation's; `--yes` applies it, `--preview` only shows it, and without
either a terminal is asked (see packer/cli/mutate.py for the shared conventions).
"""

from __future__ import annotations

import argparse
import posixpath
from typing import TYPE_CHECKING

from packer.cli.common import CliError, CommandContext, add_command
from packer.cli.mutate import add_consent_options, path_argument, run_mutation_request
from packer.mutations.actions import ASSET_TYPES, MutationAction

if TYPE_CHECKING:  # the models and the proposal (Pillow) load when the command runs
    from packer.files.project import Project
    from packer.mutations.model import MutationRequest

HELP = "Make a new asset of a folder of files (PNG tiles, WAVs, or one data file)"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers, "new", HELP, _run_new,
        description=f"{HELP}: proposes the type (PNGs → glyph_bank, WAVs → sound_bank, one "
        "other file → raw), the inputs in a stable order and the settings, shows the asset.json "
        "it would write and the diagnostics the asset would have, then writes it and registers "
        "the asset (with --yes or after confirmation on a terminal). Exit 1 when nothing was "
        "applied.",
    )
    parser.add_argument("paths", metavar="PATH", nargs="+",
                        help="the folder to make an asset of (relative to assets/, or a path to "
                        "it), or files of one folder: that folder becomes the root and only "
                        "those files are inputs")
    parser.add_argument("--type", dest="asset_type", choices=ASSET_TYPES, default=None,
                        help="the asset type (default: from the files; a mixed folder needs it)")
    parser.add_argument("--name", default=None, metavar="NAME",
                        help="the asset's logical name (default: from the folder's name)")
    parser.add_argument("--derive-palette", action="store_true",
                        help="glyph_bank: write palette.png from the tiles' colours "
                        "(docs/formats.md)")
    add_consent_options(parser)


def request_for(project: Project, args: argparse.Namespace) -> MutationRequest:
    from pydantic import ValidationError

    from packer.mutations.model import MutationRequest

    root, files = _root_and_files(project, [path_argument(project, p) for p in args.paths])
    try:
        return MutationRequest(action=MutationAction.NEW, asset=root, files=files,
                               asset_type=args.asset_type, name=args.name,
                               derive_palette=args.derive_palette)
    except ValidationError as exc:
        raise CliError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from exc


def _root_and_files(project: Project, rels: list[str]) -> tuple[str, tuple[str, ...] | None]:
    """One folder → (it, every file); files → (their common folder, those files)."""
    clean = [posixpath.normpath(r.strip()).removeprefix("./") for r in rels]
    if len(clean) == 1 and not (project.assets_dir / clean[0]).is_file():
        return clean[0], None
    folders = {posixpath.dirname(c) for c in clean}
    if len(folders) != 1 or any(not (project.assets_dir / c).is_file() for c in clean):
        raise CliError("give one folder, or files that all lie in one folder (it becomes the "
                       "asset root)")
    folder = folders.pop()
    if not folder:
        raise CliError("files directly in assets/ cannot make an asset: put them in a folder "
                       "first (one folder holds one asset)")
    return folder, tuple(sorted(posixpath.basename(c) for c in clean))


def _run_new(ctx: CommandContext) -> int:
    return run_mutation_request(ctx, request_for(ctx.project, ctx.args))
