"""The validation cache: doctor validates only what changed; list reports what it knows."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from packer.doctor import service
from packer.doctor.queries import FormatCheck, list_assets_report
from packer.doctor.service import doctor
from packer.doctor.validation_cache import VALIDATION_FILE
from packer.files.project import Project
from tests.packer.cli_support import Captured, run
from tests.packer.formats_support import write_wav
from tests.packer.project_builder import declaration_dict, make_project, write_asset

FRAMES = b"\x01\x00\x02\x00" * 32


def sound_asset(project: Project, root: str, *, wav: bytes | None = None,
                included: bool = True) -> None:
    write_asset(project, root, files={},
                declaration=declaration_dict(root, asset_type="sound_bank",
                                             inputs={"samples": ["s0.wav"]}),
                included=included)
    target = project.assets_dir / root / "s0.wav"
    if wav is None:
        write_wav(target, FRAMES)
    else:
        target.write_bytes(wav)


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Roots validated, in order. Validation is also dated 10 s later than now: the fixtures'
    files were just written (ctime = now), inside the racy window of a validation made now."""
    validated: list[str] = []
    real = service.validate_format  # type: ignore[attr-defined]

    def counting(decl, root_path, *, root, asset_id):  # type: ignore[no-untyped-def]
        validated.append(root)
        return real(decl, root_path, root=root, asset_id=asset_id)

    monkeypatch.setattr(service, "validate_format", counting)
    monkeypatch.setattr(service, "now_ns", lambda: time.time_ns() + 10_000_000_000)
    return validated


def two_sounds(tmp_path: Path) -> Project:
    project = make_project(tmp_path)
    sound_asset(project, "sfx/jump")
    sound_asset(project, "sfx/land")
    return project


def test_an_unchanged_asset_is_not_validated_again(tmp_path: Path,
                                                   validations: list[str]) -> None:
    project = two_sounds(tmp_path)
    first = doctor(project)
    assert sorted(validations) == ["sfx/jump", "sfx/land"]
    assert (project.packer_dir / VALIDATION_FILE).is_file()
    validations.clear()
    second = doctor(project)
    assert validations == []
    assert second.diagnostics == first.diagnostics and not second.blocking


def test_a_changed_input_is_validated_again_and_its_new_error_found(
    tmp_path: Path, validations: list[str]
) -> None:
    project = two_sounds(tmp_path)
    doctor(project)
    validations.clear()
    (project.assets_dir / "sfx/land/s0.wav").write_bytes(b"")
    report = doctor(project)
    assert validations == ["sfx/land"]
    assert report.blocking
    assert {d.root for d in report.diagnostics if d.blocking} == {"sfx/land"}


def test_a_changed_declaration_is_validated_again(tmp_path: Path,
                                                  validations: list[str]) -> None:
    project = two_sounds(tmp_path)
    doctor(project)
    validations.clear()
    anchor = project.assets_dir / "sfx/jump/asset.json"
    decl = json.loads(anchor.read_text(encoding="utf-8"))
    anchor.write_text(json.dumps({**decl, "name": "jump2"}), encoding="utf-8")
    doctor(project)
    assert validations == ["sfx/jump"]


