"""What `new` proposes for a folder of files: which files can be inputs, the type, the inputs in
a stable order, the glyph tile size, and a palette found by name or derived from the tiles.

Pure inference over one folder (inside or outside the project); it never writes. A file that
can never be an input (a FIFO, a device, a socket, a symlink leading out of the folder, a folder
symlink, an asset.json, a hidden file) is listed as skipped with the reason and is never opened.
The rules are documented in docs/mutations.md ("New assets from files") and docs/formats.md.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from packer.files.declaration import DECLARATION_FILE
from packer.files.paths import UnsafePathError, relative_parts
from packer.files.steps import read_regular_file
from packer.formats.glyph_sheet import PALETTE_COLOURS, TILE_SIZES
from packer.formats.inputs import leading_index
from packer.lane.cancellation import CancellationToken
from packer.mutations.actions import ASSET_TYPES as ASSET_TYPES  # noqa: PLC0414  (re-exported)
from packer.mutations.model import SkippedFile

PALETTE_FOLDERS = frozenset({"palette", "palettes"})
DERIVED_PALETTE = "palette.png"
DEFAULT_TILE_SIZE = 16
# The transparent key of a derived palette: magenta unless a tile uses it (see docs/formats.md).
KEY_CANDIDATES = (0xFF00FF, 0x00FF00, 0x00FFFF, 0xFF0080, 0x80FF00, 0x0080FF)
_HEAD_BYTES = 64 * 1024  # a PNG's size is in its first chunk
_TILE_FILE_BYTES = 4 * 1024 * 1024  # far more than any 32×32 PNG holds


class ProposalError(Exception):
    """The files cannot make the asset asked for; the message says what to do instead."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass
class Proposal:
    asset_type: str
    inputs: dict[str, list[str]]
    metadata: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings worth reading
    palette_png: bytes | None = None  # a derived palette, written as DERIVED_PALETTE
    palette_colours: tuple[str, ...] = ()


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def why_not_input(base: Path, rel: str) -> str | None:
    """None when `base/rel` can be an input; else the reason. Looks with lstat/stat only."""
    name = rel.rsplit("/", 1)[-1]
    if name == DECLARATION_FILE:
        return f"{DECLARATION_FILE} is an asset's anchor, never an input"
    if any(part.startswith(".") for part in rel.split("/")):
        return "hidden (its name starts with a dot)"
    path = base.joinpath(*rel.split("/"))
    try:
        top = path.lstat()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISLNK(top.st_mode):
        real_base = os.path.realpath(base)
        target = os.path.realpath(path)
        if not target.startswith(real_base.rstrip("/") + "/"):
            return f"a symlink leading outside the folder (to {target})"
        try:
            top = os.stat(target)
        except OSError as exc:
            return f"a broken symlink ({exc.strerror or exc})"
    if not stat.S_ISREG(top.st_mode):
        return _kind(top.st_mode)
    return None


def list_files(
    base: Path, wanted: tuple[str, ...] | None, token: CancellationToken
) -> tuple[list[str], list[SkippedFile]]:
    """The files of `base` that can be inputs (sorted, POSIX, relative), and those skipped.

    `wanted` limits the look to those files; one that is not there is a ProposalError.
    """
    names: list[str] = []
    if wanted is not None:
        for rel in wanted:
            try:
                parts = relative_parts(rel)
            except UnsafePathError as exc:
                raise ProposalError(f"{rel!r} is not a file of the folder: {exc}") from exc
            clean = "/".join(parts)
            if not os.path.lexists(base.joinpath(*parts)):
                raise ProposalError(f"{clean} is not in {base}")
            names.append(clean)
    else:
        for folder, dirs, files in os.walk(base, followlinks=False):
            token.raise_if_cancelled()
            prefix = Path(folder).relative_to(base).as_posix()
            kept = []
            for name in sorted(dirs):
                rel = name if prefix == "." else f"{prefix}/{name}"
                if os.path.islink(os.path.join(folder, name)):
                    names.append(rel)  # reported as skipped below: never followed
                elif not name.startswith("."):
                    kept.append(name)
                else:
                    names.append(rel)
            dirs[:] = kept
            names.extend(n if prefix == "." else f"{prefix}/{n}" for n in files)
    usable: list[str] = []
    skipped: list[SkippedFile] = []
    for rel in sorted(set(names)):
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            skipped.append(SkippedFile(path=shown, reason="the name is not valid UTF-8"))
            continue
        if os.path.isdir(base.joinpath(*rel.split("/"))) and os.path.islink(
            base.joinpath(*rel.split("/"))
        ):
            skipped.append(SkippedFile(path=rel, reason="a folder symlink: never followed"))
            continue
        reason = why_not_input(base, rel)
        if reason is None:
            usable.append(rel)
        else:
            skipped.append(SkippedFile(path=rel, reason=reason))
    return usable, skipped


