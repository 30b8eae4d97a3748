"""Path rules that a deliberate-bug check found unguarded (issue 13): the containment check's
trailing separator, and backslash or drive-letter inputs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from packer.doctor.service import doctor
from packer.files.paths import InsideRoot, UnsafePathError, relative_parts
from tests.packer.project_builder import declaration_dict, make_project, write_asset
from tests.packer.test_scan_security import forbid_open

__all__ = ["forbid_open"]  # a fixture


@pytest.mark.parametrize("path", ["a\\b.png", "\\abs.png", "C:/data.bin", "c:data.bin",
                                  "Z:\\x.bin"])
def test_backslashes_and_drive_letters_are_refused(path: str) -> None:
    with pytest.raises(UnsafePathError, match="forward slashes and no drive letter"):
        relative_parts(path)


def test_a_link_into_a_sibling_root_sharing_the_prefix_is_outside(
    tmp_path: Path, forbid_open: Callable[[Path], None]
) -> None:
    # `hero` must not read `hero_secret`, although "…/hero_secret" starts with "…/hero".
    project = make_project(tmp_path)
    write_asset(project, "hero_secret", files={"data.bin": b"secret"})
    write_asset(project, "hero", declaration=declaration_dict("hero",
                                                                 inputs={"data": ["link.bin"]}),
                files={})
    secret = project.assets_dir / "hero_secret" / "data.bin"
    os.symlink(secret, project.assets_dir / "hero" / "link.bin")
    with pytest.raises(UnsafePathError, match="outside the asset root"):
        InsideRoot(project.assets_dir / "hero").resolve("link.bin")
    forbid_open(secret)
    report = doctor(project)
    assert [(d.code, d.root) for d in report.diagnostics] == [("PK107", "hero")]


def test_a_link_that_stays_inside_its_root_is_followed(tmp_path: Path) -> None:
    # The other side of the containment check: a link within the root (even to the root's own
    # folder) is fine, and resolves to where it leads, not relative to the current folder.
    base = tmp_path / "hero"
    (base / "art").mkdir(parents=True)
    (base / "art" / "tile.png").write_bytes(b"png")
    os.symlink("art/tile.png", base / "link.png")
    os.symlink(".", base / "here")
    inside = InsideRoot(base)
    assert inside.resolve("link.png") == (base / "art" / "tile.png").resolve()
    assert inside.resolve("here") == base.resolve()
    assert inside.resolve("here/art/tile.png") == (base / "art" / "tile.png").resolve()
