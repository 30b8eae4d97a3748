"""`prometeu-packer`: the packer's command line.

Core commands live here (init, list, show, doctor); build and mutation commands are registered by
packer.cli_build and packer.cli_mutate. Shared options, output channels and exit codes are in
packer.cli_common.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from packer import __version__, cli_build, cli_mutate
from packer.cli_common import EXIT_USAGE, run_handler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prometeu-packer",
        description="Scan, diagnose and build the assets of a PROMETEU game project.",
        epilog="Exit codes: 0 fine, 1 blocking findings, 2 usage error or not a project.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (cli_build, cli_mutate):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script passes it to sys.exit)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return run_handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
