"""Preview data made on a worker from the packer's own format pipelines (no Qt here).

The GUI thread never decodes inputs: a worker asks the asset's pipeline to encode it, and turns the
result into plain data the preview widgets can paint at once.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path

from packer.files.declaration import AssetDeclaration
from packer.formats import EncodedAsset, FormatError, pipelines
from packer.formats.glyph import render_sheet
from packer.formats.glyph_sheet import (
    SHEET_BYTES,
    SHEET_SIZE,
    rgb565_to_rgb888,
    sheet_indices,
    unpack_palettes,
)
from packer.lane.cancellation import CancellationToken

GLYPH_SHEET = SHEET_SIZE
WAVEFORM_BUCKETS = 600
RAW_HEAD_BYTES = 256  # what a raw asset's preview shows of its payload


@dataclass(frozen=True, slots=True)
class GlyphPreview:
    tile_size: int
    tile_count: int
    as_built_rgba: bytes  # 256×256 RGBA, each tile drawn with its own conversion palette
    indices: bytes  # 256×256 palette indices, one byte per pixel
    palettes: tuple[tuple[int, ...], ...]  # each palette's 16 colours as 0xAARRGGBB


@dataclass(frozen=True, slots=True)
class SoundPreview:
    sample_rate: int
    channels: int
    frames: int
    samples: tuple[tuple[str, int], ...]  # (sample id, frames)
    peaks: tuple[tuple[float, float], ...]  # (min, max) per bucket in -1..1

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True, slots=True)
class RawPreview:
    size: int  # the payload's length in bytes
    head: bytes  # its first RAW_HEAD_BYTES bytes, for a hex dump

    @property
    def facts(self) -> str:
        shown = f"the first {len(self.head):,}" if len(self.head) < self.size else "all"
        return (f"{self.size:,} bytes, stored unchanged (no picture or sound); "
                f"{shown} of them below")


@dataclass(frozen=True, slots=True)
class NoPreview:
    reason: str


AssetPreview = GlyphPreview | SoundPreview | RawPreview | NoPreview


def hex_dump(data: bytes, per_line: int = 16) -> str:
    """Offset, hex bytes and printable ASCII, `per_line` bytes a line (the last one padded)."""
    lines = []
    for start in range(0, len(data), per_line):
        chunk = data[start:start + per_line]
        hex_part = " ".join(f"{b:02x}" for b in chunk).ljust(per_line * 3 - 1)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{start:04x}  {hex_part}  {text}")
    return "\n".join(lines)


def make_preview(
    decl: AssetDeclaration, root_path: Path, token: CancellationToken
) -> AssetPreview:
    pipeline = pipelines().get(decl.output.format)
    if pipeline is None:
        return NoPreview(f"the packer has no pipeline for {decl.output.format}")
    try:
        encoded = pipeline.encode(decl, root_path, token)
    except FormatError as exc:
        return NoPreview(f"cannot preview: {exc}")
    if decl.type == "glyph_bank":
        return glyph_preview(encoded)
    if decl.type == "sound_bank":
        return sound_preview(encoded)
    return RawPreview(len(encoded.payload), bytes(encoded.payload[:RAW_HEAD_BYTES]))


def _argb(word: int) -> int:
    r, g, b = rgb565_to_rgb888(word)
    return 0xFF000000 | r << 16 | g << 8 | b


def glyph_preview(encoded: EncodedAsset) -> GlyphPreview:
    payload = encoded.payload
    palette_count = min(_int(encoded.metadata.get("palette_count"), 1), 64)
    words = unpack_palettes(payload[SHEET_BYTES:])
    # Index 0 of every palette is the transparent colour key.
    palettes = tuple(
        tuple(0 if c == 0 else _argb(word) for c, word in enumerate(words[p]))
        for p in range(palette_count)
    )
    tile_size = _int(encoded.metadata.get("tile_size"), 8)
    # Drawn straight from the encoder's indices and palettes (no PNG in between): each tile
    # with the palette the encoder recorded for it, in index order.
    tiles = encoded.tool_metadata.get("tiles")
    tile_palettes = [_int(tile.get("palette"), 0) for tile in tiles if isinstance(tile, dict)
                     ] if isinstance(tiles, list) else []
    return GlyphPreview(
        tile_size=tile_size,
        tile_count=_int(encoded.metadata.get("tile_count"), 0),
        as_built_rgba=render_sheet(payload, tile_size, tile_palettes).tobytes(),
        indices=sheet_indices(payload),
        palettes=palettes,
    )


def sound_preview(encoded: EncodedAsset, buckets: int = WAVEFORM_BUCKETS) -> SoundPreview:
    channels = max(1, _int(encoded.metadata.get("channels"), 1))
    rate = _int(encoded.metadata.get("sample_rate"), 0)
    pcm = array("h")
    pcm.frombytes(encoded.payload[: len(encoded.payload) // 2 * 2])
    if array("h", [1]).tobytes() != b"\x01\x00":
        pcm.byteswap()
    frames = len(pcm) // channels
    mono = pcm[::channels] if channels > 1 else pcm  # the first channel is enough for a sketch
    peaks: list[tuple[float, float]] = []
    if frames:
        step = max(1, frames // buckets)
        for start in range(0, frames, step):
            chunk = mono[start:start + step]
            peaks.append((min(chunk) / 32768.0, max(chunk) / 32768.0))
    raw_samples = encoded.metadata.get("samples")
    samples: list[tuple[str, int]] = []
    if isinstance(raw_samples, dict):
        for sample_id, info in raw_samples.items():
            count = info.get("frames") if isinstance(info, dict) else None
            samples.append((sample_id, count if isinstance(count, int) else 0))
    return SoundPreview(
        sample_rate=rate, channels=channels, frames=frames, samples=tuple(samples),
        peaks=tuple(peaks),
    )


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
