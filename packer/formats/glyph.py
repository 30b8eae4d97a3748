"""GLYPH/indexed_v1: PNG tiles and palettes → a 256×256 sheet of 4-bit indices + RGB565 palettes.

The rules and the byte layout are in docs/formats.md; the layout itself is in `glyph_sheet`.
One pass (`_convert`) serves both `validate` (diagnostics only) and `encode` (the payload), so the
two can never disagree about what is valid.
"""

from __future__ import annotations

import io
import sys
from array import array
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, cast

from packer.files.declaration import AssetDeclaration
from packer.files.paths import InsideRoot
from packer.formats import EncodedAsset
from packer.formats.glyph_sheet import (
    MAX_PALETTES,
    PALETTE_COLOURS,
    SHEET_BYTES,
    SHEET_SIZE,
    TILE_SIZES,
    capacity,
    pack_nibbles,
    pack_palettes,
    rgb565_to_rgb888,
    sheet_indices,
    tile_origin,
    unpack_palettes,
)
from packer.formats.inputs import (
    ConvertingPipeline,
    Findings,
    check_roles,
    leading_index,
    read_input,
)
from packer.lane.cancellation import CancellationToken

if TYPE_CHECKING:  # Pillow is imported where a tile is decoded: a build that decodes none
    from PIL import Image  # (a no-op, or a patch of raw or sound assets) never loads it

FORMAT_NAME = "GLYPH/indexed_v1"
TILES, PALETTES = "tiles", "palettes"
_METADATA_KEYS = frozenset({"tile_size"})
_PIPELINE_KEYS = frozenset({"tile_palettes"})
_MAX_TILE_EDGE = max(TILE_SIZES)


@dataclass(frozen=True)
class Palette:
    file: str
    colours: tuple[tuple[int, int, int], ...]
    _lookup: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lookup", {
            (r << 16) | (g << 8) | b: i for i, (r, g, b) in enumerate(self.colours)})

    def lookup(self) -> dict[int, int]:
        """0xRRGGBB → colour index, built once per palette (not once per tile)."""
        return self._lookup


@dataclass
class _Bank:
    tile_size: int | None = None
    tiles: list[tuple[int, str]] = field(default_factory=list)  # (index, path) by index
    palettes: list[Palette | None] = field(default_factory=list)  # None: malformed/unreadable
    tile_palette: dict[str, int] = field(default_factory=dict)
    indices: dict[str, bytes] = field(default_factory=dict)  # tile path → one index per pixel


def _decode_png(data: bytes) -> Image.Image:
    """Open (not yet decode) a PNG; any decoder complaint is raised as ValueError."""
    from PIL import Image

    try:
        return Image.open(io.BytesIO(data), formats=["PNG"])
    except Exception as exc:  # Pillow raises many types for bad input; all mean "not a PNG"
        raise ValueError(_describe(exc)) from exc


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return "not a PNG image" if "cannot identify image file" in text else text


def _rgba(image: Image.Image) -> Image.Image:
    try:
        image.load()
        # convert() copies even an RGBA image: ~20 µs per tile, most PNG tiles being RGBA
        return image if image.mode == "RGBA" else image.convert("RGBA")
    except Exception as exc:  # truncated or corrupt pixel data
        raise ValueError(_describe(exc)) from exc


def _check_metadata(decl: AssetDeclaration, findings: Findings) -> int | None:
    root = findings.root
    meta = decl.output.metadata
    for key in sorted(set(meta) - _METADATA_KEYS):
        findings.add_declaration(
            "PK127", f"{root}: output.metadata.{key} is not a {FORMAT_NAME} setting "
            f"(only tile_size)",
        )
    size = meta.get("tile_size")
    if isinstance(size, int) and not isinstance(size, bool) and size in TILE_SIZES:
        return size
    shown = "missing" if size is None else repr(size)
    findings.add_declaration(
        "PK127", f"{root}: output.metadata.tile_size is {shown}; it must be 8, 16 or 32"
    )
    return None


