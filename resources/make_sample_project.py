"""Remake `resources/sample-project/`: a small game project with the everyday mess of a real one.

    .venv/bin/python resources/make_sample_project.py [--out DIR]

Deterministic: fixed ids, integer-only art and sound (sample_art.py), JSON with a fixed layout.
Running it again rewrites the same files. PNG bytes depend on Pillow's zlib, so the tests compare
decoded pixels for PNGs and bytes for everything else.

What it holds (see docs/formats.md for the formats):
- registered: #1 tiles/overworld (16 px, 12 tiles, day + dusk palettes), #2 ui/font (8 px),
  #3 sfx/core (3 WAVs, 16-bit 22050 Hz mono), #4 data/level1 (raw level map);
- the mess (hygiene findings only, never blocking): wip/boss_tiles is a valid but unregistered
  asset, tiles/overworld/notes.txt is referenced by no input, and wip/boss_tiles/palettes/boss.png
  is a byte-for-byte copy of tiles/overworld/palettes/dusk.png.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import wave
from pathlib import Path
from typing import Any

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # sample_art beside us; the repo root for `packer`

import sample_art as art  # noqa: E402  (lives beside this script)

from packer.files.registry import Registry, RegistryEntry, save_registry  # noqa: E402

PROJECT_NAME = "Sample Quest"
PROJECT_ID = "5a3f0c2e-8d41-4b6a-9c7e-0f1d2e3a4b5c"
UUIDS = {
    "tiles/overworld": "1c6f7a2b-3d4e-4f50-8a61-7b8c9d0e1f21",
    "ui/font": "2d7a8b3c-4e5f-4061-9b72-8c9d0e1f2a32",
    "sfx/core": "3e8b9c4d-5f60-4172-ac83-9d0e1f2a3b43",
    "data/level1": "4f9cad5e-6071-4283-bd94-ae1f2a3b4c54",
    "wip/boss_tiles": "50adbe6f-7182-4394-cea5-bf2a3b4c5d65",
}
REGISTERED = ["tiles/overworld", "ui/font", "sfx/core", "data/level1"]  # asset_id = position + 1
NOTES = """Overworld tiles: artist notes

