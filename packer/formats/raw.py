"""RAW/bytes_v1: one input file, stored byte for byte (see docs/formats.md)."""

from __future__ import annotations

from pathlib import Path

from packer.diagnostics import Diagnostic
from packer.files.declaration import AssetDeclaration
from packer.files.paths import InsideRoot
from packer.formats import EncodedAsset
from packer.formats.inputs import ConvertingPipeline, Findings, read_input
from packer.lane.cancellation import CancellationToken

FORMAT_NAME = "RAW/bytes_v1"
ROLE = "data"


class RawPipeline(ConvertingPipeline[bytes | None]):
    format_name = FORMAT_NAME
    format_version = 1

    def _check_count(self, decl: AssetDeclaration, findings: Findings) -> str | None:
        """The single input path, or None after recording PK140."""
        others = sorted(role for role in decl.inputs if role != ROLE)
        paths = decl.inputs.get(ROLE, [])
        if others:
            findings.add_declaration(
                "PK140",
                f"{findings.root}: a raw asset takes only inputs.{ROLE}, not "
                f"{', '.join('inputs.' + r for r in others)}",
            )
        if len(paths) != 1:
            findings.add_declaration(
                "PK140",
                f"{findings.root}: a raw asset needs exactly one file in inputs.{ROLE}, "
                f"found {len(paths)}",
            )
        return paths[0] if len(paths) == 1 and not others else None

    def validate(
        self, decl: AssetDeclaration, root_path: Path, *, root: str, asset_id: int | None
    ) -> list[Diagnostic]:
        # Raw has no format rule beyond the input count, and input problems belong to the
        # scan's check_inputs: validating never needs to read the file.
        findings = Findings(root, asset_id)
        self._check_count(decl, findings)
        return findings.diagnostics

    def _convert(
        self, decl: AssetDeclaration, inside: InsideRoot, findings: Findings,
        token: CancellationToken,
    ) -> bytes | None:
        path = self._check_count(decl, findings)
        return None if path is None else read_input(inside, path, findings, token)

    def _assemble(self, converted: bytes | None, token: CancellationToken) -> EncodedAsset:
        assert converted is not None  # a clean conversion always read the file
        return EncodedAsset(payload=converted, decoded_size=len(converted), metadata={})


RAW_PIPELINE = RawPipeline()