def _check_indices(paths: list[str], tile_size: int | None, findings: Findings) -> list[
    tuple[int, str]
]:
    """Each tile's index from its file name; duplicates, gaps and overflow are reported."""
    root = findings.root
    by_index: dict[int, list[str]] = {}
    for path in paths:
        index = leading_index(path)
        if index is None:
            findings.add(
                "PK121", f"{root}: tile {path!r} has no index: its file name must start with "
                "the tile's number", file=path,
                fix="Rename the tile so its name starts with its index, e.g. 007_wall.png.",
            )
            continue
        by_index.setdefault(index, []).append(path)
    for index, owners in sorted(by_index.items()):
        if len(owners) > 1:
            findings.add(
                "PK120", f"{root}: tiles {', '.join(map(repr, owners))} all claim index {index}",
                file=owners[1],
            )
    if by_index:
        highest = max(by_index)
        missing_count = highest + 1 - len(by_index)
        if missing_count:
            # lazy: stops after len(by_index) + 5 steps even for an index like 10**12
            missing = list(islice((i for i in range(highest + 1) if i not in by_index), 5))
            more = f" (and {missing_count - len(missing)} more)" * (missing_count > len(missing))
            findings.add(
                "PK121", f"{root}: tile indices must run 0..{len(by_index) - 1} without holes; "
                f"missing {', '.join(map(str, missing))}{more}", file=by_index[highest][0],
            )
        if tile_size is not None:
            needed = max(highest + 1, len(paths))
            if needed > capacity(tile_size):
                findings.add(
                    "PK122", f"{root}: {needed} tiles of {tile_size}px do not fit the "
                    f"{SHEET_SIZE}×{SHEET_SIZE} sheet (it holds {capacity(tile_size)})",
                )
    return [(index, owners[0]) for index, owners in sorted(by_index.items())]


def _load_palette(data: bytes, path: str, findings: Findings) -> Palette | None:
    root = findings.root

    def malformed(why: str) -> None:
        findings.add("PK125", f"{root}: palette {path!r} {why}", file=path)

    try:
        image = _decode_png(data)
        count = image.width * image.height
        if count > PALETTE_COLOURS:  # checked before decoding pixels: no decompression bombs
            malformed(f"has {count} pixels ({image.width}×{image.height}); a palette has at "
                      f"most {PALETTE_COLOURS}")
            return None
        raw = _rgba(image).tobytes()
        pixels = [tuple(raw[i:i + 4]) for i in range(0, len(raw), 4)]  # at most 16 pixels
    except ValueError as exc:
        malformed(f"cannot be decoded: {exc}")
        return None
    for i, (r, g, b, a) in enumerate(pixels):
        if a != 255:
            malformed(f"colour {i} (#{r:02x}{g:02x}{b:02x}) has alpha {a}; palette colours "
                      "must be fully opaque (colour 0 is the transparent key)")
            return None
    colours = [(r, g, b) for r, g, b, _a in pixels]
    seen: dict[tuple[int, int, int], int] = {}
    for i, colour in enumerate(colours):
        if colour in seen:
            malformed(f"lists #{colour[0]:02x}{colour[1]:02x}{colour[2]:02x} twice (colours "
                      f"{seen[colour]} and {i}); each colour may appear once")
            return None
        seen[colour] = i
    return Palette(path, tuple(colours))


def _check_tile_palettes(
    decl: AssetDeclaration, paths: list[str], palette_count: int, findings: Findings
) -> dict[str, int]:
    root = findings.root
    pipeline = decl.output.pipeline
    for key in sorted(set(pipeline) - _PIPELINE_KEYS):
        findings.add_declaration(
            "PK127", f"{root}: output.pipeline.{key} is not a {FORMAT_NAME} setting "
            "(only tile_palettes)",
        )
    raw = pipeline.get("tile_palettes", {})
    if not isinstance(raw, dict):
        findings.add_declaration(
            "PK127", f"{root}: output.pipeline.tile_palettes must map tile paths to palette numbers"
        )
        return {}
    chosen: dict[str, int] = {}
    known = set(paths)
    for tile, value in raw.items():
        if tile not in known:
            findings.add_declaration(
                "PK127", f"{root}: output.pipeline.tile_palettes names {tile!r}, which is not "
                "listed in inputs.tiles",
            )
        elif not isinstance(value, int) or isinstance(value, bool) or not (
            0 <= value < max(palette_count, 1)
        ):
            findings.add_declaration(
                "PK127", f"{root}: output.pipeline.tile_palettes[{tile!r}] is {value!r}; it "
                f"must be a palette number 0..{max(palette_count - 1, 0)}",
            )
        else:
            chosen[tile] = value
    return chosen


