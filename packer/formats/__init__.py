"""Format pipelines: turn one validated asset declaration into runtime payload bytes.

Each output format (`GLYPH/indexed_v1`, `SOUNDS/pcm16le_v1`, `RAW/bytes_v1`) has one module here
exposing a `FormatPipeline`. `validate` finds the format's blocking errors without building
(used by doctor); `encode` produces the payload, or raises FormatError with every problem it
found, labelled with `root` and `asset_id` when given (the build encodes without validating
first: one pass over the inputs, not two).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import JsonValue

from packer.diagnostics import Diagnostic
from packer.files.declaration import AssetDeclaration
from packer.files.paths import InsideRoot
from packer.lane.cancellation import CancellationToken


class FormatError(Exception):
    """Raised by `encode` when the inputs are invalid; carries the blocking diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics) or "invalid inputs")
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class EncodedAsset:
    payload: bytes  # stored bytes, exactly as they go into assets.pa
    decoded_size: int  # resident bytes once loaded by the runtime
    metadata: dict[str, JsonValue]  # runtime metadata: ints, strings, lists, objects; no floats
    tool_metadata: dict[str, JsonValue] = field(default_factory=dict)  # tooling-only extras
    # input path -> (xxh3_128 hex digest, byte count) of the bytes this encoding read: the build
    # cache records them instead of reading every input a second time to hash it
    input_digests: dict[str, tuple[str, int]] = field(default_factory=dict)


class FormatPipeline(Protocol):
    format_name: str
    format_version: int  # bump whenever the bytes produced for equal inputs change (cache key)

    def validate(
        self, decl: AssetDeclaration, root_path: Path, *, root: str, asset_id: int | None
    ) -> list[Diagnostic]: ...

    def encode(
        self, decl: AssetDeclaration, root_path: Path, token: CancellationToken, *,
        root: str | None = None, asset_id: int | None = None, inside: InsideRoot | None = None,
    ) -> EncodedAsset: ...


def pipelines() -> dict[str, FormatPipeline]:
    """Every known pipeline by format name (imported lazily so `packer.formats` stays light)."""
    from packer.formats.registry import PIPELINES

    return PIPELINES


def validate_format(
    decl: AssetDeclaration, root_path: Path, *, root: str, asset_id: int | None
) -> list[Diagnostic]:
    pipeline = pipelines().get(decl.output.format)
    if pipeline is None:
        return []  # an unknown format is already a PK108 from the output contract check
    return pipeline.validate(decl, root_path, root=root, asset_id=asset_id)
