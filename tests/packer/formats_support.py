"""Helpers shared by the format pipeline tests: declarations and tiny inputs made on the fly."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import JsonValue

from packer.files.declaration import AssetDeclaration

UUID = "00000000-0000-4000-8000-000000000001"


def declaration(
    asset_type: str,
    inputs: dict[str, list[str]],
    *,
    metadata: dict[str, JsonValue] | None = None,
    pipeline: dict[str, JsonValue] | None = None,
) -> AssetDeclaration:
    fmt = {"glyph_bank": "GLYPH/indexed_v1", "sound_bank": "SOUNDS/pcm16le_v1",
           "raw": "RAW/bytes_v1"}[asset_type]
    data: dict[str, Any] = {
        "schema_version": 1, "asset_uuid": UUID, "name": "thing", "type": asset_type,
        "inputs": inputs,
        "output": {"format": fmt, "codec": "none", "metadata": metadata or {},
                   "pipeline": pipeline or {}},
        "preload": {"enabled": False},
    }
    return AssetDeclaration.model_validate(data)


def write_png(path: Path, image: Image.Image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def write_palette(path: Path, colours: list[tuple[int, int, int]]) -> None:
    image = Image.new("RGB", (len(colours), 1))
    image.putdata(colours)
    write_png(path, image)


def write_wav(path: Path, frames: bytes, *, width: int = 2, rate: int = 22050,
              channels: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(frames)