def _extension(rel: str) -> str:
    return rel.rsplit(".", 1)[-1].lower() if "." in rel.rsplit("/", 1)[-1] else ""


def is_palette_name(rel: str) -> bool:
    """A palette by name: `palette` in the file name, or a file in a `palette(s)/` folder."""
    parts = rel.lower().split("/")
    return "palette" in parts[-1] or any(p in PALETTE_FOLDERS for p in parts[:-1])


def choose_type(files: list[str], asked: str | None) -> str:
    """The type asked for, or the one the files make; a mix asks the user to choose."""
    if asked is not None:
        if asked not in ASSET_TYPES:
            raise ProposalError(f"{asked!r} is not an asset type",
                                fix=f"use one of {', '.join(ASSET_TYPES)}")
        return asked
    if not files:
        raise ProposalError("there are no files that could be inputs",
                            fix="add the PNG, WAV or data files to the folder first")
    counts = Counter(_extension(f) for f in files)
    if set(counts) == {"png"}:
        return "glyph_bank"
    if set(counts) == {"wav"}:
        return "sound_bank"
    if len(files) == 1:
        return "raw"
    pngs, wavs = counts.get("png", 0), counts.get("wav", 0)
    others = len(files) - pngs - wavs
    raise ProposalError(
        f"the folder mixes {pngs} PNG, {wavs} WAV and {others} other files, so its type is not "
        "clear",
        fix="choose the type: glyph_bank (takes the PNGs), sound_bank (takes the WAVs) or raw "
        "(takes exactly one file: name it)",
    )


def propose(
    base: Path, files: list[str], skipped: list[SkippedFile], asset_type: str, *,
    derive_palette: bool, token: CancellationToken,
) -> Proposal:
    """The inputs and settings of an `asset_type` made from `files` (all usable) under `base`."""
    if asset_type == "glyph_bank":
        taken = [f for f in files if _extension(f) == "png"]
        reason = "not a PNG: a glyph bank takes PNG tiles and palettes"
    elif asset_type == "sound_bank":
        taken = [f for f in files if _extension(f) == "wav"]
        reason = "not a WAV: a sound bank takes WAV samples"
    else:
        taken = list(files)
        reason = ""
    left_out = [SkippedFile(path=f, reason=reason) for f in files if f not in taken]
    skipped = sorted([*skipped, *left_out], key=lambda s: s.path)
    if asset_type == "raw":
        if len(taken) != 1:
            raise ProposalError(
                f"a raw asset holds exactly one file, and there are {len(taken)}",
                fix="name the one file (a file path instead of the folder), or choose another "
                "type",
            )
        return Proposal("raw", {"data": taken}, skipped=skipped)
    if not taken:
        kind = "PNG" if asset_type == "glyph_bank" else "WAV"
        raise ProposalError(f"there is no {kind} file for a {asset_type}",
                            fix="add the files, or choose another type")
    if asset_type == "sound_bank":
        return Proposal("sound_bank", {"samples": sorted(taken)}, skipped=skipped)
    return _glyph(base, taken, skipped, derive_palette, token)


def _tile_order(rel: str) -> tuple[int, int, str]:
    index = leading_index(rel)
    return (0, index, rel) if index is not None else (1, 0, rel)


def _glyph(
    base: Path, pngs: list[str], skipped: list[SkippedFile], derive: bool,
    token: CancellationToken,
) -> Proposal:
    palettes = sorted(f for f in pngs if is_palette_name(f))
    tiles = sorted((f for f in pngs if f not in palettes), key=_tile_order)
    proposal = Proposal("glyph_bank", {"tiles": tiles, "palettes": palettes}, skipped=skipped)
    images = {rel: _open(base, rel) for rel in tiles}
    proposal.metadata = {"tile_size": _tile_size(images, proposal.notes)}
    if derive:
        if palettes:
            raise ProposalError(
                f"{palettes[0]} is already a palette (by its name), so none is derived",
                fix="leave out the request to derive a palette to use it, or move it away",
            )
        if DERIVED_PALETTE in pngs or os.path.lexists(base / DERIVED_PALETTE):
            raise ProposalError(f"{DERIVED_PALETTE} already exists in the folder")
        token.raise_if_cancelled()
        colours = derive_palette_colours([images[t] for t in tiles])
        proposal.palette_png = palette_png(colours)
        proposal.palette_colours = tuple(f"#{c:06x}" for c in colours)
        proposal.inputs["palettes"] = [DERIVED_PALETTE]
    elif not palettes:
        proposal.notes.append(
            "no palette: no PNG is named like a palette (palette*.png, or in a palettes/ "
            "folder); add one, or ask for a palette derived from the tiles' colours"
        )
    return proposal


