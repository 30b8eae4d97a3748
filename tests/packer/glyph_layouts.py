"""Glyph bank fixtures of several sheet layouts, and the picture the old build drew of each.

`OLD_PREVIEW_SHA256` holds, per layout, the SHA-256 of the 256×256 RGBA pixels of the preview
PNG the build wrote before previews left the build (packer at be7cea7: its `preview_png`
decoded with Pillow). The Studio's sheet, now drawn without a PNG, must be that same picture.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from pydantic import JsonValue

from packer.files.declaration import AssetDeclaration
from tests.packer.formats_support import declaration, write_palette, write_png

# (tile_size, tiles, palettes): one tile, part rows, full sheets, several palettes
LAYOUTS = [(8, 1, 1), (8, 9, 2), (8, 33, 3), (16, 17, 2), (32, 7, 1), (32, 64, 2), (16, 256, 1)]

OLD_PREVIEW_SHA256: dict[tuple[int, int, int], str] = {
    (8, 1, 1): "5568b682062fc68b6fe849b61f0dcde188c8c08c1e3b90ce01741c7fdb7ea60e",
    (8, 9, 2): "1c0ccf53d8df5834ac942160e0dbbbdb6c4709d9d1c9e02fc3d0c1c82ec30f6e",
    (8, 33, 3): "27114e3741c4947c233a220a51e849db4d498b27f151053db2c6344730513581",
    (16, 17, 2): "9ae9491720230f5a2c760fa24d05500358f6d4c81aae461181abfcb870c871f5",
    (32, 7, 1): "86eafbe08fb0345f2f12f87e0537fa05454ef7a089b615d815f8782c1bab66c7",
    (32, 64, 2): "e40288ca3f390e88581cdcabb3257295806bc2ff42f0a5762877dcda5f7b5720",
    (16, 256, 1): "e88285ae6ccaea202d2f5874d5d15c05689a111be457f189eeff422a0a8e3dfd",
}


def tile_image(size: int, pixel: object) -> Image.Image:
    """A tile whose pixel (x, y) is `pixel(x, y)`: an RGB tuple, or None for transparent."""
    image = Image.new("RGBA", (size, size))
    for y in range(size):
        for x in range(size):
            colour = pixel(x, y)  # type: ignore[operator]
            image.putpixel((x, y), (0, 0, 0, 0) if colour is None else (*colour, 255))
    return image


def layout_bank(
    root: Path, tile_size: int, tiles: int, palette_count: int
) -> tuple[AssetDeclaration, list[int]]:
    """A bank of `tiles` tiles over `palette_count` palettes whose colour 0 is not black (the
    blank part of the sheet shows it); the declaration and each tile's palette."""
    palettes = []
    for p in range(palette_count):
        colours = [(200 - 8 * p, 100, 48)] + [
            ((37 * p + 11 * c) % 256, (91 * c + p) % 256, (13 * c * c + 7) % 256)
            for c in range(1, 16)]
        write_palette(root / f"pal{p}.png", colours)
        palettes.append(colours)
    paths: list[str] = []
    chosen: dict[str, JsonValue] = {}
    for t in range(tiles):
        palette = t % palette_count
        colours = palettes[palette]
        path = f"tiles/{t:03d}.png"
        write_png(root / path, tile_image(tile_size, lambda x, y, t=t, colours=colours: (
            None if (x + y + t) % 5 == 0 else colours[1 + (x * 3 + y + t) % 15])))
        paths.append(path)
        chosen[path] = palette
    decl = declaration("glyph_bank", {"tiles": paths,
                                      "palettes": [f"pal{p}.png" for p in range(palette_count)]},
                       metadata={"tile_size": tile_size},
                       pipeline={"tile_palettes": dict(chosen)})
    return decl, [t % palette_count for t in range(tiles)]
