"""The table of format pipelines. Each pipeline module adds itself here."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packer.formats import FormatPipeline

PIPELINES: dict[str, FormatPipeline] = {}
