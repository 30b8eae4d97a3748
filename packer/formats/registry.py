"""The table of format pipelines, by format name. Add a new format's pipeline here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packer.formats.glyph import GLYPH_PIPELINE
from packer.formats.raw import RAW_PIPELINE
from packer.formats.sound import SOUND_PIPELINE

if TYPE_CHECKING:
    from packer.formats import FormatPipeline

PIPELINES: dict[str, FormatPipeline] = {
    pipeline.format_name: pipeline for pipeline in (GLYPH_PIPELINE, SOUND_PIPELINE, RAW_PIPELINE)
}
