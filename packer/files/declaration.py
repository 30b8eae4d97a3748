"""`asset.json`: the anchor file of one asset root. Parsing never raises; it returns diagnostics."""

from __future__ import annotations

import json
import re
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator

from packer.diagnostics import Diagnostic, diagnostic
from packer.files.safe_read import JsonReadError, parse_json

DECLARATION_FILE = "asset.json"
SUPPORTED_DECLARATION_SCHEMAS = frozenset({1})

AssetType = Literal["glyph_bank", "sound_bank", "raw"]

# type -> (output format, codec, runtime bank type)
OUTPUT_CONTRACTS: dict[str, tuple[str, str, str]] = {
    "glyph_bank": ("GLYPH/indexed_v1", "none", "GLYPH"),
    "sound_bank": ("SOUNDS/pcm16le_v1", "none", "SOUNDS"),
    "raw": ("RAW/bytes_v1", "none", "RAW"),
}

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# Control characters (C0 but newline and tab, DEL, C1) and the bidirectional overrides, which can
# make a terminal show something other than what is there. A name holding one is refused by the
# mutations that set or adopt a name, and everything the CLI prints is shown escaped.
CONTROL_CHARACTERS = re.compile(
    "[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]")
NAME_CONTROL_FIX = "use 1 to 128 printable characters, lower_snake_case"


def control_characters_problem(name: str) -> str | None:
    """Why `name` cannot be set (it holds a control character), or None."""
    found = CONTROL_CHARACTERS.search(name) or re.search("[\n\t]", name)
    if found is None:
        return None
    return (f"name {name!r} holds the control character {ascii(found.group())[1:-1]}, "
            "which would reach every terminal that prints it")


UUID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


class OutputSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)

    format: str = Field(min_length=1)
    codec: str = Field(min_length=1)
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    pipeline: dict[str, JsonValue] = Field(default_factory=dict)


class PreloadSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)

    enabled: bool


