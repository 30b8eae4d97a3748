"""Path rules that a deliberate-bug check found unguarded (issue 13): the containment check's
trailing separator, and backslash or drive-letter inputs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.doctor.service import doctor
from packer.files import paths
from packer.files.paths import (
    InsideRoot,
    UnsafePathError,
    check_relative,
    relative_parts,
    resolve_inside,
)
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


@pytest.mark.parametrize("root", ["hero", "BOX", "hero "])
def test_a_link_that_stays_inside_its_root_is_followed(tmp_path: Path, root: str) -> None:
    # The other side of the containment check: a link within the root (even to the root's own
    # folder) is fine, and resolves to where it leads, not relative to the current folder.
    base = tmp_path / root
    (base / "art").mkdir(parents=True)
    (base / "art" / "tile.png").write_bytes(b"png")
    os.symlink("art/tile.png", base / "link.png")
    os.symlink(".", base / "here")
    inside = InsideRoot(base)
    assert inside.resolve("link.png") == (base / "art" / "tile.png").resolve()
    assert inside.resolve("here") == base.resolve()
    assert inside.resolve("here/art/tile.png") == (base / "art" / "tile.png").resolve()


# The rest: each rule of packer/files/paths.py as a caller relies on it (mutmut found these
# unasserted: docs/testing.md).

@pytest.mark.parametrize(("path", "message"), [
    ("", "is empty or has a NUL byte"),
    ("art/ti\x00le.png", "is empty or has a NUL byte"),
    ("/etc/passwd", "is absolute; use a path relative to the asset root"),
    ("..", "climbs out with `..`"),
    ("art/../../secret", "climbs out with `..`"),
    ("c:", "must use forward slashes and no drive letter"),
])
def test_unsafe_relative_paths_are_refused_with_their_reason(path: str, message: str) -> None:
    with pytest.raises(UnsafePathError) as raised:
        relative_parts(path)
    assert str(raised.value) == f"{path!r} {message}"


@pytest.mark.parametrize(("path", "parts"), [
    ("a", ("a",)),  # one character: no drive letter to look for
    (":", (":",)),
    ("hero:v2.png", ("hero:v2.png",)),  # a colon elsewhere is an ordinary character
    ("./art//tile.png/.", ("art", "tile.png")),
    ("a..b/..c", ("a..b", "..c")),  # only a whole `..` component climbs
])
def test_safe_relative_paths_keep_their_components(path: str, parts: tuple[str, ...]) -> None:
    assert relative_parts(path) == parts


def test_check_relative_normalises_as_posix_does() -> None:
    assert check_relative("./art//tile.png") == PurePosixPath("art/tile.png")
    with pytest.raises(UnsafePathError):
        check_relative("../x")


def _tree_with_links(tmp_path: Path) -> Path:
    """real/assets/{plain/deep, linked -> plain, dotted}; returns the resolved assets folder."""
    assets = tmp_path / "real" / "assets"
    (assets / "plain" / "deep").mkdir(parents=True)
    (assets / "plain" / "deep" / "tile.png").write_bytes(b"png")
    os.symlink("plain", assets / "linked")
    (assets / "tmp" / "deep").mkdir(parents=True)  # a name that also exists at the top: /tmp
    return Path(os.path.realpath(assets))


@pytest.mark.parametrize("rel", ["plain", "plain/deep", "linked", "linked/deep", "missing/x",
                                 "plain/./deep", "plain/../plain/deep", "plain//deep", ".", "",
                                 "missing/../plain", "tmp", "tmp/deep"])
def test_below_is_the_same_as_resolving_from_scratch(tmp_path: Path, rel: str) -> None:
    assets = _tree_with_links(tmp_path)
    assert InsideRoot.below(str(assets), rel).real_base == InsideRoot(assets / rel).real_base


def test_below_from_the_filesystem_root(tmp_path: Path) -> None:
    assets = _tree_with_links(tmp_path)
    for rel in ("plain/deep", "linked/deep"):
        whole = f"{str(assets).lstrip('/')}/{rel}"
        assert InsideRoot.below("/", whole).real_base == os.path.realpath(f"/{whole}")


def test_walked_joins_without_touching_the_disk() -> None:
    assert InsideRoot.walked("/no/such/assets", "hero/art").real_base == "/no/such/assets/hero/art"
    assert InsideRoot.walked("/no/such/assets/", "hero").real_base == "/no/such/assets/hero"
    assert InsideRoot.walked("/no/such/assets", "").real_base == "/no/such/assets"
    assert InsideRoot.walked("/no/such/BOX", "hero").real_base == "/no/such/BOX/hero"


def test_a_listed_path_is_trusted_and_an_unlisted_one_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = tmp_path / "hero"
    base.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"secret")
    os.symlink(tmp_path / "secret.bin", base / "link.bin")
    inside = InsideRoot(base)
    real = inside.real_base
    # Listed by the walk as a plain file (normalised first): joined, without touching the disk
    # (the scan's fast path: thousands of inputs, no system call each).
    with monkeypatch.context() as patched:
        patched.setattr(os, "lstat", _no_disk)
        assert inside.resolve_listed("./art//a.png", frozenset({"art/a.png"})) == (
            f"{real}/art/a.png")
    with pytest.raises(UnsafePathError, match="outside the asset root"):
        inside.resolve_listed("link.bin", frozenset({"art/a.png"}))
    with pytest.raises(UnsafePathError, match="climbs out"):
        inside.resolve_listed("../x", frozenset({"../x"}))
    assert InsideRoot(Path("/")).resolve_listed("etc/x", frozenset({"etc/x"})) == "/etc/x"


def _no_disk(*_args: object, **_kwargs: object) -> os.stat_result:
    raise AssertionError("the disk was touched")


def test_a_missing_path_resolves_lexically_inside(tmp_path: Path) -> None:
    base = tmp_path / "hero"
    (base / "art").mkdir(parents=True)
    inside = InsideRoot(base)
    assert inside.resolve_str("art/new/tile.png") == f"{inside.real_base}/art/new/tile.png"
    assert inside.resolve_str("./art") == f"{inside.real_base}/art"
    assert resolve_inside(base, "art/x.png") == Path(inside.real_base) / "art" / "x.png"
    root = InsideRoot(Path("/"))
    assert root.resolve_str("no-such-folder-here/x") == "/no-such-folder-here/x"
    assert root.resolve_str("tmp") == "/tmp"


def test_a_link_past_a_link_and_a_link_out_and_back(tmp_path: Path) -> None:
    base = tmp_path / "hero"
    (base / "art").mkdir(parents=True)
    (base / "art" / "tile.png").write_bytes(b"png")
    os.symlink("art", base / "pics")
    os.symlink("../hero/art/tile.png", base / "roundabout.png")  # leaves and comes back
    os.symlink("..", base / "up")
    inside = InsideRoot(base)
    real = inside.real_base
    assert inside.resolve_str("pics/tile.png") == f"{real}/art/tile.png"
    assert inside.resolve_str("roundabout.png") == f"{real}/art/tile.png"
    assert inside.resolve_str("up/hero/art") == f"{real}/art"  # where it lands decides
    with pytest.raises(UnsafePathError) as raised:
        inside.resolve_str("up/other")
    assert str(raised.value) == "'up/other' resolves outside the asset root (through a symlink)"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="a./\\:\x00", max_size=8))
def test_the_listed_fast_path_takes_only_what_the_lexical_check_gives_back_unchanged(
    path: str,
) -> None:
    # resolve_listed skips relative_parts for a listed path it judges normal: it must judge so
    # only a path that relative_parts accepts and joins back to exactly the same text.
    if paths._normal_relative(path):
        assert "/".join(relative_parts(path)) == path


@pytest.mark.parametrize("path", ["../x", "/x", "a/../x", "a\\x", "c:x", "", "a\x00"])
def test_a_listed_path_is_still_refused_when_the_lexical_check_refuses_it(path: str) -> None:
    with pytest.raises(UnsafePathError):
        InsideRoot(Path("/tmp")).resolve_listed(path, frozenset({path}))


def test_a_folder_found_plain_is_lstat_ed_once_per_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tiles").mkdir()
    for index in range(8):
        (tmp_path / "tiles" / f"{index:03d}.png").write_bytes(b"x")
    inside = InsideRoot(tmp_path)
    seen: list[str] = []
    real_lstat = os.lstat

    def counting_lstat(path: str) -> os.stat_result:
        seen.append(os.path.basename(path))
        return real_lstat(path)

    monkeypatch.setattr("packer.files.paths.os.lstat", counting_lstat)
    resolved = [inside.resolve_stat(f"tiles/{index:03d}.png") for index in range(8)]

    assert seen.count("tiles") == 1
    assert len(seen) == 9
    assert all(status is not None and status.st_size == 1 for _path, status in resolved)


def test_a_symlinked_folder_is_still_refused_after_a_plain_one(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"s")
    root = tmp_path / "root"
    (root / "tiles").mkdir(parents=True)
    (root / "tiles" / "000.png").write_bytes(b"x")
    (root / "escape").symlink_to(outside)
    inside = InsideRoot(root)

    assert inside.resolve_stat("tiles/000.png")[1] is not None
    with pytest.raises(UnsafePathError):
        inside.resolve_stat("escape/secret.png")
