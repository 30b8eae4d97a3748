"""`prometeu-packer`: the packer's command line.

Core commands live here (init, list, show, doctor); build and mutation commands are registered by
packer.cli.build and packer.cli.mutate. Shared options, output channels and exit codes are in
packer.cli.common.

`init PROJECT` initialises the asset workspace of an existing project (one with prometeu.json);
it is idempotent. A folder without prometeu.json is refused (exit 2) with the exact command that
would create a project there: `init --create NAME PROJECT` writes a new prometeu.json (fresh
project_id) and the empty registry. `--create` on a folder that already holds a project is refused,
so an existing project file is never overwritten.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from packer import __version__
from packer.cli.common import (
    EXIT_BLOCKED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    CommandContext,
    add_command,
    run_handler,
)

# The handlers import what they use (the scan, doctor, rich's renderers): `--version`, `--help`
# and a short command start in a fraction of the time (docs/benchmarks.md, "Scale").

def _run_init(ctx: CommandContext) -> int:
    from rich.text import Text

    from packer.errors import NotAProjectError, PackerError
    from packer.files.initialise import publish_init
    from packer.files.project import ASSETS_DIR, PROJECT_FILE, create_project, open_project

    path = ctx.args.project
    create_name: str | None = ctx.args.create
    created_project = False
    had_registry = False
    if create_name is not None:
        if (path / PROJECT_FILE).exists():
            raise CliError(f"{path} already holds a project ({PROJECT_FILE} exists); run "
                           f"`prometeu-packer init {shlex.quote(str(path))}` without --create")
        if not create_name.strip():
            raise CliError("--create needs a non-empty project NAME")
        try:
            project = create_project(path, create_name.strip())
        except (OSError, PackerError) as exc:
            raise CliError(f"cannot create a project in {path}: {exc}") from exc
        created_project = True
    else:
        try:
            project = open_project(path)
        except NotAProjectError as exc:
            quoted = shlex.quote(str(path))
            raise CliError(f"{exc}. To create a new project there, run "
                           f"`prometeu-packer init --create NAME {quoted}`") from exc
        except PackerError as exc:
            raise CliError(str(exc)) from exc
        had_registry = project.registry_path.exists()
    with ctx.event_sink() as sink:
        try:
            registry = publish_init(project, sink, created_project=created_project,
                                    had_registry=had_registry)
        except OSError as exc:  # e.g. assets/ is a file, or the folder is read-only
            where = exc.filename or project.packer_dir
            raise CliError(
                f"cannot initialise {project.root}: {where}: {exc.strerror or exc}. "
                f"{ASSETS_DIR}/ must be a folder you can write to"
            ) from exc
    if ctx.json_output:
        ctx.write_json({
            "project": str(project.root), "name": project.name,
            "project_id": registry.project_id, "registry": str(project.registry_path),
            "created_project": created_project, "created_registry": not had_registry,
            "assets_registered": len(registry.assets),
        })
    elif had_registry:
        ctx.out.print(Text(f"{project.root} is already initialised "
                           f"({len(registry.assets)} registered assets); nothing changed."))
    else:
        what = "Created project" if created_project else "Initialised"
        ctx.out.print(Text(f"{what} {project.name} at {project.root}: empty registry in "
                           "assets/.prometeu/index.json."))
    return EXIT_OK


def _run_list(ctx: CommandContext) -> int:
    from packer.doctor.queries import list_assets_report

    project = ctx.project
    with ctx.event_sink() as sink:
        listing = list_assets_report(project, sink, ctx.token, validate=ctx.args.validate)
    if ctx.json_output:
        ctx.write_model_json(listing)  # (AssetListing has no float field)
    else:
        from packer.cli.render import print_listing

        print_listing(ctx.out, listing)
    return EXIT_BLOCKED if listing.blocking else EXIT_OK


def _run_show(ctx: CommandContext) -> int:
    from packer.cli.render import print_details
    from packer.doctor.queries import get_asset_details

    project = ctx.project
    asset: str = ctx.args.asset
    with ctx.event_sink() as sink:
        details = get_asset_details(project, asset, sink, ctx.token)
    if ctx.json_output:
        ctx.write_json(details)
    else:
        print_details(ctx.out, details)
    blocking = details.errors > 0 and details.asset_id is not None and details.included_in_build
    return EXIT_BLOCKED if blocking else EXIT_OK


def _run_doctor(ctx: CommandContext) -> int:
    from packer.cli.render import print_doctor
    from packer.doctor.service import doctor

    project = ctx.project
    with ctx.event_sink() as sink:
        report = doctor(project, workspace=ctx.args.workspace, fix=ctx.args.fix, sink=sink,
                        token=ctx.token)
    if ctx.json_output:
        ctx.write_json(report)
    else:
        print_doctor(ctx.out, report)
    return EXIT_BLOCKED if report.blocking else EXIT_OK


def register_core(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = add_command(
        subparsers, "init", "Initialise the asset workspace (assets/.prometeu/index.json)",
        _run_init,
        description="Create assets/.prometeu/ and an empty registry in an existing project "
        "(idempotent). With --create NAME, first create the project itself (prometeu.json).",
    )
    init.add_argument("--create", metavar="NAME", default=None,
                      help="create a new project named NAME in PROJECT (which must not hold one)")
    listing = add_command(
        subparsers, "list", "List every asset with its state and findings", _run_list,
        description="List registered, unregistered, missing and quarantined assets. Format "
        "findings come from the validation cache that doctor keeps; an asset whose format was "
        "not validated since it last changed says `unchecked`. Exit 1 when the registry or an "
        "asset in the build set (registered and included) has an error known to the listing.")
    listing.add_argument("--validate", action="store_true",
                         help="validate the format of every unchecked asset first (decodes "
                         "their inputs) and keep the results in the validation cache")
    show = add_command(subparsers, "show", "Show one asset in detail", _run_show,
                       description="Summary, runtime contract, inputs and diagnostics of one "
                       "asset (its format is always validated). Exit 1 when an asset in the "
                       "build set (registered and included) has an error.")
    show.add_argument("asset", metavar="ASSET",
                      help="an asset_id (7 or #7) or a root relative to assets/")
    doc = add_command(
        subparsers, "doctor", "Diagnose the project", _run_doctor,
        description="Check the registered assets (errors of the build set block a build; "
        "those of excluded assets are reported, and block nothing, as in build). Format "
        "validation results are cached in assets/.prometeu/validation.json. "
        "Exit 1 when a build would be blocked.",
    )
    doc.add_argument("--workspace", action="store_true",
                     help="also check unregistered assets and the hygiene of the whole assets/")
    doc.add_argument("--fix", action="store_true",
                     help="apply the fixes that cannot lose data (see docs/diagnostics.md)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prometeu-packer",
        description="Scan, diagnose and build the assets of a PROMETEU game project.",
        epilog="Exit codes: 0 fine, 1 blocking findings, 2 usage error or not a project.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_core(subparsers)
    from packer.cli import build as cli_build  # not needed by `--version`
    from packer.cli import mutate as cli_mutate
    from packer.cli import new as cli_new
    from packer.cli import scan as cli_scan

    for module in (cli_build, cli_mutate, cli_new, cli_scan):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script passes it to sys.exit)."""
    words = sys.argv[1:] if argv is None else list(argv)
    if words == ["--version"]:  # what argparse would print, without building every parser
        sys.stdout.write(f"prometeu-packer {__version__}\n")
        return EXIT_OK
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return run_handler(args)


if __name__ == "__main__":
    from packer.cli.entry import run_and_exit

    run_and_exit(main)
