"""`prometeu-packer scan PROJECT`: what changed in assets/ since the last scan.

Runs the packer's `rescan` operation (packer.doctor.rescan): new asset roots, roots whose
asset.json, inputs, files, state or findings changed, and roots that are gone, compared with the
record the previous scan left in assets/.prometeu/scan.json; then records this scan. The first
scan of a project has nothing to compare with and says so. The Studio's F5 runs the same thing.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from packer.cli.common import EXIT_BLOCKED, EXIT_OK, CommandContext, add_command

if TYPE_CHECKING:
    from packer.doctor.rescan import RescanReport

HELP = "Report what changed in assets/ since the last scan"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_command(
        subparsers, "scan", HELP, _run_scan,
        description=f"{HELP}: new asset roots, roots whose asset.json, inputs (by content), "
        "files, state or findings changed, and roots that are gone, compared with the previous "
        "scan recorded in assets/.prometeu/scan.json; then records this scan. The first scan "
        "has nothing to compare with and records a baseline. --events jsonl writes "
        "asset_discovered / asset_changed events (a removal is an asset_changed whose changes "
        "are [\"removed\"]). Exit 1 when the registry cannot be read.",
    )


def _run_scan(ctx: CommandContext) -> int:
    from packer.doctor.rescan import rescan

    project = ctx.project
    with ctx.event_sink() as sink:
        report = rescan(project, sink, ctx.token)
    if ctx.json_output:
        ctx.write_json(report)
    else:
        _print_report(ctx, report)
    blocking = any(d.blocking for d in report.diagnostics)
    return EXIT_BLOCKED if blocking else EXIT_OK


_MARK = {"discovered": "+", "changed": "~", "removed": "-"}


def _print_report(ctx: CommandContext, report: RescanReport) -> None:
    from rich.text import Text

    from packer.cli.render import print_diagnostics
    from packer.doctor.rescan import summary_text

    since = (f" since {report.previous_scan_at:%Y-%m-%d %H:%M:%S} UTC"
             if report.previous_scan_at else "")
    ctx.out.print(Text(f"{summary_text(report)}{since}."))
    for change in report.changes:
        who = f"#{change.asset_id} " if change.asset_id is not None else ""
        what = ("new " + (change.state or "") if change.kind == "discovered"
                else "; ".join(change.changes))
        ctx.out.print(Text(f"  {_MARK[change.kind]} {who}{change.root}: {what}"))
    if report.diagnostics:
        print_diagnostics(ctx.out, report.diagnostics)
    if report.record_error:
        ctx.out.print(Text(f"warning: {report.record_error}; the next scan reports these "
                           "changes again"))