def _colour_key(r: int, g: int, b: int, a: int) -> int:
    """The value `array('I')` holds for an RGBA pixel on this machine (any byte order)."""
    return int.from_bytes(bytes((r, g, b, a)), sys.byteorder)


def _map_tile(
    image: Image.Image, path: str, palette: Palette, palette_index: int, findings: Findings
) -> bytes | None:
    """RGBA pixels → palette indices, in C: a lookup over the tile's unique colours, then `map`."""
    keys = array("I", image.tobytes())
    lookup: dict[int, int] = {}
    bad: dict[int, str] = {}
    colour_index = palette.lookup()
    # An RGBA image's colours are 4-tuples; maxcolors = pixel count, so it never returns None.
    unique = cast("list[tuple[int, tuple[int, int, int, int]]]", image.getcolors(len(keys)))
    for _count, (r, g, b, a) in unique:
        key = _colour_key(r, g, b, a)
        if a == 0:
            lookup[key] = 0
        elif a != 255:
            bad[key] = f"is translucent (alpha {a}); tile pixels are opaque or fully transparent"
        elif (found := colour_index.get((r << 16) | (g << 8) | b)) is not None:
            lookup[key] = found
        else:
            bad[key] = (f"has colour #{r:02x}{g:02x}{b:02x}, which is not in palette "
                        f"{palette_index} ({palette.file})")
    if not bad:
        return bytes(map(lookup.__getitem__, keys))
    first = next(i for i, key in enumerate(keys) if key in bad)
    others = sum(1 for key in keys if key in bad) - 1
    more = f" ({others} more pixels are wrong too)" if others else ""
    findings.add(
        "PK126", f"{findings.root}: {path} pixel ({first % image.width}, {first // image.width}) "
        f"{bad[keys[first]]}{more}", file=path,
    )
    return None


def _convert_tile(
    data: bytes, path: str, bank: _Bank, findings: Findings
) -> bytes | None:
    root = findings.root
    size = bank.tile_size
    try:
        image = _decode_png(data)
        w, h = image.size
        if size is not None and (w, h) != (size, size):
            findings.add("PK127", f"{root}: tile {path!r} is {w}×{h}; tile_size is {size}, so "
                         f"every tile must be {size}×{size}", file=path)
            return None
        if max(w, h) > _MAX_TILE_EDGE:
            return None  # with an invalid tile_size: never decode a big image for nothing
        rgba = _rgba(image)
    except ValueError as exc:
        findings.add("PK128", f"{root}: tile {path!r} cannot be decoded: {exc}", file=path)
        return None
    palette_index = bank.tile_palette.get(path, 0)
    palette = bank.palettes[palette_index] if palette_index < len(bank.palettes) else None
    if palette is None:
        return None  # its palette is missing or malformed: reported already
    return _map_tile(rgba, path, palette, palette_index, findings)


def _convert(
    decl: AssetDeclaration, inside: InsideRoot, findings: Findings, token: CancellationToken
) -> _Bank:
    root = findings.root
    bank = _Bank()
    check_roles(decl, (TILES, PALETTES), findings, FORMAT_NAME)
    bank.tile_size = _check_metadata(decl, findings)
    paths = decl.inputs.get(TILES, [])
    bank.tiles = _check_indices(paths, bank.tile_size, findings)
    palette_paths = decl.inputs.get(PALETTES, [])
    if not palette_paths:
        findings.add_declaration("PK123", f"{root}: a glyph bank needs at least one palette "
                                 "in inputs.palettes")
    elif len(palette_paths) > MAX_PALETTES:
        findings.add_declaration("PK124", f"{root}: {len(palette_paths)} palettes listed; a "
                                 f"glyph bank holds at most {MAX_PALETTES}")
    for path in palette_paths:
        token.raise_if_cancelled()
        data = read_input(inside, path, findings, token)
        bank.palettes.append(_load_palette(data, path, findings) if data is not None else None)
    bank.tile_palette = _check_tile_palettes(decl, paths, len(palette_paths), findings)
    for path in paths:
        token.raise_if_cancelled()
        data = read_input(inside, path, findings, token)
        if data is not None:
            indices = _convert_tile(data, path, bank, findings)
            if indices is not None:
                bank.indices[path] = indices
    return bank


