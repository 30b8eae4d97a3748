"""JSON in pieces: canonical_json_bytes gives json.dumps's very bytes, and
loads_in_pieces json.loads's value or error, in many small calls when a document is big."""

from __future__ import annotations

import json
import math
import threading
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packer.files import atomic, safe_read
from packer.files.atomic import PIECE_ITEMS, canonical_json_bytes
from packer.files.safe_read import loads_in_pieces


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


def _beside_threads(beside: bool) -> Any:
    """In pieces (as beside the Studio's GUI thread) or in one call (as a CLI command)."""
    return mock.patch.object(atomic, "others_may_wait_for_the_gil", lambda: beside)


@settings(max_examples=60, deadline=None)
@given(_values, st.booleans())
def test_the_same_bytes_as_one_json_dumps(value: Any, beside: bool) -> None:
    with _beside_threads(beside):
        assert canonical_json_bytes(value) == _reference(value)


def _big_document() -> dict[str, Any]:
    rows = [{"asset_id": n, "name": f"é{n}", "inputs": [{"size": n}]} for n in range(1000)]
    return {"schema_version": 1, "assets": rows, "by_id": {n: f"#{n}" for n in range(100)},
            "tuple": tuple(range(PIECE_ITEMS + 1))}


def _count_encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = atomic._CANONICAL.encode

    def counting(value: Any) -> str:
        calls.append(len(value) if isinstance(value, (dict, list, tuple)) else 1)
        return str(real(value))

    monkeypatch.setattr(atomic._CANONICAL, "encode", counting)
    return calls


def test_big_documents_are_encoded_in_many_small_calls_beside_other_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(atomic, "others_may_wait_for_the_gil", lambda: True)
    calls = _count_encodes(monkeypatch)
    document = _big_document()
    assert canonical_json_bytes(document) == _reference(document)
    assert max(calls) <= PIECE_ITEMS  # no call encoded a big container whole


def test_alone_a_big_document_is_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    # A CLI command (a build's child process) has no other thread to hold up: one C call.
    monkeypatch.setattr(atomic, "others_may_wait_for_the_gil", lambda: False)
    calls = _count_encodes(monkeypatch)
    document = _big_document()
    assert canonical_json_bytes(document) == _reference(document)
    assert calls == [len(document)]


@pytest.mark.parametrize("beside", [True, False])
def test_what_json_refuses_is_refused_alike(beside: bool) -> None:
    for bad in ([math.nan] * (PIECE_ITEMS + 1), {"a": [object()] * (PIECE_ITEMS + 1)}):
        with pytest.raises((ValueError, TypeError)) as ours, _beside_threads(beside):
            canonical_json_bytes(bad)
        with pytest.raises((ValueError, TypeError)) as theirs:
            _reference(bad)
        assert type(ours.value) is type(theirs.value)



@pytest.fixture
def pieces_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_read, "PIECES_FROM_BYTES", 0)


def _outcome(parse: Any, text: str | bytes) -> tuple[str, Any]:
    try:
        return "value", parse(text)
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=80, deadline=None,  # the fixture only sets a constant
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_values, st.sampled_from([None, 0, 2]), st.data())
def test_loads_in_pieces_is_json_loads(pieces_always: None, value: Any, indent: int | None,
                                       data: st.DataObject) -> None:
    """The same value for any valid text, and the same error for a text broken anywhere."""
    text = json.dumps(value, indent=indent, separators=None if indent else (",", ":"))
    assert loads_in_pieces(text) == json.loads(text)
    assert loads_in_pieces(text.encode("utf-8")) == json.loads(text.encode("utf-8"))
    if text:
        at = data.draw(st.integers(0, len(text) - 1))
        broken = text[:at] + data.draw(st.sampled_from(["", ",", "]", "}", ":", '"', "x"])) \
            + text[at + 1:]
        assert _outcome(loads_in_pieces, broken) == _outcome(json.loads, broken)


def test_loads_in_pieces_parses_a_big_document_in_small_calls(
    pieces_always: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = {"files": [[f"assets/{n}", n, n * 2] for n in range(500)],
                "hashes": {f"p{n}": [n, "h"] for n in range(500)}, "n": 1}
    text = json.dumps(document)
    longest: list[int] = []
    real = safe_read._DECODER.raw_decode

    def measuring(s: str, idx: int = 0) -> tuple[Any, int]:
        value, end = real(s, idx)
        longest.append(end - idx)
        return value, end

    monkeypatch.setattr(safe_read._DECODER, "raw_decode", measuring)
    assert loads_in_pieces(text) == document
    assert max(longest) < 40  # one row or one key at a time, never the document


def test_state_files_are_parsed_in_pieces_only_beside_other_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A CLI command alone parses in one call (cheaper); beside another thread (the Studio's
    GUI waiting for the GIL) in pieces. The same value either way."""
    big = json.dumps({"rows": [[f"path/{i}", i, i * 2] for i in range(20_000)]})
    assert len(big) > safe_read.PIECES_FROM_BYTES
    pieces: list[int] = []
    real = safe_read.loads_in_pieces

    def counted(data: bytes | str) -> Any:
        pieces.append(len(data))
        return real(data)

    monkeypatch.setattr(safe_read, "loads_in_pieces", counted)
    with monkeypatch.context() as alone:
        alone.setattr(threading, "active_count", lambda: 1)
        assert safe_read.loads_beside_threads(big) == json.loads(big)
    assert pieces == []
    with monkeypatch.context() as beside:
        beside.setattr(threading, "active_count", lambda: 2)
        assert safe_read.loads_beside_threads(big) == json.loads(big)
    assert pieces == [len(big)]
