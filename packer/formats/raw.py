"""RAW/bytes_v1: one input file, stored byte for byte (see docs/formats.md)."""

from __future__ import annotations

from pathlib import Path

from packer.cancellation import CancellationToken
from packer.declaration import AssetDeclaration
from packer.diagnostics import Diagnostic
from packer.formats import EncodedAsset, FormatError
from packer.formats.inputs import Findings, read_input, root_label
from packer.paths import InsideRoot

FORMAT_NAME = "RAW/bytes_v1"
ROLE = "data"


class RawPipeline:
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
        # Raw has no format rule beyond the input count; input problems belong to check_inputs.
        findings = Findings(root, asset_id)
        self._check_count(decl, findings)
        return findings.diagnostics

    def encode(
        self, decl: AssetDeclaration, root_path: Path, token: CancellationToken, *,
        root: str | None = None, asset_id: int | None = None,
    ) -> EncodedAsset:
        findings = Findings(root if root is not None else root_label(root_path), asset_id)
        path = self._check_count(decl, findings)
        data = None
        if path is not None:
            data = read_input(InsideRoot(root_path), path, findings, token)
        if data is None or not findings.ok:
            raise FormatError(findings.all())
        return EncodedAsset(payload=data, decoded_size=len(data), metadata={},
                            input_digests=findings.input_digests)


RAW_PIPELINE = RawPipeline()
