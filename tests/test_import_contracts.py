"""The layer contracts in pyproject.toml ([tool.importlinter]) hold: `lint-imports` passes.

Run here so that the suite (and .ci/run) fails when an import breaks the architecture; the
output names the contract and the import chain. Imports inside functions count.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_lint_imports_keeps_every_contract() -> None:
    # The console script installed next to this interpreter (the `test` extra brings it).
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports is not None, "lint-imports is missing: pip install -e '.[test]'"
    done = subprocess.run(
        [lint_imports, "--no-cache", "--no-logo"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, f"lint-imports failed:\n{done.stdout}{done.stderr}"
    assert "0 broken" in done.stdout
