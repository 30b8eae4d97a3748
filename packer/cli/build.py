"""`prometeu-packer build PROJECT [--no-cache]` and `prometeu-packer inspect FILE [--json]`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from packer.cli.common import EXIT_BLOCKED, EXIT_OK, CommandContext, add_command

if TYPE_CHECKING:  # imported by the handlers: a command that does not build never loads them
    from packer.build import BuildResult
    from packer.build.reader import InspectReport


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers, "build", "Build build/assets.pa from the registered, included assets",
        _run_build,
        description="Build build/assets.pa (and its mirrors) from the registered, included "
        "assets. Blocking diagnostics stop the build; build/ changes only when a build succeeds.",
    )
    parser.add_argument("--no-cache", action="store_true",
                        help="encode every asset again, ignoring the build cache")
    parser.add_argument("--jobs", "-j", type=_positive, metavar="N", default=None,
                        help="encode in N processes (default: one per core, at most 8)")
    inspect = add_command(
        subparsers, "inspect", "Validate an assets.pa and print its asset table", _run_inspect,
        project=False, events=False,  # a plain read of one file: no operation, no events
        description="Validate an assets.pa (prelude, canonical header, offsets, sizes, overlaps, "
        "and the asset_table.json / preload.json mirrors beside it) and print its table. "
        "Exit 1 when the file is malformed.",
    )
    inspect.add_argument("file", metavar="FILE", type=Path, help="the assets.pa to inspect")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of processes")
    return value


def _default_jobs() -> int:
    """One encoding process per core, up to 8 (`--jobs` says otherwise)."""
    return max(1, min(os.cpu_count() or 1, 8))


def _run_build(ctx: CommandContext) -> int:
    from packer.build import build
    from packer.lane.events import Outcome

    project = ctx.project
    with ctx.event_sink() as sink:
        result = build(project, sink=sink, token=ctx.token, use_cache=not ctx.args.no_cache,
                       processes=ctx.args.jobs or _default_jobs())
    if ctx.json_output:
        ctx.write_json(result)
    else:
        _print_build(ctx, result)
    return EXIT_OK if result.outcome is Outcome.SUCCEEDED else EXIT_BLOCKED


def _print_build(ctx: CommandContext, result: BuildResult) -> None:
    from packer.lane.events import Outcome

    out = ctx.out
    for found in result.blocking:
        where = f" [{found.root}{'/' + found.file if found.file else ''}]" if found.root else ""
        out.print(f"{found.code} error{where}: {found.message}\n  fix: {found.fix}", markup=False)
    for found in result.diagnostics:
        if not found.blocking:
            out.print(f"{found.code} {found.severity.value}: {found.message}", markup=False)
    if result.outcome is Outcome.SUCCEEDED and ctx.token.cancelled:
        ctx.error(f"{ctx.token.reason or 'cancelled'} after the build's commit point: the new "
                  "build was completed and is in build/")
    if result.outcome is Outcome.SUCCEEDED:
        state = "up to date" if result.up_to_date else "built"
        out.print(
            f"{result.artifact}: {state}, {result.asset_count} assets, "
            f"{result.cache_hits} cache hits, {result.cache_misses} misses, "
            f"{result.output_bytes} bytes", markup=False,
        )
    elif result.outcome is Outcome.BLOCKED:
        out.print(f"Build blocked by {len(result.blocking)} problem(s); build/ is unchanged.",
                  markup=False)
    else:
        ctx.error(f"build {result.outcome.value}: {result.error or 'no details'}")


def _run_inspect(ctx: CommandContext) -> int:
    from packer.build.reader import MalformedContainer, inspect_file

    path: Path = ctx.args.file
    try:
        report = inspect_file(path)
    except MalformedContainer as exc:
        if ctx.json_output:
            ctx.write_json({"file": str(path), "valid": False, "problems": [str(exc)]})
        message = str(exc)
        ctx.error(message if str(path) in message else f"{path}: {message}")
        return EXIT_BLOCKED
    if ctx.json_output:
        ctx.write_json(report.to_json())
    else:
        _print_report(ctx, report)
    for problem in report.problems:
        ctx.error(f"{path}: {problem}")
    return EXIT_OK if report.valid else EXIT_BLOCKED


def _print_report(ctx: CommandContext, report: InspectReport) -> None:
    from rich.table import Table
    from rich.text import Text

    slots = report.preload_slots()
    table = Table(title=f"{report.path}: {len(report.asset_table)} assets, "
                  f"{report.file_size} bytes, payload at {report.payload_offset}")
    for column in ("asset_id", "asset_name", "bank_type", "codec", "offset", "size",
                   "decoded_size", "preload"):
        table.add_column(column, justify="right" if column in {
            "asset_id", "offset", "size", "decoded_size", "preload"} else "left")
    for row in report.asset_table:
        # A malformed row is listed as far as it goes ("?" for what it lacks); the problems
        # below say what is wrong with it.
        fields = row if isinstance(row, dict) else {}
        asset_id = fields.get("asset_id")
        slot = slots.get(asset_id) if isinstance(asset_id, int) else None
        table.add_row(*(Text(str(fields.get(k, "?"))) for k in (
            "asset_id", "asset_name", "bank_type", "codec", "offset", "size", "decoded_size")),
                      "-" if slot is None else str(slot))
    ctx.out.print(table)
    for name, state in sorted(report.mirrors.items()):
        ctx.out.print(f"{name}: {state}", markup=False)
    for note in report.notes:
        ctx.out.print(f"note: {note}", markup=False)
    if report.valid:
        ctx.out.print("valid", markup=False)
