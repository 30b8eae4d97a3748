"""GLYPH/indexed_v1: exact payload bytes, every blocking diagnostic, its sheet, cancellation."""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pydantic import JsonValue

from packer.diagnostics import Diagnostic
from packer.files.declaration import AssetDeclaration
from packer.formats import FormatError, pipelines
from packer.formats.glyph import GLYPH_PIPELINE, render_sheet
from packer.formats.glyph_sheet import (
    PAYLOAD_BYTES,
    SHEET_BYTES,
    pack_nibbles,
    rgb565,
    sheet_indices,
    tile_indices,
    unpack_nibbles,
    unpack_palettes,
)
from packer.lane.cancellation import CancellationToken, OperationCancelled
from tests.packer.formats_support import declaration, write_palette, write_png
from tests.packer.glyph_layouts import LAYOUTS, OLD_PREVIEW_SHA256, layout_bank, tile_image

KEY = (255, 0, 255)  # colour 0: the transparent key
WHITE, RED, BLUE = (255, 255, 255), (255, 0, 0), (0, 0, 255)
ODD = (0x12, 0x34, 0x56)
Colour = tuple[int, int, int]


def glyph(
    tiles: list[str], palettes: list[str], *, tile_size: JsonValue = 8,
    pipeline: dict[str, JsonValue] | None = None, metadata: dict[str, JsonValue] | None = None,
) -> AssetDeclaration:
    meta: dict[str, JsonValue] = {"tile_size": tile_size}
    meta.update(metadata or {})
    return declaration("glyph_bank", {"tiles": tiles, "palettes": palettes},
                       metadata=meta, pipeline=pipeline)


def check(decl: AssetDeclaration, root: Path) -> list[Diagnostic]:
    """validate's findings; encode must refuse with the same format diagnostics."""
    found = GLYPH_PIPELINE.validate(decl, root, root="gfx/bank", asset_id=4)
    assert found, "expected blocking diagnostics"
    assert all(d.blocking and d.root == "gfx/bank" and d.asset_id == 4 for d in found)
    with pytest.raises(FormatError) as caught:
        GLYPH_PIPELINE.encode(decl, root, CancellationToken())
    assert [d.code for d in caught.value.diagnostics] == [d.code for d in found]
    return found


def two_tile_bank(root: Path) -> AssetDeclaration:
    write_palette(root / "pal/0.png", [KEY, WHITE, RED, BLUE])
    write_palette(root / "pal/1.png", [KEY, ODD])
    # tile 0: left half white (1), right half red (2); tile 1: blue (3) checkerboard on clear
    write_png(root / "t/000_split.png",
              tile_image(8, lambda x, y: WHITE if x < 4 else RED))
    write_png(root / "t/001_check.png",
              tile_image(8, lambda x, y: BLUE if (x + y) % 2 else None))
    write_png(root / "t/002_odd.png", tile_image(8, lambda x, y: ODD if y == 0 else KEY))
    return glyph(["t/001_check.png", "t/000_split.png", "t/002_odd.png"],
                 ["pal/0.png", "pal/1.png"],
                 pipeline={"tile_palettes": {"t/002_odd.png": 1}})


def test_golden_bytes_of_a_tiny_bank(tmp_path: Path) -> None:
    encoded = GLYPH_PIPELINE.encode(two_tile_bank(tmp_path), tmp_path, CancellationToken())
    payload = encoded.payload
    assert len(payload) == PAYLOAD_BYTES == 34_816
    for y in range(8):
        row = payload[y * 128:(y + 1) * 128]
        expected_check = bytes([0x03 if y % 2 == 0 else 0x30]) * 4
        odd = b"\x11" * 4 if y == 0 else b"\x00" * 4  # KEY pixels are index 0
        assert row[:12] == b"\x11\x11\x22\x22" + expected_check + odd, y
        assert row[12:] == bytes(116)
    assert payload[8 * 128:SHEET_BYTES] == bytes(SHEET_BYTES - 8 * 128)
    palettes = payload[SHEET_BYTES:]
    assert palettes[:8] == bytes.fromhex("1ff8 ffff 00f8 1f00")
    assert palettes[8:32] == bytes(24)
    assert palettes[32:36] == bytes.fromhex("1ff8 aa11")  # 0x123456 → 0x11AA, little-endian
    assert palettes[36:] == bytes(len(palettes) - 36)
    assert encoded.decoded_size == len(payload)
    assert encoded.metadata == {"tile_size": 8, "width": 256, "height": 256,
                                "palette_count": 2, "tile_count": 3}
    assert encoded.tool_metadata["tiles"] == [
        {"index": 0, "file": "t/000_split.png", "palette": 0},
        {"index": 1, "file": "t/001_check.png", "palette": 0},
        {"index": 2, "file": "t/002_odd.png", "palette": 1},
    ]


