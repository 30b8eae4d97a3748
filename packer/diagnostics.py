"""Diagnostics: stable codes, their class (structural blocks a build, hygiene never does).

The catalogue below is the single source of truth; docs/diagnostics.md documents it and a test
checks that the two agree. Never rename or reuse a shipped code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from packer.lane.events import DiagnosticSummary


class Severity(StrEnum):
    ERROR = "error"  # structural: blocks the build
    WARNING = "warning"  # hygiene: worth fixing, never blocks
    INFO = "info"  # hygiene: a hint


class DiagnosticClass(StrEnum):
    STRUCTURAL = "structural"
    HYGIENE = "hygiene"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    slug: str
    severity: Severity
    title: str
    fix: str

    @property
    def diagnostic_class(self) -> DiagnosticClass:
        return DiagnosticClass.STRUCTURAL if self.severity is Severity.ERROR else (
            DiagnosticClass.HYGIENE
        )


def _c(code: str, slug: str, severity: Severity, title: str, fix: str) -> CodeInfo:
    return CodeInfo(code, slug, severity, title, fix)


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

CATALOGUE: dict[str, CodeInfo] = {
    c.code: c
    for c in (
        # -- project and registry --
        _c("PK001", "project-file-invalid", _E, "prometeu.json is not valid",
           "Fix the JSON syntax or the field named in the message."),
        _c("PK002", "workspace-not-initialised", _E, "assets/.prometeu/index.json is missing",
           "Run `prometeu-packer init PROJECT` to create an empty registry."),
        _c("PK003", "registry-invalid", _E, "the registry cannot be read",
           "Restore assets/.prometeu/index.json from version control, or fix the field named."),
        _c("PK004", "registry-schema-unsupported", _E,
           "the registry was written by a newer packer",
           "Upgrade the packer to a version that knows this registry schema."),
        # -- registered roots and anchors --
        _c("PK101", "registered-root-missing", _E, "a registered asset root does not exist",
           "Restore the folder, relocate the asset to where it now lives, or forget it."),
        _c("PK102", "anchor-missing", _E, "a registered root has no asset.json",
           "Restore asset.json in the root, or forget the asset."),
        _c("PK103", "declaration-invalid-json", _E, "asset.json is not valid JSON (or UTF-8)",
           "Fix the JSON syntax at the position given."),
        _c("PK104", "declaration-invalid", _E, "asset.json does not match the schema",
           "Fix the field named in the message."),
        _c("PK105", "declaration-schema-unsupported", _E,
           "asset.json has an unsupported schema_version",
           "Use schema_version 1, or upgrade the packer."),
        _c("PK106", "input-missing", _E, "a declared input file does not exist",
           "Add the file, or remove it from `inputs`."),
        _c("PK107", "input-escapes-root", _E, "an input path leaves its asset root",
           "Move the file inside the asset root and use a relative path without `..`."),
        _c("PK108", "output-contract-mismatch", _E,
           "the output format or codec does not fit the type",
           "Use the format and codec listed for the asset type in docs/formats.md."),
        _c("PK109", "asset-uuid-collision", _E, "two asset roots share one asset_uuid",
           "Give the copied asset a new asset_uuid (doctor --fix does this for unregistered "
           "copies)."),
        _c("PK110", "root-registered-twice", _E, "one root is registered under two asset ids",
           "Forget one of the two registry entries."),
        _c("PK111", "nested-asset-root", _E, "an asset root lies inside another asset root",
           "Move the inner asset out of the outer root; one root holds exactly one asset."),
        _c("PK112", "input-unreadable", _E, "a declared input cannot be read",
           "Check the file's permissions."),
        _c("PK113", "registry-uuid-mismatch", _E,
           "asset.json's asset_uuid differs from the registry's",
           "Restore the original asset_uuid, or forget and register the asset again."),
        _c("PK114", "input-not-a-file", _E, "a declared input is not a regular file",
           "Point the input at a file, not a folder or device."),
        _c("PK115", "declaration-unreadable", _E, "asset.json cannot be read",
           "Check the file's permissions; replace a FIFO, device or symlink with a regular "
           "file."),
        _c("PK116", "asset-name-duplicate", _E,
           "two assets in the build share one name",
           "Rename one of them (`prometeu-packer rename PROJECT ASSET --name NEW`), or exclude "
           "one from the build."),
        # -- format-specific (GLYPH/indexed_v1: PK12x, SOUNDS/pcm16le_v1: PK13x, raw: PK14x) --
        _c("PK120", "glyph-tile-index-duplicate", _E, "two tiles claim the same index",
           "Rename the tiles so that each index is used once."),
        _c("PK121", "glyph-tile-index-gap", _E, "tile indices have a gap",
           "Number the tiles 0, 1, 2, … without holes."),
        _c("PK122", "glyph-sheet-overflow", _E, "more tiles than the 256×256 sheet holds",
           "Use fewer tiles, or a smaller tile_size."),
        _c("PK123", "glyph-no-palette", _E, "a glyph bank declares no palette",
           "Add at least one palette file under inputs.palettes."),
        _c("PK124", "glyph-too-many-palettes", _E, "more than 64 palettes",
           "Use at most 64 palettes."),
        _c("PK125", "glyph-palette-malformed", _E, "a palette file is malformed",
           "A palette is a PNG of at most 16 pixels; see docs/formats.md."),
        _c("PK126", "glyph-colour-not-in-palette", _E,
           "a tile pixel's colour is not in its palette",
           "Repaint the pixel with a palette colour, or add the colour to the palette."),
        _c("PK127", "glyph-metadata-invalid", _E, "glyph metadata is invalid",
           "tile_size must be 8, 16 or 32; tiles must be tile_size×tile_size."),
        _c("PK128", "glyph-image-invalid", _E, "a tile image cannot be decoded",
           "Re-export the tile as a PNG."),
        _c("PK130", "sound-wav-invalid", _E, "a sound input is not a readable WAV file",
           "Re-export the file as PCM WAV."),
        _c("PK131", "sound-sample-width-unsupported", _E, "a WAV's sample width is unsupported",
           "Export 16-bit PCM (8-bit and 24-bit are converted; others are refused)."),
        _c("PK132", "sound-format-mismatch", _E, "WAVs of one bank differ in rate or channels",
           "Export every sample of a bank with the same rate and channel count."),
        _c("PK133", "sound-sample-id-duplicate", _E, "two samples of one bank share an id",
           "Rename one of the files; a sample's id is its file name without extension."),
        _c("PK140", "raw-input-count", _E, "a raw asset must declare exactly one input",
           "List exactly one file under inputs.data."),
        # -- hygiene --
        _c("PK201", "unregistered-asset", _W, "an asset.json is not in the registry",
           "Adopt it (`prometeu-packer adopt PROJECT ROOT`) or delete it if it is junk."),
        _c("PK202", "duplicate-source-content", _W, "two files have identical content",
           "Keep one copy and point both assets at it, or delete the stale copy."),
        _c("PK203", "unreferenced-file", _I, "a file under an asset root is not an input",
           "Reference it in `inputs`, or move it out of the asset root."),
        _c("PK204", "large-unused-file", _W, "a large file under an asset root is not an input",
           "Move it out of the asset root; it slows scans and backups."),
        _c("PK205", "naming-hint", _I, "a name does not follow the naming convention",
           "Use lower_snake_case ASCII names: letters, digits, `_`."),
        _c("PK206", "cache-unusable", _W, "the build cache is missing or corrupt",
           "Nothing to do: the next build rebuilds everything and writes a fresh cache."),
        _c("PK207", "workspace-entry-unreadable", _W, "a workspace entry cannot be read",
           "Check permissions, move linked folders into assets/ (folder symlinks are not "
           "followed), and rename files whose names are not UTF-8."),
        _c("PK208", "stale-staging", _I, "an interrupted build left a staging folder",
           "Nothing to do: the next build removes it."),
        _c("PK209", "validation-cache-unusable", _I,
           "the validation cache cannot be used",
           "Nothing to do: doctor validates every asset again and writes a fresh cache."),
        _c("PK210", "scan-record-unusable", _I, "the last scan's record cannot be used",
           "Nothing to do: this scan reports no changes and records a fresh baseline."),
        _c("PK211", "cache-not-saved", _W, "the build succeeded but its cache was not saved",
           "Free space on the disk or make assets/.prometeu/ writable; until a build saves "
           "it, builds encode again what the cache would have reused."),
    )
}


class Diagnostic(BaseModel):
    """One finding. `root` is the asset root relative to assets/ (POSIX), `file` relative to it."""

    # validator built on first use: a clean build makes none
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    code: str
    severity: Severity
    message: str
    fix: str
    asset_id: int | None = None
    root: str | None = None
    file: str | None = None
    auto_fixable: bool = False

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def info(self) -> CodeInfo:
        return CATALOGUE[self.code]

    def summary(self) -> DiagnosticSummary:
        return DiagnosticSummary(
            code=self.code, severity=self.severity.value, message=self.message,
            root=self.root, file=self.file,
        )


def diagnostic(
    code: str,
    message: str,
    *,
    asset_id: int | None = None,
    root: str | None = None,
    file: str | None = None,
    fix: str | None = None,
    auto_fixable: bool = False,
) -> Diagnostic:
    """Make a diagnostic from the catalogue; `fix` overrides the catalogue's generic advice."""
    info = CATALOGUE[code]
    return Diagnostic(
        code=code, severity=info.severity, message=message, fix=fix or info.fix,
        asset_id=asset_id, root=root, file=file, auto_fixable=auto_fixable,
    )


def count_by_severity(diagnostics: list[Diagnostic]) -> tuple[int, int, int]:
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)
    return errors, warnings, len(diagnostics) - errors - warnings


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def counts_text(errors: int, warnings: int, infos: int | None = None) -> str:
    """"1 error, 2 warnings, 0 hints": the one way summaries and reports count findings."""
    parts = [plural(errors, "error"), plural(warnings, "warning")]
    if infos is not None:
        parts.append(plural(infos, "hint"))
    return ", ".join(parts)
