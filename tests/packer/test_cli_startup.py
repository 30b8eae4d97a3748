"""Start-up: a command imports only what it uses (timings are in bench/scale.py, not here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample-project"
HEAVY = ("pydantic", "rich", "PIL", "packer.build.runner", "packer.mutations.service",
         "packer.doctor", "packer.workspace")


def modules_after(args: list[str]) -> list[str]:
    code = (
        "import contextlib, io, json, sys\n"
        "from packer.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({args!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def heavy(loaded: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in loaded if m.split(".")[0] in prefixes or m.startswith(prefixes)]


def test_version_loads_no_models_no_rich_no_commands() -> None:
    assert heavy(modules_after(["--version"]), HEAVY) == []


def test_list_json_loads_neither_rich_nor_the_build_nor_the_mutation_service(
    tmp_path: Path,
) -> None:
    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project)
    loaded = modules_after(["list", "--json", str(project)])
    assert "packer.doctor.queries" in loaded  # it did list
    assert heavy(loaded, ("rich", "PIL", "packer.build.runner", "packer.mutations.service",
                          "packer.mutations.planning")) == []


def test_scan_json_loads_neither_rich_nor_the_build_nor_the_mutation_service(
    tmp_path: Path,
) -> None:
    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project)
    loaded = modules_after(["scan", "--json", str(project)])
    assert "packer.doctor.rescan" in loaded  # it did scan
    assert heavy(loaded, ("rich", "PIL", "packer.build.runner", "packer.mutations.service",
                          "packer.mutations.planning")) == []


def test_a_build_that_decodes_no_tile_never_loads_pillow(tmp_path: Path) -> None:
    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project)
    assert "PIL" in modules_after(["build", "--json", str(project)])  # its glyph banks
    loaded = modules_after(["build", "--json", str(project)])  # up to date: nothing decoded
    assert "packer.build.runner" in loaded  # it did build
    assert heavy(loaded, ("PIL",)) == []


def test_a_finished_command_exits_at_once_with_its_output_complete(tmp_path: Path) -> None:
    # The console script ends without the interpreter's teardown (packer.cli.entry): what it
    # printed must all be there, and what an operation released is kept, not freed.
    project = tmp_path / "p"
    shutil.copytree(SAMPLE, project)
    code = (
        "import atexit, sys\n"
        "from packer.lane import release\n"
        "atexit.register(lambda: print('TEARDOWN', file=sys.stderr))\n"
        "sys.argv = ['prometeu-packer', 'build', '--json', sys.argv[1]]\n"
        "import packer.cli.entry as entry\n"
        "try:\n"
        "    entry.main()\n"
        "finally:\n"
        "    print('KEPT', len(release._UntilExit.kept), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # complete: flushed before the process ended
    assert result["outcome"] == "succeeded" and result["asset_count"] > 0
    assert "TEARDOWN" not in done.stderr and "KEPT" not in done.stderr