def test_the_sheet_is_drawn_with_each_tiles_palette(tmp_path: Path) -> None:
    encoded = GLYPH_PIPELINE.encode(two_tile_bank(tmp_path), tmp_path, CancellationToken())
    preview = render_sheet(encoded.payload, 8, [0, 0, 1])
    assert (preview.mode, preview.size) == ("RGBA", (256, 256))
    assert preview.getpixel((0, 0)) == (255, 255, 255, 255)
    assert preview.getpixel((4, 0)) == (255, 0, 0, 255)
    assert preview.getpixel((9, 0)) == (0, 0, 255, 255)
    # palette 1 colour 1, through RGB565 and back with bit replication
    assert preview.getpixel((16, 0)) == (0x10, 0x34, 0x52, 255)
    alpha = preview.getchannel("A")  # index 0 is transparent
    assert alpha.getpixel((8, 0)) == alpha.getpixel((16, 1)) == alpha.getpixel((99, 99)) == 0


def test_equal_inputs_give_identical_bytes(tmp_path: Path) -> None:
    first = GLYPH_PIPELINE.encode(two_tile_bank(tmp_path / "a"), tmp_path / "a",
                                  CancellationToken())
    second = GLYPH_PIPELINE.encode(two_tile_bank(tmp_path / "b"), tmp_path / "b",
                                   CancellationToken())
    assert first.payload == second.payload


def test_palette_mode_png_tiles_are_read_by_colour(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY, WHITE, RED])
    tile = Image.frombytes("P", (8, 8), bytes([0, 1] * 32))
    tile.putpalette([*RED, 9, 9, 9])  # file palette order differs from ours; index 1 clear
    tile.info["transparency"] = 1
    write_png(tmp_path / "0.png", tile)
    encoded = GLYPH_PIPELINE.encode(glyph(["0.png"], ["pal.png"]), tmp_path,
                                    CancellationToken())
    assert encoded.payload[:4] == b"\x20\x20\x20\x20"
    tile2 = Image.frombytes("P", (8, 8), bytes([0, 2] * 32))
    tile2.putpalette([*RED, 9, 9, 9, *WHITE])
    tile2.info["transparency"] = bytes([255, 0, 255])
    write_png(tmp_path / "0.png", tile2)
    encoded = GLYPH_PIPELINE.encode(glyph(["0.png"], ["pal.png"]), tmp_path,
                                    CancellationToken())
    assert encoded.payload[:4] == b"\x21\x21\x21\x21"