class AssetDeclaration(BaseModel):
    """The validated content of one asset.json (see docs/formats.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)

    schema_version: int
    asset_uuid: str
    name: str = Field(min_length=1, max_length=128)
    type: AssetType
    inputs: dict[str, list[str]]
    output: OutputSpec
    preload: PreloadSpec
    build: dict[str, JsonValue] = Field(default_factory=dict)

    @field_validator("asset_uuid")
    @classmethod
    def _uuid_form(cls, value: str) -> str:
        if not UUID_PATTERN.match(value):
            raise ValueError("must be a lower-case UUID like 123e4567-e89b-12d3-a456-426614174000")
        return value

    @field_validator("inputs")
    @classmethod
    def _inputs_non_empty_paths(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for role, paths in value.items():
            if not role:
                raise ValueError("input roles must be non-empty names")
            for path in paths:
                if not path or "\x00" in path:
                    raise ValueError(f"input {role!r} has an empty or invalid path")
        return value

    @property
    def bank_type(self) -> str:
        return OUTPUT_CONTRACTS[self.type][2]

    def all_inputs(self) -> list[tuple[str, str]]:
        """(role, path) pairs in declaration order."""
        return [(role, path) for role, paths in self.inputs.items() for path in paths]


def _describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    more = len(error.errors()) - 3
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


class SharedBlocks:
    """Equal `output` and `preload` blocks of many declarations, validated once and shared.

    A scan of 10k assets meets a handful of distinct blocks; each one parsed anew kept a frozen
    model, its field set and its dicts per asset (≈ 1.7 KB). A block is shared only with one of
    exactly the same JSON text (key order and 8 vs 8.0 included) that validated before, and
    declarations are frozen, so a shared block is what validation would have made. At most
    MAX_BLOCKS are kept (a project of all-different blocks only pays for the lookups).
    """

    MAX_BLOCKS = 256
    __slots__ = ("_blocks",)

    def __init__(self) -> None:
        self._blocks: dict[tuple[str, str], BaseModel] = {}

    def substitute(self, data: dict[str, Any]) -> list[tuple[str, str]]:
        """Put known blocks into `data`; the keys of the others, to `remember` once valid."""
        unknown = []
        for field in _SHARED_FIELDS:
            block = data.get(field)
            if not isinstance(block, dict):
                continue
            try:
                key = (field, _block_key(block))
            except (ValueError, TypeError, RecursionError):
                continue  # NaN, or nothing JSON can say twice the same way: not shared
            known = self._blocks.get(key)
            if known is not None:
                data[field] = known
            else:
                unknown.append(key)
        return unknown

    def remember(self, keys: list[tuple[str, str]], decl: AssetDeclaration) -> None:
        for key in keys:
            if len(self._blocks) < self.MAX_BLOCKS:
                self._blocks[key] = getattr(decl, key[0])


_SHARED_FIELDS = ("output", "preload")
_block_key_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _refuse(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON")


# The encoder's own C function, made once: JSONEncoder.encode makes it anew on every call,
# half the cost of a small block's key (two per asset.json). The same text, the same errors.
_c_block_key = None if c_make_encoder is None else c_make_encoder(
    None, _refuse, encode_basestring, None, ":", ",", False, False, False)


def _block_key(block: dict[str, Any]) -> str:
    if _c_block_key is None:
        return _block_key_encoder.encode(block)
    return "".join(_c_block_key(block, 0))


def parse_declaration(
    raw: bytes, *, root: str, asset_id: int | None = None, shared: SharedBlocks | None = None,
) -> tuple[AssetDeclaration | None, list[Diagnostic]]:
    """Parse asset.json bytes. Any problem becomes a diagnostic naming the root and the file.

    `shared`: blocks met earlier in the same scan, reused instead of parsed again.
    """

    def bad(code: str, message: str) -> tuple[None, list[Diagnostic]]:
        return None, [diagnostic(
            code, message, root=root, file=DECLARATION_FILE, asset_id=asset_id
        )]

    try:
        data: Any = parse_json(raw)
    except JsonReadError as exc:
        return bad("PK103", f"{root}/asset.json {exc}")
    if not isinstance(data, dict):
        return bad("PK104", f"{root}/asset.json must hold a JSON object")
    version = data.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and (
        version not in SUPPORTED_DECLARATION_SCHEMAS
    ):
        return bad(
            "PK105",
            f"{root}/asset.json has schema_version {version}; this packer reads "
            f"{', '.join(map(str, sorted(SUPPORTED_DECLARATION_SCHEMAS)))}",
        )
    unknown = shared.substitute(data) if shared is not None else []
    try:
        decl = AssetDeclaration.model_validate(data)
    except ValidationError as exc:
        return bad("PK104", f"{root}/asset.json: {_describe_validation_error(exc)}")
    except RecursionError:
        return bad("PK104", f"{root}/asset.json nests too deeply")
    if shared is not None:
        shared.remember(unknown, decl)
    _share_fields_set(decl)
    return decl, check_output_contract(decl, root=root, asset_id=asset_id)


# The distinct fields sets of parsed declarations (which keys each asset.json gave): at most
# one per subset of the 8 fields, nearly always one or two per project.
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


def _share_fields_set(decl: AssetDeclaration) -> None:
    """Give `decl` the one shared set equal to its own fields set.

    Validation makes a set per model (728 bytes for 7 names, as much again as the model's
    values): kept by every declaration of a 30k scan it was ≈ 0.7 KB per asset. A declaration
    is frozen, nothing adds to its set (`model_copy` adds to a copy), so an equal shared set
    says the same.
    """
    own = decl.__pydantic_fields_set__
    shared = _FIELDS_SETS.setdefault(frozenset(own), own)
    if shared is not own:
        object.__setattr__(decl, "__pydantic_fields_set__", shared)


def check_output_contract(
    decl: AssetDeclaration, *, root: str, asset_id: int | None = None
) -> list[Diagnostic]:
    fmt, codec, _bank = OUTPUT_CONTRACTS[decl.type]
    found = []
    if decl.output.format != fmt:
        found.append(diagnostic(
            "PK108",
            f"{root}: type {decl.type} needs output.format {fmt!r}, not {decl.output.format!r}",
            root=root, file=DECLARATION_FILE, asset_id=asset_id,
        ))
    if decl.output.codec != codec:
        found.append(diagnostic(
            "PK108",
            f"{root}: format {fmt} needs output.codec {codec!r}, not {decl.output.codec!r}",
            root=root, file=DECLARATION_FILE, asset_id=asset_id,
        ))
    return found
