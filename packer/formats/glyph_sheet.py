"""The GLYPH/indexed_v1 byte layout: sheet geometry, nibble packing and RGB565 palettes.

Pure functions over bytes, shared by the encoder, tools that read a bank back, and tests.
Packing uses `bytes.translate` and big-integer OR so that no Python loop runs per pixel.
"""

from __future__ import annotations

import struct

SHEET_SIZE = 256  # the sheet is SHEET_SIZE × SHEET_SIZE pixels
SHEET_PIXELS = SHEET_SIZE * SHEET_SIZE
SHEET_BYTES = SHEET_PIXELS // 2  # 4-bit indices, two per byte
MAX_PALETTES = 64
PALETTE_COLOURS = 16
PALETTE_BYTES = MAX_PALETTES * PALETTE_COLOURS * 2  # RGB565 u16 little-endian
PAYLOAD_BYTES = SHEET_BYTES + PALETTE_BYTES
TILE_SIZES = (8, 16, 32)

_HIGH_NIBBLE = bytes(((i << 4) & 0xFF) for i in range(256))  # index → index in the high nibble
_TAKE_HIGH = bytes(i >> 4 for i in range(256))
_TAKE_LOW = bytes(i & 0x0F for i in range(256))


def capacity(tile_size: int) -> int:
    """How many tiles of this size the sheet holds (8 → 1024, 16 → 256, 32 → 64)."""
    return (SHEET_SIZE // tile_size) ** 2


def tile_origin(index: int, tile_size: int) -> tuple[int, int]:
    """Top-left pixel of tile `index`: tiles are laid row-major across the sheet."""
    per_row = SHEET_SIZE // tile_size
    return (index % per_row) * tile_size, (index // per_row) * tile_size


def rgb565(red: int, green: int, blue: int) -> int:
    return ((red >> 3) << 11) | ((green >> 2) << 5) | (blue >> 3)


def rgb565_to_rgb888(word: int) -> tuple[int, int, int]:
    """Expand for display (bit replication, so white stays white)."""
    r5, g6, b5 = word >> 11, (word >> 5) & 0x3F, word & 0x1F
    return (r5 << 3) | (r5 >> 2), (g6 << 2) | (g6 >> 4), (b5 << 3) | (b5 >> 2)


def pack_nibbles(indices: bytes) -> bytes:
    """One index (0..15) per byte → two per byte, the LEFT (even) pixel in the HIGH nibble."""
    if len(indices) % 2:
        raise ValueError("an even number of pixels is needed")
    high = int.from_bytes(indices[0::2].translate(_HIGH_NIBBLE), "big")
    low = int.from_bytes(indices[1::2], "big")
    return (high | low).to_bytes(len(indices) // 2, "big")


def unpack_nibbles(packed: bytes) -> bytes:
    out = bytearray(len(packed) * 2)
    out[0::2] = packed.translate(_TAKE_HIGH)
    out[1::2] = packed.translate(_TAKE_LOW)
    return bytes(out)


def pack_palettes(palettes: list[list[tuple[int, int, int]]]) -> bytes:
    """64 palettes × 16 colours, RGB565 u16 little-endian; unused palettes and colours are 0."""
    words = [0] * (MAX_PALETTES * PALETTE_COLOURS)
    for p, colours in enumerate(palettes[:MAX_PALETTES]):
        for c, (red, green, blue) in enumerate(colours[:PALETTE_COLOURS]):
            words[p * PALETTE_COLOURS + c] = rgb565(red, green, blue)
    return struct.pack(f"<{len(words)}H", *words)


def unpack_palettes(block: bytes) -> list[list[int]]:
    words = struct.unpack(f"<{len(block) // 2}H", block)
    return [list(words[p:p + PALETTE_COLOURS]) for p in range(0, len(words), PALETTE_COLOURS)]


def sheet_indices(payload: bytes) -> bytes:
    """The sheet of a GLYPH/indexed_v1 payload as one palette index per pixel, row-major."""
    if len(payload) != PAYLOAD_BYTES:
        raise ValueError(f"a GLYPH/indexed_v1 payload is {PAYLOAD_BYTES} bytes, not {len(payload)}")
    return unpack_nibbles(payload[:SHEET_BYTES])


def tile_indices(sheet: bytes, index: int, tile_size: int) -> bytes:
    """The indices of one tile, row-major, cut from an unpacked sheet."""
    x0, y0 = tile_origin(index, tile_size)
    rows = (
        sheet[(y0 + y) * SHEET_SIZE + x0:(y0 + y) * SHEET_SIZE + x0 + tile_size]
        for y in range(tile_size)
    )
    return b"".join(rows)
