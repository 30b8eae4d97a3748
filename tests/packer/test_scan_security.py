"""Hostile and broken workspaces: every problem is a diagnostic, never a traceback, and an input
that escapes its root is never opened."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from packer.doctor.queries import get_asset_details, list_assets
from packer.doctor.service import doctor
from packer.files.project import Project
from packer.workspace.scan import AssetState, build_snapshot
from tests.packer.project_builder import declaration_dict, make_project, write_asset

# ---- a guard that records every attempt to open a forbidden path (audit hook: covers
# builtins.open, io.open, os.open and pathlib alike). Audit hooks cannot be removed, so one hook
# is installed for the session and consults a set that each test fills and clears.
_FORBIDDEN: set[str] = set()
_OPENED: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _FORBIDDEN or not args:
        return
    path = args[0]
    if isinstance(path, int):
        return
    flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
    try:
        name = os.fsdecode(path)
        if flags & getattr(os, "O_NOFOLLOW", 0):
            # The last component is not followed: what is opened (or refused) is the link itself.
            real = os.path.join(os.path.realpath(os.path.dirname(name)), os.path.basename(name))
        else:
            real = os.path.realpath(name)
    except (TypeError, ValueError):
        return
    if real in _FORBIDDEN:
        _OPENED.append(real)


sys.addaudithook(_audit)  # once per process: this module is imported once


@pytest.fixture
def forbid_open() -> Iterator[Callable[[Path], None]]:
    def forbid(path: Path) -> None:
        _FORBIDDEN.add(os.path.realpath(path))

    yield forbid
    _FORBIDDEN.clear()
    opened = list(_OPENED)
    _OPENED.clear()
    assert opened == [], f"forbidden files were opened: {opened}"


def run_bounded(work: Callable[[], object], unblock: Path) -> None:
    """Run `work` in a thread; if it has not finished in 20 s it is stuck opening the FIFO, so
    open the FIFO's other end to free it, and fail."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():
        fd = os.open(unblock, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(timeout=20)
        pytest.fail("the operation blocked opening the FIFO behind an escaping symlink")
    if errors:
        raise errors[0]


def codes_of(project: Project, root: str) -> list[str]:
    record = build_snapshot(project).by_root(root)
    assert record is not None
    return [d.code for d in record.diagnostics]


def test_input_with_dotdot_is_pk107_and_never_opened(
    tmp_path: Path, forbid_open: Callable[[Path], None]
) -> None:
    project = make_project(tmp_path)
    secret = project.assets_dir / "secret.bin"
    secret.write_bytes(b"do not read")
    forbid_open(secret)
    decl = declaration_dict("sneaky", inputs={"data": ["../secret.bin"]})
    write_asset(project, "sneaky", declaration=decl, files={})
    assert codes_of(project, "sneaky") == ["PK107"]
    report = doctor(project, workspace=True)
    assert "PK107" in [d.code for d in report.diagnostics]
    assert report.blocking
    details = get_asset_details(project, "sneaky")
    assert details.inputs[0].escapes_root and details.inputs[0].size is None


def test_absolute_input_is_pk107(tmp_path: Path, forbid_open: Callable[[Path], None]) -> None:
    project = make_project(tmp_path)
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"x" * 10)
    forbid_open(outside)
    decl = declaration_dict("abs", inputs={"data": [str(outside)]})
    write_asset(project, "abs", declaration=decl, files={})
    assert codes_of(project, "abs") == ["PK107"]
    doctor(project, workspace=True)