def _assemble(bank: _Bank) -> EncodedAsset:
    size = bank.tile_size
    assert size is not None  # only called on a bank without findings
    # Tiles fill the sheet from the top; the rows below them are index 0, so only the rows
    # holding tiles are laid out and packed (same bytes, a fraction of the work).
    rows = max((tile_origin(index, size)[1] + size for index, _path in bank.tiles), default=0)
    band = bytearray(SHEET_SIZE * rows)
    for index, path in bank.tiles:
        x0, y0 = tile_origin(index, size)
        pixels = bank.indices[path]
        for y in range(size):  # one slice copy per tile row, not per pixel
            start = (y0 + y) * SHEET_SIZE + x0
            band[start:start + size] = pixels[y * size:(y + 1) * size]
    palettes = [list(p.colours) if p else [] for p in bank.palettes]
    packed_palettes = pack_palettes(palettes)
    payload = (pack_nibbles(bytes(band)) + bytes((SHEET_SIZE - rows) * SHEET_SIZE // 2)
               + packed_palettes)
    return EncodedAsset(
        payload=payload,
        decoded_size=len(payload),
        metadata={
            "tile_size": size, "width": SHEET_SIZE, "height": SHEET_SIZE,
            "palette_count": len(bank.palettes), "tile_count": len(bank.tiles),
        },
        tool_metadata={"tiles": [
            {"index": index, "file": path, "palette": bank.tile_palette.get(path, 0)}
            for index, path in bank.tiles
        ]},
    )


def render_sheet(payload: bytes, tile_size: int, tile_palettes: list[int]) -> Image.Image:
    """A bank's sheet as RGBA, tile i drawn with palette tile_palettes[i], index 0 transparent
    (the Studio's picture of a bank; the build draws none).

    Colours are the RGB565 ones the console shows, expanded back to 8 bits per channel. The
    whole sheet is drawn once with the most used palette; only tiles on other palettes are
    drawn again, so a one-palette bank costs a single conversion.
    """
    return _draw(sheet_indices(payload), unpack_palettes(payload[SHEET_BYTES:]), tile_size,
                 tile_palettes)


def _draw(
    indices: bytes, palettes: list[list[int]], tile_size: int, tile_palettes: list[int]
) -> Image.Image:
    """The sheet (`indices`, one per pixel), drawn as RGBA."""
    from PIL import Image

    sheet = Image.frombytes("P", (SHEET_SIZE, SHEET_SIZE), indices)

    def drawn_with(palette_index: int) -> Image.Image:
        image = sheet.copy()
        image.putpalette([c for word in palettes[palette_index] for c in rgb565_to_rgb888(word)])
        image.info["transparency"] = 0
        return image.convert("RGBA")

    if not tile_palettes:
        return Image.new("RGBA", (SHEET_SIZE, SHEET_SIZE), (0, 0, 0, 0))
    usage: dict[int, list[int]] = {}
    for index, palette_index in enumerate(tile_palettes):
        usage.setdefault(palette_index, []).append(index)
    main = max(sorted(usage), key=lambda p: len(usage[p]))
    out = drawn_with(main)
    for palette_index, tiles in sorted(usage.items()):
        if palette_index == main:
            continue
        other = drawn_with(palette_index)
        for index in tiles:
            x0, y0 = tile_origin(index, tile_size)
            box = (x0, y0, x0 + tile_size, y0 + tile_size)
            out.paste(other.crop(box), box)
    return out


class GlyphPipeline(ConvertingPipeline[_Bank]):
    format_name = FORMAT_NAME
    format_version = 1

    def _convert(
        self, decl: AssetDeclaration, inside: InsideRoot, findings: Findings,
        token: CancellationToken,
    ) -> _Bank:
        return _convert(decl, inside, findings, token)

    def _assemble(self, converted: _Bank, token: CancellationToken) -> EncodedAsset:
        return _assemble(converted)


GLYPH_PIPELINE = GlyphPipeline()
