"""Ctrl+C and SIGTERM during `prometeu-packer build` (issue 13: D8, D16).

The child signals itself at a deterministic step (packer.build.faults: `<step>:sigint` or
`:sigterm`), as a user's Ctrl+C or a `kill` would arrive there: no timing is involved. Before the
commit point the build ends `cancelled` with the reason, its staging removed and build/ as it
was; after it, the build completes and says so. Either way the exit code is 130 or 143 and the
event stream ends with exactly one terminal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from packer.build.faults import ENV_VAR
from tests.packer.build_support import add_raw, new_project
from tests.packer.test_build_kill import AFTER_COMMIT, BEFORE_COMMIT, old_and_changed, published

REPO = Path(__file__).resolve().parents[2]
EXIT = {"sigint": 130, "sigterm": 143}


def run_cli(*argv: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({ENV_VAR: fault} if fault else {})}
    return subprocess.run([sys.executable, "-m", "packer.cli.main", *argv], env=env, cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize("how", ["sigint", "sigterm"])
@pytest.mark.parametrize("step", [*BEFORE_COMMIT, "committed", "promoted"])
def test_an_interrupted_build_is_cancelled_or_completed_and_says_which(
    tmp_path: Path, step: str, how: str
) -> None:
    project, old, new = old_and_changed(tmp_path)
    child = run_cli("build", str(project.root), "--events", "jsonl", fault=f"{step}:{how}")
    assert child.returncode == EXIT[how], child.stderr
    assert "Traceback" not in child.stderr
    events = [json.loads(line) for line in child.stdout.splitlines()]
    terminals = [e for e in events if e["terminal"]]
    assert len(terminals) == 1 and events[-1] is terminals[-1]
    final = terminals[0]
    assert not (project.build_dir / ".staging").exists()
    signame = "SIGINT" if how == "sigint" else "SIGTERM"
    if step in AFTER_COMMIT or step == "promoted":
        assert final["outcome"] == "succeeded"
        assert published(project) == new
        assert "after the build's commit point" in child.stderr and signame in child.stderr
    else:
        assert final["outcome"] == "cancelled"
        assert signame in final["detail"]["error"]
        assert "build/ is unchanged" in final["summary"]
        assert published(project) == old


def test_an_interrupted_first_build_leaves_no_build_folder(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"a" * 100)
    child = run_cli("build", str(project.root), fault="encode:sigint")
    assert child.returncode == 130
    assert "cancelled" in child.stderr and "SIGINT" in child.stderr
    assert "Traceback" not in child.stderr
    assert not project.build_dir.exists()


def test_ctrl_c_while_the_command_line_starts_is_quiet(tmp_path: Path) -> None:
    # The SIGINT arrives while `packer.cli.main` (and all it imports) is being imported.
    script = (
        "import builtins, os, signal, sys\n"
        "import packer.cli.entry as entry\n"
        "real_import = builtins.__import__\n"
        "def importing(name, *args, **kwargs):\n"
        "    if name == 'packer.cli.main':\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real_import(name, *args, **kwargs)\n"
        "builtins.__import__ = importing\n"
        "sys.argv = ['prometeu-packer', '--version']\n"
        "raise SystemExit(entry.main())\n"
    )
    child = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                           text=True, check=False, timeout=60)
    assert child.returncode == 128 + signal.SIGINT
    assert child.stderr == ""
