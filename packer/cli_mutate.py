"""Mutation commands: register, adopt, forget, remove, quarantine, relocate, include/exclude
(helper MUTATIONS fills this module).

`register(subparsers)` adds this module's subcommands with packer.cli_common.add_command.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the mutation commands (none yet)."""