def test_symlink_escaping_to_a_fifo_is_pk107_and_the_fifo_is_never_opened(
    tmp_path: Path, forbid_open: Callable[[Path], None]
) -> None:
    project = make_project(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it for reading would block until a writer appears
    forbid_open(fifo)
    write_asset(project, "linked", files={})
    os.symlink(fifo, project.assets_dir / "linked" / "data.bin")
    assert codes_of(project, "linked") == ["PK107"]
    run_bounded(lambda: doctor(project, workspace=True), fifo)
    run_bounded(lambda: get_asset_details(project, "linked"), fifo)
    run_bounded(lambda: list_assets(project), fifo)


def test_malformed_json_is_pk103(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "broken")
    (project.assets_dir / "broken" / "asset.json").write_text('{"schema_version": 1,')
    assert codes_of(project, "broken") == ["PK103"]
    (project.assets_dir / "broken" / "asset.json").write_bytes(b"\xff\xfe{}")
    assert codes_of(project, "broken") == ["PK103"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", 5), ("inputs", ["a"]), ("preload", {"enabled": "yes"}), ("type", "video"),
     ("asset_uuid", "NOT-A-UUID"), ("schema_version", "1")],
)
def test_wrong_types_are_pk104(tmp_path: Path, field: str, value: object) -> None:
    project = make_project(tmp_path)
    decl = dict(declaration_dict("typed"), **{field: value})
    write_asset(project, "typed", declaration=decl)
    found = build_snapshot(project).by_root("typed")
    assert found is not None
    assert [d.code for d in found.diagnostics] == ["PK104"]
    assert field in found.diagnostics[0].message


def test_unknown_declaration_schema_version_is_pk105(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "future", declaration=dict(declaration_dict("future"),
                                                    schema_version=2))
    assert codes_of(project, "future") == ["PK105"]


@pytest.mark.parametrize(
    ("content", "code"),
    [(b'{"schema_version": 9, "project_id": "p", "next_asset_id": 1}', "PK004"),
     (b"{not json", "PK003"),
     (b'{"schema_version": 1, "project_id": "p", "next_asset_id": "one"}', "PK003")],
)
def test_bad_registry_is_a_workspace_diagnostic(tmp_path: Path, content: bytes, code: str) -> None:
    project = make_project(tmp_path)
    write_asset(project, "a", register=False)
    project.registry_path.write_bytes(content)
    snapshot = build_snapshot(project)
    assert [d.code for d in snapshot.diagnostics] == [code]
    assert [a.state for a in snapshot.assets] == [AssetState.UNREGISTERED]
    report = doctor(project)
    assert report.blocking and report.diagnostics[0].code == code


def test_unreadable_anchor_is_pk115(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path)
    write_asset(project, "locked")
    anchor = project.assets_dir / "locked" / "asset.json"
    real_open = os.open

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(path) == anchor:  # the tests run as root, which chmod cannot stop
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    assert codes_of(project, "locked") == ["PK115"]
    assert doctor(project).blocking


def test_unreadable_input_is_pk112(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path)
    write_asset(project, "noperm")
    target = os.path.realpath(project.assets_dir / "noperm" / "data.bin")
    real_access = os.access

    def access(path: Any, mode: int, **kw: Any) -> bool:
        if os.path.realpath(path) == target:
            return False
        return real_access(path, mode, **kw)

    monkeypatch.setattr(os, "access", access)
    assert codes_of(project, "noperm") == ["PK112"]


def test_directory_where_an_input_file_is_expected_is_pk114(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "dir_input", files={"data.bin/inner.txt": b"x"})
    assert codes_of(project, "dir_input") == ["PK114"]


def test_missing_input_is_pk106(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "short", files={})
    assert codes_of(project, "short") == ["PK106"]


def test_symlink_loop_folder_is_pk207_and_scanned_once(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "looped")
    os.symlink(project.assets_dir / "looped", project.assets_dir / "looped" / "again")
    snapshot = build_snapshot(project)
    assert [d.code for d in snapshot.diagnostics] == ["PK207"]
    assert [a.root for a in snapshot.assets] == ["looped"]
    report = doctor(project, workspace=True)
    assert not report.blocking
    assert "PK207" in [d.code for d in report.diagnostics]


