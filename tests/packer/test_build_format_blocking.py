"""Every glyph and sound blocking diagnostic blocks the build and leaves build/ untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from packer.build import build
from packer.files.project import Project
from packer.lane.events import Outcome
from packer.lane.sinks import ListSink
from tests.packer.build_support import PALETTE, add_asset, add_raw, new_project, snapshot_build
from tests.packer.formats_support import write_palette, write_png, write_wav


def tile(base: Path, name: str, size: int = 8) -> str:
    write_png(base / name, Image.new("RGBA", (size, size), (0, 0, 0, 0)))
    return name


def glyph(project: Project, tiles: list[str], palettes: list[str], **kw: Any) -> None:
    kw.setdefault("metadata", {"tile_size": 8})
    add_asset(project, "bad", "glyph_bank", {"tiles": tiles, "palettes": palettes}, **kw)


def with_palette(base: Path) -> list[str]:
    write_palette(base / "p.png", PALETTE)
    return ["p.png"]


def pk120(project: Project, base: Path) -> None:
    glyph(project, [tile(base, "000_a.png"), tile(base, "000_b.png")], with_palette(base))


def pk121(project: Project, base: Path) -> None:
    glyph(project, [tile(base, "000.png"), tile(base, "002.png")], with_palette(base))


def pk122(project: Project, base: Path) -> None:
    glyph(project, [tile(base, f"{i:03d}.png", 32) for i in range(65)], with_palette(base),
          metadata={"tile_size": 32})


def pk123(project: Project, base: Path) -> None:
    glyph(project, [tile(base, "000.png")], [])


def pk124(project: Project, base: Path) -> None:
    names = []
    for i in range(65):
        write_palette(base / f"p{i:02d}.png", PALETTE)
        names.append(f"p{i:02d}.png")
    glyph(project, [tile(base, "000.png")], names)


def pk125(project: Project, base: Path) -> None:
    write_palette(base / "p.png", [(i, i, i) for i in range(17)])
    glyph(project, [tile(base, "000.png")], ["p.png"])


def pk126(project: Project, base: Path) -> None:
    write_png(base / "000.png", Image.new("RGBA", (8, 8), (9, 9, 9, 255)))
    glyph(project, ["000.png"], with_palette(base))


def pk127(project: Project, base: Path) -> None:
    glyph(project, [tile(base, "000.png")], with_palette(base), metadata={"tile_size": 12})


def pk128(project: Project, base: Path) -> None:
    (base / "000.png").parent.mkdir(parents=True, exist_ok=True)
    (base / "000.png").write_bytes(b"\x89PNG but not really")
    glyph(project, ["000.png"], with_palette(base))


def sound(project: Project, names: list[str]) -> None:
    add_asset(project, "bad", "sound_bank", {"samples": names})


def pk130(project: Project, base: Path) -> None:
    base.mkdir(parents=True, exist_ok=True)
    (base / "a.wav").write_bytes(b"RIFF....WAVEnope")
    sound(project, ["a.wav"])


def pk131(project: Project, base: Path) -> None:
    write_wav(base / "a.wav", bytes(64), width=4)
    sound(project, ["a.wav"])


def pk132(project: Project, base: Path) -> None:
    write_wav(base / "a.wav", bytes(64), rate=22050)
    write_wav(base / "b.wav", bytes(64), rate=44100)
    sound(project, ["a.wav", "b.wav"])


def pk133(project: Project, base: Path) -> None:
    write_wav(base / "x" / "a.wav", bytes(64))
    write_wav(base / "y" / "a.wav", bytes(64))
    sound(project, ["x/a.wav", "y/a.wav"])


CASES: dict[str, Callable[[Project, Path], None]] = {
    "PK120": pk120, "PK121": pk121, "PK122": pk122, "PK123": pk123, "PK124": pk124,
    "PK125": pk125, "PK126": pk126, "PK127": pk127, "PK128": pk128,
    "PK130": pk130, "PK131": pk131, "PK132": pk132, "PK133": pk133,
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_format_error_blocks_the_build(tmp_path: Path, code: str) -> None:
    project = new_project(tmp_path)
    add_raw(project, "good", b"good")
    assert build(project).succeeded
    before = snapshot_build(project)
    CASES[code](project, project.assets_dir / "bad")
    sink = ListSink()
    result = build(project, sink)
    assert result.outcome is Outcome.BLOCKED, (code, result.error)
    assert code in {d.code for d in result.blocking}, [d.code for d in result.blocking]
    assert all(d.root == "bad" for d in result.blocking)
    final = sink.events[-1]
    assert final.outcome is Outcome.BLOCKED and final.detail is not None
    assert final.detail.type == "build_finished"
    assert code in {d.code for d in final.detail.blocking}
    assert "cache_miss" not in sink.kinds()  # nothing was encoded
    assert snapshot_build(project) == before
