"""The manifest's streamed JSON is byte for byte what `json.dumps` gives for the same value."""

from __future__ import annotations

import json

import pytest

from packer.build import uptodate


@pytest.mark.parametrize("count", [0, 1, uptodate._ENCODE_BATCH - 1, uptodate._ENCODE_BATCH,
                                   uptodate._ENCODE_BATCH + 1, 3 * uptodate._ENCODE_BATCH + 7])
def test_streamed_rows_are_json_dumps_bytes(count: int) -> None:
    rows = [[f"assets/ñ/{i}\"x", i, -i, 2**63 + i] for i in range(count)]
    head: list[tuple[str, object]] = [("schema_version", 2)]
    tail: list[tuple[str, object]] = [("checks", {"a": "b"}), ("empty", [])]
    streamed = list(uptodate._json_chunks([*head, ("files", uptodate._Rows(iter(rows))), *tail]))
    expected = json.dumps(dict([*head, ("files", rows), *tail]), separators=(",", ":")).encode()
    assert b"".join(streamed) == expected