def test_an_input_inside_the_racy_window_is_validated_again(
    tmp_path: Path, validations: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = two_sounds(tmp_path)
    monkeypatch.setattr(service, "now_ns", time.time_ns)  # validated now: the files are racy
    doctor(project)
    validations.clear()
    doctor(project)
    assert sorted(validations) == ["sfx/jump", "sfx/land"]


@pytest.mark.parametrize("content", [b"{not json", b'{"schema_version": 99}', b"[]",
                                     b'{"schema_version": 1, "packer_version": "0.0.0"}'])
def test_a_corrupt_or_foreign_cache_is_survived_with_a_hint_and_rewritten(
    tmp_path: Path, validations: list[str], content: bytes
) -> None:
    project = two_sounds(tmp_path)
    clean = doctor(project)
    path = project.packer_dir / VALIDATION_FILE
    path.write_bytes(content)
    validations.clear()
    report = doctor(project)
    assert sorted(validations) == ["sfx/jump", "sfx/land"]
    hints = [d for d in report.diagnostics if d.code == "PK209"]
    assert len(hints) == 1 and not report.blocking
    assert [d for d in report.diagnostics if d.code != "PK209"] == list(clean.diagnostics)
    json.loads(path.read_text(encoding="utf-8"))  # rewritten, valid
    validations.clear()
    again = doctor(project)
    assert validations == [] and "PK209" not in {d.code for d in again.diagnostics}


def test_a_cache_entry_with_a_wrong_shape_is_a_corrupt_cache(tmp_path: Path,
                                                             validations: list[str]) -> None:
    project = two_sounds(tmp_path)
    doctor(project)
    path = project.packer_dir / VALIDATION_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["assets"]["sfx/jump"]["inputs"] = [["x", 1, 2]]
    path.write_text(json.dumps(data), encoding="utf-8")
    validations.clear()
    report = doctor(project)
    assert "PK209" in {d.code for d in report.diagnostics}
    assert sorted(validations) == ["sfx/jump", "sfx/land"]


def test_an_unwritable_cache_never_fails_doctor(tmp_path: Path, validations: list[str]) -> None:
    project = two_sounds(tmp_path)
    (project.packer_dir / VALIDATION_FILE).mkdir()  # cannot be replaced by a file
    report = doctor(project)
    assert not report.blocking and report.assets_checked == 2


def test_list_says_unchecked_never_ok_until_validated(tmp_path: Path,
                                                      validations: list[str]) -> None:
    project = two_sounds(tmp_path)
    listing = list_assets_report(project)
    assert {a.format_check for a in listing.assets} == {FormatCheck.UNCHECKED}
    assert validations == [] and not (project.packer_dir / VALIDATION_FILE).exists()
    validated = list_assets_report(project, validate=True)
    assert {a.format_check for a in validated.assets} == {FormatCheck.CHECKED}
    assert sorted(validations) == ["sfx/jump", "sfx/land"]
    validations.clear()
    assert {a.format_check for a in list_assets_report(project).assets} == {
        FormatCheck.CHECKED}
    assert validations == []


def test_list_flags_a_zero_byte_wav_once_validated_and_exits_1(
    tmp_path: Path, validations: list[str], capsys: Captured
) -> None:
    project = make_project(tmp_path)
    sound_asset(project, "sfx/empty", wav=b"")
    code, out, _err = run(capsys, "list", str(project.root))
    assert code == 0
    assert "unchecked" in out and " ok " not in f" {out} "
    code, out, _err = run(capsys, "list", "--validate", str(project.root))
    assert code == 1 and "1 error" in out
    code, listed, _err = run(capsys, "list", "--json", str(project.root))  # from the cache now
    assert code == 1
    [asset] = json.loads(listed)["assets"]
    assert asset["errors"] >= 1 and asset["format_check"] == "checked"


def test_doctor_makes_the_cache_list_reads(tmp_path: Path, validations: list[str],
                                           capsys: Captured) -> None:
    project = make_project(tmp_path)
    sound_asset(project, "sfx/empty", wav=b"")
    assert run(capsys, "doctor", str(project.root))[0] == 1
    code, out, _err = run(capsys, "list", str(project.root))
    assert code == 1 and "unchecked" not in out


def test_list_help_states_the_exit_code_rule(capsys: Captured) -> None:
    code, out, _err = run(capsys, "list", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "Exit 1 when the registry or an asset in the build set" in text
    assert "--validate" in text and "unchecked" in text


def test_gone_roots_leave_the_cache(tmp_path: Path, validations: list[str]) -> None:
    project = two_sounds(tmp_path)
    doctor(project)
    for name in os.listdir(project.assets_dir / "sfx/land"):
        os.unlink(project.assets_dir / "sfx/land" / name)
    os.rmdir(project.assets_dir / "sfx/land")
    doctor(project)
    data = json.loads((project.packer_dir / VALIDATION_FILE).read_text(encoding="utf-8"))
    assert list(data["assets"]) == ["sfx/jump"]
