"""build, doctor, list and show agree on what blocks a build (docs/diagnostics.md, "What
blocks a build"): the errors of the build set do, those of an excluded asset do not."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from packer.doctor import service
from packer.files.project import Project
from tests.packer.cli_support import Captured, run
from tests.packer.formats_support import write_wav
from tests.packer.project_builder import declaration_dict, make_project, write_asset


@pytest.fixture(autouse=True)
def validated_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Date validations 10 s ahead: the fixtures' files were just written, and a validation made
    inside their racy window would (rightly) not be trusted by the next `list`."""
    monkeypatch.setattr(service, "now_ns", lambda: time.time_ns() + 10_000_000_000)


def broken_sound_project(tmp_path: Path, *, included: bool, broken: str) -> Project:
    """A good raw asset plus a sound asset whose input is a zero-byte WAV (a format error) or
    is missing (a structural error)."""
    project = make_project(tmp_path)
    write_asset(project, "data/level")
    write_asset(project, "sfx/broken", files={}, included=included,
                declaration=declaration_dict("broken", asset_type="sound_bank",
                                             inputs={"samples": ["s0.wav"]}))
    if broken == "format":
        (project.assets_dir / "sfx/broken/s0.wav").write_bytes(b"")
    else:
        assert broken == "missing"
    write_wav(project.assets_dir / "data/level/unused.wav", b"\x00\x00")  # a hint, never blocks
    return project


def exit_codes(capsys: Captured, project: Project) -> dict[str, int]:
    where = str(project.root)
    codes = {
        "doctor": run(capsys, "doctor", where)[0],
        "doctor_workspace": run(capsys, "doctor", "--workspace", where)[0],
        "list_validate": run(capsys, "list", "--validate", where)[0],
        "list": run(capsys, "list", where)[0],  # from the cache doctor and --validate wrote
        "show": run(capsys, "show", where, "sfx/broken")[0],
        "build": run(capsys, "build", where)[0],
    }
    return codes


@pytest.mark.parametrize("broken", ["format", "missing"])
def test_an_excluded_broken_asset_blocks_nothing_anywhere(tmp_path: Path, capsys: Captured,
                                                          broken: str) -> None:
    project = broken_sound_project(tmp_path, included=False, broken=broken)
    assert exit_codes(capsys, project) == dict.fromkeys(
        ("doctor", "doctor_workspace", "list_validate", "list", "show", "build"), 0)
    # still reported, as an error of that asset
    _code, out, _err = run(capsys, "show", str(project.root), "sfx/broken")
    assert "error" in out


@pytest.mark.parametrize("broken", ["format", "missing"])
def test_an_included_broken_asset_blocks_everywhere(tmp_path: Path, capsys: Captured,
                                                    broken: str) -> None:
    project = broken_sound_project(tmp_path, included=True, broken=broken)
    assert exit_codes(capsys, project) == dict.fromkeys(
        ("doctor", "doctor_workspace", "list_validate", "list", "show", "build"), 1)
