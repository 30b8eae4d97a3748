"""The glyph details' sheet: drawn from the encoder's indices and palettes, no PNG in between.

The build no longer writes a preview PNG for the Studio to decode; the picture must stay the one
the Studio showed before, pinned against the old PNG path's pixels (tests/packer/glyph_layouts).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from packer.formats import EncodedAsset
from packer.formats.glyph import GLYPH_PIPELINE
from packer.lane.cancellation import CancellationToken
from studio.services.preview_data import GLYPH_SHEET, glyph_preview
from tests.packer.glyph_layouts import LAYOUTS, OLD_PREVIEW_SHA256, layout_bank


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_sheet_is_the_picture_of_the_old_png_path(
    tmp_path: Path, layout: tuple[int, int, int]
) -> None:
    decl, _palettes = layout_bank(tmp_path, *layout)
    encoded = GLYPH_PIPELINE.encode(decl, tmp_path, CancellationToken())
    preview = glyph_preview(encoded)
    assert len(preview.as_built_rgba) == GLYPH_SHEET * GLYPH_SHEET * 4
    assert hashlib.sha256(preview.as_built_rgba).hexdigest() == OLD_PREVIEW_SHA256[layout]
    assert (preview.tile_size, preview.tile_count) == (layout[0], layout[1])


def test_a_bank_without_its_tile_list_is_a_clear_sheet(tmp_path: Path) -> None:
    # What the old path showed when there was no PNG: every pixel transparent.
    decl, _palettes = layout_bank(tmp_path, 8, 3, 1)
    encoded = GLYPH_PIPELINE.encode(decl, tmp_path, CancellationToken())
    bare = EncodedAsset(payload=encoded.payload, decoded_size=encoded.decoded_size,
                        metadata=encoded.metadata)
    assert glyph_preview(bare).as_built_rgba == bytes(GLYPH_SHEET * GLYPH_SHEET * 4)
