"""The packer is plain Python: importing all of it must not load Qt or the Studio."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import packer

FORBIDDEN = ("PySide6", "shiboken6", "studio", "qtpy", "superqt", "PyQt5", "PyQt6")


def test_importing_every_packer_module_loads_no_qt_and_no_studio() -> None:
    modules = sorted(
        m.name for m in pkgutil.walk_packages(packer.__path__, prefix="packer.")
    )
    assert "packer.lane.events" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, check=True, cwd=Path(packer.__file__).parent.parent,
    )
    assert result.stdout.strip() == "", f"packer pulled in: {result.stdout.strip()}"


def test_packer_sources_have_no_qt_or_studio_import_statements() -> None:
    # Catches imports hidden in functions or behind TYPE_CHECKING, which the run above cannot see.
    root = Path(packer.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            words = line.strip().split()
            if len(words) >= 2 and words[0] in {"import", "from"}:
                top = words[1].split(".")[0]
                if top in FORBIDDEN:
                    offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []
