"""Running `prometeu-packer` in-process for the CLI tests."""

from __future__ import annotations

import pytest

from packer.cli.main import main

Captured = pytest.CaptureFixture[str]


def run(capsys: Captured, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one command."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
