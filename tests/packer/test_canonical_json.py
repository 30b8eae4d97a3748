"""canonical_json_bytes and compact_json_bytes: exactly json.dumps's bytes, in pieces when big."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.files import atomic
from packer.files.atomic import PIECE_ITEMS, canonical_json_bytes, compact_json_bytes


def _reference(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(
    allow_nan=False, allow_infinity=False)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=PIECE_ITEMS * 2)
    | st.dictionaries(st.text(max_size=6), inner, max_size=PIECE_ITEMS * 2),
    max_leaves=400,
)


@settings(max_examples=60, deadline=None)
@given(_values)
def test_the_same_bytes_as_one_json_dumps(value: Any) -> None:
    assert canonical_json_bytes(value) == _reference(value)


def test_big_documents_are_encoded_in_many_small_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"asset_id": n, "name": f"é{n}", "inputs": [{"size": n}]} for n in range(1000)]
    document = {"schema_version": 1, "assets": rows, "by_id": {n: f"#{n}" for n in range(100)},
                "tuple": tuple(range(PIECE_ITEMS + 1))}
    calls: list[int] = []
    real = atomic._CANONICAL.encode

    def counting(value: Any) -> str:
        calls.append(len(value) if isinstance(value, (dict, list, tuple)) else 1)
        return str(real(value))

    monkeypatch.setattr(atomic._CANONICAL, "encode", counting)
    assert canonical_json_bytes(document) == _reference(document)
    assert max(calls) <= PIECE_ITEMS  # no call encoded a big container whole


def test_what_json_refuses_is_refused_alike() -> None:
    for bad in ([math.nan] * (PIECE_ITEMS + 1), {"a": [object()] * (PIECE_ITEMS + 1)}):
        with pytest.raises((ValueError, TypeError)) as ours:
            canonical_json_bytes(bad)
        with pytest.raises((ValueError, TypeError)) as theirs:
            _reference(bad)
        assert type(ours.value) is type(theirs.value)


@settings(max_examples=60, deadline=None)
@given(_values)
def test_compact_is_json_dumps_with_compact_separators(value: Any) -> None:
    expected = json.dumps(value, separators=(",", ":")).encode("utf-8")  # insertion order
    assert compact_json_bytes(value) == expected