def _open(base: Path, rel: str) -> Image.Image | None:
    """A tile, opened (not decoded) from its first bytes: enough for its size, however big the
    file is. Only a tile small enough to be one is read whole (to derive a palette from)."""
    # A symlink was checked to stay inside the folder (why_not_input): read its target.
    path = Path(os.path.realpath(base.joinpath(*rel.split("/"))))
    try:
        head = Image.open(io.BytesIO(read_regular_file(path, _HEAD_BYTES)), formats=["PNG"])
        if max(head.size) > max(TILE_SIZES):
            return head  # never a tile: its size is all that is needed (PK127 says so)
        return Image.open(io.BytesIO(read_regular_file(path, _TILE_FILE_BYTES)),
                          formats=["PNG"])
    except Exception:  # not a PNG, unreadable: the format check reports it (PK128)
        return None


def _tile_size(images: dict[str, Image.Image | None], notes: list[str]) -> int:
    """The tiles' common square size; else the most common one (the check names the others)."""
    sizes = Counter(img.size for img in images.values() if img is not None)
    if not sizes:
        return DEFAULT_TILE_SIZE
    # The most common size; on a tie, a size a tile may have, then the smallest.
    (width, height), _count = max(sizes.items(), key=lambda item: (
        item[1], item[0][0] == item[0][1] and item[0][0] in TILE_SIZES, -item[0][0]))
    if len(sizes) > 1:
        shown = ", ".join(f"{w}×{h}" for w, h in sorted(sizes))
        notes.append(f"the tiles are not all one size ({shown}); tile_size {width} is the most "
                     "common")
    if width != height or width not in TILE_SIZES:
        notes.append(f"the tiles are {width}×{height}; a glyph bank's tiles are 8×8, 16×16 or "
                     "32×32 pixels")
    return width


def derive_palette_colours(images: list[Image.Image | None]) -> list[int]:
    """Colour 0: the transparent key (the first of KEY_CANDIDATES no tile uses), then every fully
    opaque colour of the tiles, in the order first seen (tiles in index order, pixels row-major).
    Transparent pixels need no colour; translucent ones are left to the format check (PK126)."""
    seen: dict[int, None] = {}
    for image in images:
        if image is None or max(image.size) > max(TILE_SIZES):
            continue  # not a tile (PK127): never decoded
        try:
            data = image.convert("RGBA").tobytes()
        except Exception:  # corrupt pixel data: the format check reports it (PK128)
            continue
        for i in range(0, len(data), 4):
            if data[i + 3] == 255:
                seen.setdefault((data[i] << 16) | (data[i + 1] << 8) | data[i + 2], None)
    colours = list(seen)
    if len(colours) > PALETTE_COLOURS - 1:
        raise ProposalError(
            f"the tiles use {len(colours)} opaque colours; a palette holds "
            f"{PALETTE_COLOURS - 1} besides the transparent key",
            fix="reduce the tiles' colours, or write several palettes and map tiles to them "
            "with output.pipeline.tile_palettes (docs/formats.md)",
        )
    key = next((c for c in KEY_CANDIDATES if c not in seen), None)
    if key is None:  # every candidate is used: the first colour no tile uses
        key = next(c for c in range(0x1000000) if c not in seen)
    return [key, *colours]


def palette_png(colours: list[int]) -> bytes:
    image = Image.new("RGB", (len(colours), 1))
    image.putdata([((c >> 16) & 0xFF, (c >> 8) & 0xFF, c & 0xFF) for c in colours])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


_NOT_NAME = re.compile(r"[^a-z0-9_]+")


def name_for(root: str) -> str:
    """A lower_snake_case name from the folder's name: `Boss Tiles` → `boss_tiles`."""
    text = _NOT_NAME.sub("_", root.rsplit("/", 1)[-1].lower()).strip("_")
    text = re.sub(r"_+", "_", text)
    if not text or not text[0].isalpha():
        text = f"asset_{text}".rstrip("_")
    return text[:128]