- 000-010 are drawn for the day palette; 011 (lantern) for dusk.
- TODO: animated water frames, a door tile.
"""


def png_bytes(canvas: art.Canvas, palette: list[art.Colour]) -> bytes:
    """A palette-based PNG with index 0 transparent, as pixel-art tools save them."""
    image = Image.frombytes("P", (canvas.size, canvas.size), bytes(canvas.px))
    image.putpalette([channel for colour in palette for channel in colour])
    image.info["transparency"] = 0
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=0)
    return out.getvalue()


def palette_png(colours: list[art.Colour]) -> bytes:
    image = Image.frombytes("RGB", (len(colours), 1),
                            bytes(channel for colour in colours for channel in colour))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def wav_bytes(pcm: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(art.RATE)
        wav.writeframes(pcm)
    return out.getvalue()


def json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def declaration(root: str, name: str, asset_type: str, inputs: dict[str, list[str]],
                fmt: str, *, metadata: dict[str, Any] | None = None,
                pipeline: dict[str, Any] | None = None, preload: bool = True) -> bytes:
    output: dict[str, Any] = {"format": fmt, "codec": "none"}
    if metadata:
        output["metadata"] = metadata
    if pipeline:
        output["pipeline"] = pipeline
    return json_bytes({
        "schema_version": 1, "asset_uuid": UUIDS[root], "name": name, "type": asset_type,
        "inputs": inputs, "output": output, "preload": {"enabled": preload},
    })


def project_files() -> dict[str, bytes]:
    """Every file of the project, by POSIX path relative to the project root."""
    files: dict[str, bytes] = {
        "prometeu.json": json_bytes(
            {"schema_version": 1, "name": PROJECT_NAME, "project_id": PROJECT_ID}
        ),
    }
    # tiles/overworld
    base = "assets/tiles/overworld"
    tiles, tile_palettes = [], {}
    for index, (name, paint, palette) in enumerate(art.OVERWORLD_TILES):
        path = f"tiles/{index:03d}_{name}.png"
        files[f"{base}/{path}"] = png_bytes(paint(), art.DUSK if palette else art.DAY)
        tiles.append(path)
        if palette:
            tile_palettes[path] = palette
    files[f"{base}/palettes/day.png"] = palette_png(art.DAY)
    files[f"{base}/palettes/dusk.png"] = palette_png(art.DUSK)
    files[f"{base}/notes.txt"] = NOTES.encode("utf-8")
    files[f"{base}/asset.json"] = declaration(
        "tiles/overworld", "overworld", "glyph_bank",
        {"tiles": tiles, "palettes": ["palettes/day.png", "palettes/dusk.png"]},
        "GLYPH/indexed_v1", metadata={"tile_size": 16},
        pipeline={"tile_palettes": tile_palettes},
    )
    # ui/font
    base = "assets/ui/font"
    glyphs = []
    for index, (name, rows) in enumerate(art.GLYPHS):
        path = f"glyphs/{index:03d}_{name}.png"
        files[f"{base}/{path}"] = png_bytes(art.glyph(name, rows), art.UI)
        glyphs.append(path)
    files[f"{base}/palette.png"] = palette_png(art.UI)
    files[f"{base}/asset.json"] = declaration(
        "ui/font", "font", "glyph_bank", {"tiles": glyphs, "palettes": ["palette.png"]},
        "GLYPH/indexed_v1", metadata={"tile_size": 8},
    )
    # sfx/core
    base = "assets/sfx/core"
    for name, synth in art.SOUNDS:
        files[f"{base}/{name}.wav"] = wav_bytes(synth())
    files[f"{base}/asset.json"] = declaration(
        "sfx/core", "core", "sound_bank", {"samples": [f"{n}.wav" for n, _ in art.SOUNDS]},
        "SOUNDS/pcm16le_v1",
    )
    # data/level1
    files["assets/data/level1/level1.bin"] = art.level1()
    files["assets/data/level1/asset.json"] = declaration(
        "data/level1", "level1", "raw", {"data": ["level1.bin"]}, "RAW/bytes_v1", preload=False,
    )
    # wip/boss_tiles: unregistered; its palette is a stale copy of the overworld's dusk palette
    base = "assets/wip/boss_tiles"
    files[f"{base}/tiles/000_head.png"] = png_bytes(art.boss_head(), art.DUSK)
    files[f"{base}/tiles/001_hand.png"] = png_bytes(art.boss_hand(), art.DUSK)
    files[f"{base}/palettes/boss.png"] = files["assets/tiles/overworld/palettes/dusk.png"]
    files[f"{base}/asset.json"] = declaration(
        "wip/boss_tiles", "boss_tiles", "glyph_bank",
        {"tiles": ["tiles/000_head.png", "tiles/001_hand.png"],
         "palettes": ["palettes/boss.png"]},
        "GLYPH/indexed_v1", metadata={"tile_size": 32}, preload=False,
    )
    return files


def registry() -> Registry:
    return Registry(
        project_id=PROJECT_ID, next_asset_id=len(REGISTERED) + 1,
        assets=tuple(
            RegistryEntry(asset_id=i, root=root, asset_uuid=UUIDS[root])
            for i, root in enumerate(REGISTERED, start=1)
        ),
    )


def write_project(out: Path) -> None:
    """Write the project into `out`, replacing the `assets/` of an earlier sample there."""
    project_file = out / "prometeu.json"
    if project_file.exists():
        existing = json.loads(project_file.read_text("utf-8"))
        if existing.get("project_id") != PROJECT_ID:
            raise SystemExit(f"{out} holds another project; refusing to overwrite it")
        shutil.rmtree(out / "assets", ignore_errors=True)  # build/ and .studio/ are kept
    elif out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty and is not the sample project; refusing")
    for rel, data in sorted(project_files().items()):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    save_registry(out / "assets/.prometeu/index.json", registry())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "sample-project",
                        help="where to write the project (default: %(default)s)")
    args = parser.parse_args(argv)
    write_project(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
