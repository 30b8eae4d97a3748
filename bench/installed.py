"""Run the packer as an installed copy runs: from byte-compiled modules.

pip writes `__pycache__/*.pyc` when it installs a package, and an editable checkout writes them
the first time it runs, unless `PYTHONDONTWRITEBYTECODE` is set, as it is on the machine these
benchmarks were written on: there, every `prometeu-packer` process compiled the packer's source
again (≈ 0.15 s of each start-up, docs/benchmarks.md), which no user pays. The benchmarks
compile it once, as an install does, before they measure.
"""

from __future__ import annotations

import compileall
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("packer", "studio")


def compile_packages() -> str:
    """Byte-compile this checkout's packages (py_compile writes whatever the environment says);
    returns a line saying so, for the benchmark's output."""
    ok = all(compileall.compile_dir(REPO / name, quiet=1) for name in PACKAGES)
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE")
    return (f"# bytecode: {', '.join(PACKAGES)} compiled as an install does"
            f"{' (PYTHONDONTWRITEBYTECODE is set here)' if flag else ''}"
            f"{'' if ok else '; SOME MODULES FAILED TO COMPILE'}")
