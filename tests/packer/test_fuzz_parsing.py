"""Property tests: no input makes declaration or registry parsing raise anything unexpected."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from packer.diagnostics import CATALOGUE
from packer.errors import RegistryError
from packer.files import declaration
from packer.files.declaration import AssetDeclaration, SharedBlocks, parse_declaration
from packer.files.registry import Registry, parse_registry

JSON_LEAVES = (
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)

DECLARATION_KEYS = ["schema_version", "asset_uuid", "name", "type", "inputs", "output",
                    "preload", "build"]
REGISTRY_KEYS = ["schema_version", "project_id", "next_asset_id", "assets"]
ENTRY_KEYS = ["asset_id", "root", "asset_uuid", "included_in_build", "quarantined"]

# Objects that look nearly right: the real keys with arbitrary values, so the fuzz reaches the
# schema's validators and not only the JSON decoder.
NEAR_DECLARATIONS = st.fixed_dictionaries(
    {}, optional={key: JSON_VALUES for key in DECLARATION_KEYS}
) | st.fixed_dictionaries({
    "schema_version": st.sampled_from([1, 2, 0, -1, True, "1"]),
    "asset_uuid": st.sampled_from(["00000000-0000-4000-8000-000000000001", "x", ""]),
    "name": st.text(max_size=10),
    "type": st.sampled_from(["glyph_bank", "sound_bank", "raw", "other"]),
    "inputs": st.dictionaries(st.text(max_size=5), st.lists(st.text(max_size=8), max_size=3),
                              max_size=3) | JSON_VALUES,
    "output": st.fixed_dictionaries({}, optional={
        "format": st.sampled_from(["RAW/bytes_v1", "GLYPH/indexed_v1", "?"]) | JSON_VALUES,
        "codec": st.sampled_from(["none", "lz4"]) | JSON_VALUES,
        "metadata": JSON_VALUES, "pipeline": JSON_VALUES,
    }),
    "preload": st.fixed_dictionaries({"enabled": JSON_VALUES}) | JSON_VALUES,
})

NEAR_REGISTRIES = st.fixed_dictionaries(
    {}, optional={key: JSON_VALUES for key in REGISTRY_KEYS}
) | st.fixed_dictionaries({
    "schema_version": st.sampled_from([1, 2, 0, True, "1"]),
    "project_id": st.text(max_size=8) | JSON_VALUES,
    "next_asset_id": st.integers(min_value=-2, max_value=5) | JSON_VALUES,
    "assets": st.lists(st.fixed_dictionaries({}, optional={
        "asset_id": st.integers(min_value=-1, max_value=6) | JSON_VALUES,
        "root": st.text(max_size=6) | JSON_VALUES,
        "asset_uuid": st.text(max_size=6) | JSON_VALUES,
        "included_in_build": st.booleans() | JSON_VALUES,
        "quarantined": st.booleans() | JSON_VALUES,
    }), max_size=4) | JSON_VALUES,
})


def _check_declaration(raw: bytes) -> None:
    decl, found = parse_declaration(raw, root="fuzz/root", asset_id=3)
    assert isinstance(found, list)
    if decl is None:
        assert len(found) == 1
        (diag,) = found
        assert diag.code in {"PK103", "PK104", "PK105"}
        assert diag.code in CATALOGUE and diag.blocking
        assert diag.root == "fuzz/root" and diag.file == "asset.json" and diag.asset_id == 3
        assert diag.message.startswith("fuzz/root")
    else:
        assert isinstance(decl, AssetDeclaration)
        assert {d.code for d in found} <= {"PK108"}


def _check_registry(raw: bytes) -> None:
    try:
        registry = parse_registry(raw, source="index.json")
    except RegistryError as exc:
        assert str(exc).startswith("index.json")
        return
    assert isinstance(registry, Registry)
    ids = [e.asset_id for e in registry.assets]
    assert len(ids) == len(set(ids))
    assert all(i < registry.next_asset_id for i in ids)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_declaration_from_arbitrary_bytes(raw: bytes) -> None:
    _check_declaration(raw)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES | NEAR_DECLARATIONS)
def test_declaration_from_arbitrary_json(value: Any) -> None:
    _check_declaration(json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_registry_from_arbitrary_bytes(raw: bytes) -> None:
    _check_registry(raw)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES | NEAR_REGISTRIES)
def test_registry_from_arbitrary_json(value: Any) -> None:
    _check_registry(json.dumps(value).encode())


def test_deep_nesting_is_a_diagnostic_not_a_recursion_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    _check_declaration(deep)
    _check_registry(deep)
    _check_declaration(b'{"inputs": ' + deep + b"}")
    _check_registry(b'{"assets": ' + deep + b"}")


OUTPUTS = [
    {"format": "RAW/bytes_v1", "codec": "none"},
    {"format": "GLYPH/indexed_v1", "codec": "none", "metadata": {"tile_size": 8}},
    {"format": "GLYPH/indexed_v1", "codec": "none", "metadata": {"tile_size": 8.0}},
    {"codec": "none", "format": "RAW/bytes_v1"},
    {"format": "RAW/bytes_v1", "codec": "none", "pipeline": {"a": 1, "b": [True, None]}},
    {"format": "RAW/bytes_v1", "codec": "none", "pipeline": {"b": [True, None], "a": 1}},
    {"format": "RAW/bytes_v1", "codec": "none", "pipeline": {"a": 1, "b": [1, None]}},
]
VALID_OUTPUTS = st.sampled_from(OUTPUTS)
SHARING_DECLARATIONS = st.fixed_dictionaries({
    "schema_version": st.just(1),
    "asset_uuid": st.just("00000000-0000-4000-8000-000000000001"),
    "name": st.sampled_from(["a", ""]),
    "type": st.sampled_from(["glyph_bank", "raw"]),
    "inputs": st.just({"data": ["x.bin"]}),
    "output": VALID_OUTPUTS | JSON_VALUES,
    "preload": st.sampled_from([{"enabled": True}, {"enabled": False}, {"enabled": 1}])
    | JSON_VALUES,
})


@settings(max_examples=200, deadline=None)
@given(st.lists(SHARING_DECLARATIONS | NEAR_DECLARATIONS, min_size=1, max_size=8))
def test_a_scan_s_shared_blocks_never_change_what_a_declaration_parses_to(
    values: list[Any],
) -> None:
    # Within one scan, equal output/preload blocks are parsed once and shared: every
    # declaration must still parse to what it parses to alone (value, types, key order and
    # diagnostics), whatever came before it.
    shared = SharedBlocks()
    for value in values:
        raw = json.dumps(value).encode()
        alone, alone_found = parse_declaration(raw, root="r", asset_id=1)
        with_shared, found = parse_declaration(raw, root="r", asset_id=1, shared=shared)
        assert found == alone_found
        if alone is None:
            assert with_shared is None
            continue
        assert with_shared is not None
        assert with_shared.model_dump_json() == alone.model_dump_json()
        assert with_shared == alone


def test_blocks_are_shared_only_between_equal_json_texts() -> None:
    # Key order and 8 vs 8.0 differ in the text, so those blocks are never shared; equal
    # texts are (the memory this saves is the point).
    shared = SharedBlocks()
    parsed = []
    for output in [*OUTPUTS, *reversed(OUTPUTS)]:
        raw = json.dumps({
            "schema_version": 1, "asset_uuid": "00000000-0000-4000-8000-000000000001",
            "name": "a", "type": "raw", "inputs": {"data": ["x.bin"]}, "output": output,
            "preload": {"enabled": True},
        }).encode()
        alone, _ = parse_declaration(raw, root="r")
        decl, _ = parse_declaration(raw, root="r", shared=shared)
        assert alone is not None and decl is not None
        assert decl.model_dump_json() == alone.model_dump_json()
        parsed.append(decl)
    count = len(OUTPUTS)
    for index, decl in enumerate(parsed[:count]):
        twin = parsed[2 * count - 1 - index]
        assert twin.output is decl.output and twin.preload is parsed[0].preload
    assert len({id(d.output) for d in parsed}) == count


_block_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=3) | st.integers() | st.booleans(), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=4), _block_values, max_size=4))
def test_a_block_s_sharing_key_is_its_json_text_or_the_same_refusal(block: dict[str, Any]) -> None:
    reference = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        expected: object = reference.encode(block)
    except (ValueError, TypeError) as exc:
        expected = type(exc)
    try:
        got: object = declaration._block_key(block)
    except (ValueError, TypeError) as exc:
        got = type(exc)
    assert got == expected