def test_folder_symlink_leading_outside_assets_is_pk207_and_not_walked(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    outside = tmp_path / "elsewhere"
    write_asset(project, "kept")
    (outside / "stray").mkdir(parents=True)
    (outside / "stray" / "asset.json").write_text("{}")  # would be a broken asset if walked
    os.symlink(outside, project.assets_dir / "linked")
    inner = project.assets_dir / "inner_link"
    os.symlink(project.assets_dir / "kept", inner)  # a second view of a folder walked anyway
    snapshot = build_snapshot(project)
    assert [a.root for a in snapshot.assets] == ["kept"]
    messages = sorted(d.message for d in snapshot.diagnostics)
    assert [d.code for d in snapshot.diagnostics] == ["PK207", "PK207"]
    assert "inner_link is a symlink to assets/kept" in messages[0]
    assert "linked is a symlink to" in messages[1] and "outside assets/" in messages[1]


def test_self_referencing_symlink_input_is_a_diagnostic(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "selfie", files={})
    os.symlink("data.bin", project.assets_dir / "selfie" / "data.bin")  # ELOOP on stat
    found = codes_of(project, "selfie")
    assert len(found) == 1 and found[0] in {"PK107", "PK112"}
    doctor(project, workspace=True)
    get_asset_details(project, "selfie")


def test_non_utf8_names_are_pk207_not_a_traceback(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    write_asset(project, "named")
    os.mkdir(os.fsencode(project.assets_dir) + b"/bad\xffdir")
    with open(os.fsencode(project.assets_dir / "named") + b"/junk\xfe.bin", "wb") as handle:
        handle.write(b"x")
    snapshot = build_snapshot(project)
    assert sorted(d.code for d in snapshot.diagnostics) == ["PK207", "PK207"]
    record = snapshot.by_root("named")
    assert record is not None and record.files == ("asset.json", "data.bin")
    report = doctor(project, workspace=True)
    assert not report.blocking
    listing = list_assets(project)
    assert [a.root for a in listing] == ["named"]
    json.dumps(report.model_dump(mode="json"))  # the report stays serialisable


def test_input_through_a_folder_symlink_escaping_the_root_is_pk107_and_never_opened(
    tmp_path: Path, forbid_open: Callable[[Path], None]
) -> None:
    # The scan trusts the walk's listing only for files it saw as plain entries below plain
    # folders: an input behind a linked folder is resolved, and refused, on the disk.
    project = make_project(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "data.bin").write_bytes(b"secret")
    forbid_open(outside / "data.bin")
    decl = declaration_dict("via", inputs={"data": ["sub/data.bin"]})
    write_asset(project, "via", declaration=decl, files={})
    os.symlink(outside, project.assets_dir / "via" / "sub")
    assert codes_of(project, "via") == ["PK107"]
    doctor(project, workspace=True)


def test_inputs_the_walk_listed_resolve_as_the_disk_does(tmp_path: Path) -> None:
    from packer.files.declaration import parse_declaration
    from packer.files.paths import InsideRoot
    from packer.lane.cancellation import CancellationToken
    from packer.workspace.anchors import check_inputs_with_stats
    from packer.workspace.walk import files_under, plain_files_under, walk_assets

    project = make_project(tmp_path)
    decl = declaration_dict("mix", inputs={"data": ["a.bin", "./d/b.bin", "link.bin", "gone.bin",
                                                    "inner/c.bin"]})
    write_asset(project, "mix", declaration=decl, files={"a.bin": b"a", "d/b.bin": b"b",
                                                         "real/c.bin": b"c"})
    os.symlink("a.bin", project.assets_dir / "mix" / "link.bin")  # stays inside
    os.symlink("real", project.assets_dir / "mix" / "inner")  # a folder link, inside too
    walk = walk_assets(project.assets_dir, CancellationToken())
    files = files_under(walk, "mix")
    plain = plain_files_under(walk, "mix", files)
    assert "link.bin" in files and "link.bin" not in plain and "a.bin" in plain
    parsed, _ = parse_declaration((project.assets_dir / "mix/asset.json").read_bytes(), root="mix")
    assert parsed is not None
    real_assets = os.path.realpath(project.assets_dir)
    by_disk = check_inputs_with_stats(parsed, InsideRoot.below(real_assets, "mix"), root="mix",
                                      asset_id=None)
    by_walk = check_inputs_with_stats(parsed, InsideRoot.walked(real_assets, "mix"), root="mix",
                                      asset_id=None, plain=plain)
    assert by_walk == by_disk
    assert [d.code for d in by_disk[0]] == ["PK106"]  # gone.bin; the links resolve inside