def test_16_and_32_pixel_tiles_are_laid_row_major(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY, WHITE])
    for size, index in ((16, 17), (32, 9)):
        names = []
        for i in range(index + 1):
            name = f"{size}/{i:03d}.png"
            lit = i == index
            write_png(tmp_path / name, tile_image(size, lambda x, y, lit=lit: WHITE
                                                  if lit and x == 0 else None))
            names.append(name)
        encoded = GLYPH_PIPELINE.encode(glyph(names, ["pal.png"], tile_size=size), tmp_path,
                                        CancellationToken())
        sheet = sheet_indices(encoded.payload)
        per_row = 256 // size
        x0, y0 = (index % per_row) * size, (index // per_row) * size
        lit_pixels = [i for i, v in enumerate(sheet) if v]
        assert lit_pixels == [(y0 + y) * 256 + x0 for y in range(size)]


def test_duplicate_index_is_pk120(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    for name in ("000_a.png", "001_b.png", "1_c.png"):
        write_png(tmp_path / name, tile_image(8, lambda x, y: None))
    found = check(glyph(["000_a.png", "001_b.png", "1_c.png"], ["pal.png"]), tmp_path)
    assert [d.code for d in found] == ["PK120"]
    assert "001_b.png" in found[0].message and "1_c.png" in found[0].message
    assert "index 1" in found[0].message


def test_gap_and_unnumbered_tiles_are_pk121(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    for name in ("000_a.png", "003_b.png", "wall.png"):
        write_png(tmp_path / name, tile_image(8, lambda x, y: None))
    found = check(glyph(["000_a.png", "003_b.png", "wall.png"], ["pal.png"]), tmp_path)
    assert [d.code for d in found] == ["PK121", "PK121"]
    assert found[0].file == "wall.png" and "007_wall.png" in found[0].fix
    assert "missing 1, 2" in found[1].message


def test_huge_index_reports_a_gap_without_enumerating_it(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    write_png(tmp_path / "99999999999999_a.png", tile_image(8, lambda x, y: None))
    found = check(glyph(["99999999999999_a.png"], ["pal.png"]), tmp_path)
    assert [d.code for d in found] == ["PK121", "PK122"]
    assert "missing 0, 1, 2, 3, 4 (and 99999999999994 more)" in found[0].message


def test_more_tiles_than_the_sheet_holds_is_pk122(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    data = (tmp_path / "pal.png").read_bytes()
    write_png(tmp_path / "tile.png", tile_image(32, lambda x, y: None))
    data = (tmp_path / "tile.png").read_bytes()
    names = [f"t/{i:03d}.png" for i in range(65)]
    (tmp_path / "t").mkdir()
    for name in names:
        (tmp_path / name).write_bytes(data)
    found = check(glyph(names, ["pal.png"], tile_size=32), tmp_path)
    assert [d.code for d in found] == ["PK122"]
    assert "65 tiles" in found[0].message and "holds 64" in found[0].message
    GLYPH_PIPELINE.encode(glyph(names[:64], ["pal.png"], tile_size=32), tmp_path,
                          CancellationToken())


def test_no_palette_is_pk123(tmp_path: Path) -> None:
    write_png(tmp_path / "0.png", tile_image(8, lambda x, y: None))
    assert [d.code for d in check(glyph(["0.png"], []), tmp_path)] == ["PK123"]


def test_more_than_64_palettes_is_pk124(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    write_png(tmp_path / "0.png", tile_image(8, lambda x, y: None))
    found = check(glyph(["0.png"], ["pal.png"] * 65), tmp_path)
    assert [d.code for d in found] == ["PK124"]
    assert GLYPH_PIPELINE.validate(glyph(["0.png"], ["pal.png"] * 64), tmp_path,
                                   root="r", asset_id=None) == []


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: write_palette(p, [KEY] + [(i, i, i) for i in range(16)]), "17 pixels"),
    (lambda p: write_png(p, Image.new("RGBA", (2, 1), (1, 2, 3, 128))), "alpha 128"),
    (lambda p: write_palette(p, [KEY, WHITE, KEY]), "twice (colours 0 and 2)"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n garbage"), "cannot be decoded"),
    (lambda p: Image.new("RGB", (4, 1)).save(p, format="BMP"), "not a PNG"),
    (lambda p: write_png(p, Image.new("RGB", (20_000, 20_000))), "400000000 pixels"),
])
def test_malformed_palette_is_pk125(tmp_path: Path, make: object, words: str) -> None:
    make(tmp_path / "pal.png")  # type: ignore[operator]
    write_png(tmp_path / "0.png", tile_image(8, lambda x, y: None))
    found = check(glyph(["0.png"], ["pal.png"]), tmp_path)
    assert [d.code for d in found] == ["PK125"]
    assert found[0].file == "pal.png" and words in found[0].message


def test_colour_not_in_palette_names_file_pixel_and_colour(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY, WHITE])
    write_png(tmp_path / "t/000_a.png",
              tile_image(8, lambda x, y: (0xAB, 0xCD, 0xEF) if (x, y) in {(3, 2), (5, 6)}
                         else WHITE))
    found = check(glyph(["t/000_a.png"], ["pal.png"]), tmp_path)
    assert [d.code for d in found] == ["PK126"]
    message = found[0].message
    assert found[0].file == "t/000_a.png"
    assert "t/000_a.png pixel (3, 2)" in message and "#abcdef" in message
    assert "palette 0 (pal.png)" in message and "1 more pixels" in message


def test_colour_checked_against_the_tiles_own_palette(tmp_path: Path) -> None:
    write_palette(tmp_path / "p0.png", [KEY, WHITE])
    write_palette(tmp_path / "p1.png", [KEY, RED])
    write_png(tmp_path / "0.png", tile_image(8, lambda x, y: RED))
    found = check(glyph(["0.png"], ["p0.png", "p1.png"]), tmp_path)
    assert "#ff0000" in found[0].message
    GLYPH_PIPELINE.encode(glyph(["0.png"], ["p0.png", "p1.png"],
                                pipeline={"tile_palettes": {"0.png": 1}}),
                          tmp_path, CancellationToken())


def test_translucent_tile_pixel_is_pk126(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY, WHITE])
    image = tile_image(8, lambda x, y: WHITE)
    image.putpixel((7, 1), (255, 255, 255, 100))
    write_png(tmp_path / "0.png", image)
    found = check(glyph(["0.png"], ["pal.png"]), tmp_path)
    assert [d.code for d in found] == ["PK126"]
    assert "pixel (7, 1)" in found[0].message and "alpha 100" in found[0].message


@pytest.mark.parametrize(("metadata", "pipeline", "words"), [
    ({"tile_size": 12}, None, "tile_size is 12"),
    ({"tile_size": "16"}, None, "tile_size is '16'"),
    ({"tile_size": True}, None, "tile_size is True"),
    ({"tile_size": 8, "sheet": 1}, None, "output.metadata.sheet"),
    ({"tile_size": 8}, {"dither": True}, "output.pipeline.dither"),
    ({"tile_size": 8}, {"tile_palettes": ["0.png"]}, "must map tile paths"),
    ({"tile_size": 8}, {"tile_palettes": {"9.png": 0}}, "'9.png', which is not listed"),
    ({"tile_size": 8}, {"tile_palettes": {"0.png": 1}}, "palette number 0..0"),
    ({"tile_size": 8}, {"tile_palettes": {"0.png": False}}, "is False"),
])
def test_bad_metadata_is_pk127(
    tmp_path: Path, metadata: dict[str, JsonValue], pipeline: dict[str, JsonValue] | None,
    words: str,
) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    write_png(tmp_path / "0.png", tile_image(8, lambda x, y: None))
    decl = declaration("glyph_bank", {"tiles": ["0.png"], "palettes": ["pal.png"]},
                       metadata=metadata, pipeline=pipeline)
    found = check(decl, tmp_path)
    assert [d.code for d in found] == ["PK127"]
    assert words in found[0].message and found[0].file == "asset.json"


def test_missing_tile_size_is_pk127(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    decl = declaration("glyph_bank", {"tiles": [], "palettes": ["pal.png"]})
    assert "tile_size is missing" in check(decl, tmp_path)[0].message


def test_tile_of_the_wrong_size_is_pk127(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    write_png(tmp_path / "0.png", tile_image(16, lambda x, y: None))
    found = check(glyph(["0.png"], ["pal.png"]), tmp_path)
    assert [d.code for d in found] == ["PK127"]
    assert found[0].file == "0.png" and "16×16" in found[0].message


def test_undecodable_tile_is_pk128(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    (tmp_path / "0.png").write_bytes(b"not an image at all")
    png = io.BytesIO()
    tile_image(8, lambda x, y: KEY).save(png, format="PNG")
    (tmp_path / "1.png").write_bytes(png.getvalue()[:50])  # truncated pixel data
    found = check(glyph(["0.png", "1.png"], ["pal.png"]), tmp_path)
    assert [(d.code, d.file) for d in found] == [("PK128", "0.png"), ("PK128", "1.png")]


def test_unknown_input_role_is_a_schema_error(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    decl = declaration("glyph_bank", {"tiles": [], "palettes": ["pal.png"], "music": ["a"]},
                       metadata={"tile_size": 8})
    found = check(decl, tmp_path)
    assert [d.code for d in found] == ["PK104"] and "inputs.music" in found[0].message


def test_missing_inputs_are_left_to_the_scan_but_block_encoding(tmp_path: Path) -> None:
    write_palette(tmp_path / "pal.png", [KEY])
    decl = glyph(["000.png"], ["pal.png", "gone.png"])
    assert GLYPH_PIPELINE.validate(decl, tmp_path, root="r", asset_id=None) == []
    with pytest.raises(FormatError) as caught:
        GLYPH_PIPELINE.encode(decl, tmp_path, CancellationToken())
    assert [(d.code, d.file) for d in caught.value.diagnostics] == [
        ("PK106", "gone.png"), ("PK106", "000.png")
    ]


def test_cancellation_is_checked_between_tiles(tmp_path: Path) -> None:
    decl = two_tile_bank(tmp_path)
    token = CancellationToken()
    token.cancel()
    with pytest.raises(OperationCancelled):
        GLYPH_PIPELINE.encode(decl, tmp_path, token)


def test_sheet_helpers_round_trip() -> None:
    assert pack_nibbles(bytes([1, 2, 15, 0])) == b"\x12\xf0"
    assert unpack_nibbles(b"\x12\xf0") == bytes([1, 2, 15, 0])
    assert rgb565(255, 255, 255) == 0xFFFF and rgb565(0x12, 0x34, 0x56) == 0x11AA
    block = struct.pack("<4H", 1, 2, 3, 0xFFFF)
    assert unpack_palettes(block + bytes(24)) == [[1, 2, 3, 0xFFFF] + [0] * 12]
    with pytest.raises(ValueError, match="34816"):
        sheet_indices(b"short")


def test_registered_under_its_format_name() -> None:
    assert pipelines()["GLYPH/indexed_v1"] is GLYPH_PIPELINE


@st.composite
def banks(draw: st.DrawFn) -> tuple[int, list[list[Colour]], list[tuple[int, bytes]]]:
    size = draw(st.sampled_from([8, 16]))
    palette_count = draw(st.integers(1, 3))
    palettes = [
        draw(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
                      min_size=1, max_size=16, unique=True))
        for _ in range(palette_count)
    ]
    tiles = []
    for _ in range(draw(st.integers(1, 4))):
        palette = draw(st.integers(0, palette_count - 1))
        n = len(palettes[palette])
        pixels = draw(st.binary(min_size=size * size, max_size=size * size))
        tiles.append((palette, bytes(b % n for b in pixels)))
    return size, palettes, tiles


@settings(max_examples=25, deadline=None)
@given(bank=banks())
def test_encode_then_decode_gives_back_the_source_indices(
    tmp_path_factory: pytest.TempPathFactory,
    bank: tuple[int, list[list[Colour]], list[tuple[int, bytes]]],
) -> None:
    size, palettes, tiles = bank
    root = tmp_path_factory.mktemp("bank")
    palette_names = []
    for i, colours in enumerate(palettes):
        palette_names.append(f"p{i}.png")
        write_palette(root / f"p{i}.png", colours)
    names: list[str] = []
    assignment: dict[str, JsonValue] = {}
    for i, (palette, indices) in enumerate(tiles):
        image = Image.new("RGBA", (size, size))
        colours = palettes[palette]
        image.putdata([(*colours[v], 255) for v in indices])
        names.append(f"{i}.png")
        write_png(root / f"{i}.png", image)
        assignment[f"{i}.png"] = palette
    encoded = GLYPH_PIPELINE.encode(
        glyph(names, palette_names, tile_size=size, pipeline={"tile_palettes": assignment}),
        root, CancellationToken(),
    )
    sheet = sheet_indices(encoded.payload)
    for i, (_palette, indices) in enumerate(tiles):
        assert tile_indices(sheet, i, size) == indices
    words = unpack_palettes(encoded.payload[SHEET_BYTES:])
    for i, colours in enumerate(palettes):
        assert words[i][:len(colours)] == [rgb565(*c) for c in colours]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_sheet_is_the_picture_the_build_used_to_write(
    tmp_path: Path, layout: tuple[int, int, int]
) -> None:
    # One tile, part rows, full sheets (32px x 64, 16px x 256), several palettes, a colour 0
    # (the transparent key) that is not black: pixel for pixel the old build's preview PNG.
    decl, tile_palettes = layout_bank(tmp_path, *layout)
    encoded = GLYPH_PIPELINE.encode(decl, tmp_path, CancellationToken())
    rgba = render_sheet(encoded.payload, layout[0], tile_palettes).tobytes()
    assert hashlib.sha256(rgba).hexdigest() == OLD_PREVIEW_SHA256[layout]
