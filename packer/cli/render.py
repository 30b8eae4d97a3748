"""Readable text for the core commands (list, show, doctor): aligned tables and short sentences.

Messages come from files users control, so they are rendered as plain `Text`, never as markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from packer.diagnostics import Diagnostic, Severity, counts_text, plural
from packer.doctor.queries import AssetDetails, AssetListing, FormatCheck
from packer.doctor.service import DoctorReport

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_SEVERITY_WORD = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "hint"}


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    if size < 1024:
        return f"{size} B"
    if size < 1 << 20:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1 << 20):.1f} MiB"


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def print_diagnostics(console: Console, diagnostics: Iterable[Diagnostic], *,
                      indent: str = "  ") -> None:
    """One line per finding (severity, code, message), then its suggested fix."""
    for diag in diagnostics:
        line = Text(indent)
        line.append(f"{_SEVERITY_WORD[diag.severity]:<8}", style=_SEVERITY_STYLE[diag.severity])
        line.append(f"{diag.code}  ", style="bold")
        line.append(diag.message)
        console.print(line, soft_wrap=True)
        console.print(Text(f"{indent}{'':<8}{'':<7}fix: {diag.fix}", style="dim"),
                      soft_wrap=True)


def print_listing(console: Console, listing: AssetListing) -> None:
    if listing.workspace_diagnostics:
        console.print(Text("Workspace", style="bold"))
        print_diagnostics(console, listing.workspace_diagnostics)
        console.print()
    if not listing.assets:
        console.print("No assets under assets/ yet.")
        return
    table = _table("ID", "NAME", "TYPE", "STATE", "BUILD", "PRELOAD", "FINDINGS", "ROOT")
    for asset in listing.assets:
        findings = Text()
        if asset.errors:
            findings.append(plural(asset.errors, "error"), style="bold red")
        if asset.warnings:
            findings.append((", " if findings else "") + plural(asset.warnings, "warning"),
                            style="yellow")
        if asset.infos and not asset.errors and not asset.warnings:
            findings.append(plural(asset.infos, "hint"), style="cyan")
        if asset.format_check is FormatCheck.UNCHECKED:
            # its format errors are unknown: never `ok` (doctor or `list --validate` checks it)
            findings.append((", " if findings else "") + "unchecked", style="dim")
        elif not findings:
            findings.append("ok", style="green")
        table.add_row(
            "-" if asset.asset_id is None else str(asset.asset_id),
            Text(asset.name or "?"), asset.type or "?", asset.state.value,
            "yes" if asset.included_in_build else "no",
            "-" if asset.preload is None else ("yes" if asset.preload else "no"),
            findings, Text(asset.root),
        )
    console.print(table)
    registered = sum(1 for a in listing.assets if a.asset_id is not None)
    console.print(f"{plural(len(listing.assets), 'asset')}, {registered} registered.")
    if listing.unchecked:
        console.print(f"{plural(listing.unchecked, 'asset')} unchecked: their format errors are "
                      "not known yet; `list --validate` or `doctor` checks them.")


def print_details(console: Console, details: AssetDetails) -> None:
    ident = f"#{details.asset_id}" if details.asset_id is not None else "(unregistered)"
    console.print(Text(f"{ident} {details.name or '?'}", style="bold"))
    summary = _table("", "")
    summary.show_header = False
    for key, value in (
        ("root", f"assets/{details.root}"), ("asset_uuid", details.asset_uuid or "-"),
        ("type", details.type or "-"), ("state", details.state.value),
        ("in build", "yes" if details.included_in_build else "no"),
        ("preload", "-" if details.preload is None else ("yes" if details.preload else "no")),
    ):
        summary.add_row(key, Text(value))
    console.print(summary)
    console.print()
    console.print(Text("Runtime contract", style="bold"))
    if details.contract is None:
        console.print("  (asset.json cannot be read; see the diagnostics)")
    else:
        contract = _table("", "")
        contract.show_header = False
        c = details.contract
        for key, value in (
            ("format", c.format), ("codec", c.codec), ("bank type", c.bank_type),
            ("metadata", json.dumps(c.metadata, sort_keys=True)),
            ("pipeline", json.dumps(c.pipeline, sort_keys=True) if c.pipeline else "-"),
        ):
            contract.add_row(key, Text(value))
        console.print(contract)
    console.print()
    console.print(Text("Inputs", style="bold"))
    if details.inputs:
        inputs = _table("ROLE", "PATH", "SIZE", "STATUS")
        for item in details.inputs:
            status = "escapes the root" if item.escapes_root else (
                "ok" if item.exists else "missing")
            inputs.add_row(item.role, Text(item.path), _size(item.size), status)
        console.print(inputs)
    else:
        console.print("  (none)")
    unreferenced = [f for f in details.files if not f.referenced]
    if unreferenced:
        console.print()
        console.print(Text("Other files under the root", style="bold"))
        for extra in unreferenced:
            console.print(Text(f"  {extra.path}  ({_size(extra.size)})"), soft_wrap=True)
    console.print()
    console.print(Text("Diagnostics", style="bold"))
    if details.diagnostics:
        print_diagnostics(console, details.diagnostics)
    else:
        console.print("  none")


def print_doctor(console: Console, report: DoctorReport) -> None:
    for fix in report.fixes:
        console.print(Text(f"fixed {fix.code}: {fix.description}", style="green"), soft_wrap=True)
    if report.fixes:
        console.print()
    groups: dict[str | None, list[Diagnostic]] = {}
    for diag in report.diagnostics:
        groups.setdefault(diag.root, []).append(diag)
    for root, found in groups.items():
        ident = next((f"#{d.asset_id} " for d in found if d.asset_id is not None), "")
        title = f"{ident}assets/{root}" if root is not None else "Workspace"
        console.print(Text(title, style="bold"))
        print_diagnostics(console, found)
        console.print()
    scope = "whole workspace" if report.workspace else "registered assets"
    verdict = (Text(f"{plural(report.blocking_count, 'blocking finding')}: a build would be "
                    "blocked.", style="bold red") if report.blocking
               else Text("Nothing blocks a build.", style="green"))
    line = Text(f"Checked {plural(report.assets_checked, 'asset')} ({scope}): "
                f"{counts_text(report.errors, report.warnings, report.infos)}. ")
    line.append_text(verdict)
    console.print(line, soft_wrap=True)
