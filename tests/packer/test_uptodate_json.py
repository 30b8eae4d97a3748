"""The manifest's streamed JSON is byte for byte what `json.dumps` gives for the same value."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from packer.build import manifest_file

PER_CALL = manifest_file.ROWS_PER_CALL


@pytest.mark.parametrize("count", [0, 1, PER_CALL - 1, PER_CALL, PER_CALL + 1, 3 * PER_CALL + 7])
def test_streamed_rows_are_json_dumps_bytes(count: int) -> None:
    rows = [[f"assets/ñ/{i}\"x", i, -i, 2**63 + i] for i in range(count)]
    head: list[tuple[str, object]] = [("schema_version", 2)]
    tail: list[tuple[str, object]] = [("checks", {"a": "b"}), ("empty", [])]
    rows_field = ("files", manifest_file.Rows(iter(rows)))
    streamed = list(manifest_file.json_chunks([*head, rows_field, *tail]))
    expected = json.dumps(dict([*head, ("files", rows), *tail]), separators=(",", ":")).encode()
    assert b"".join(streamed) == expected


@pytest.mark.parametrize("cuts", [(0, 0, 0), (0, 2, 5), (2, 2, 40), (1, 39, 40), (40, 40, 40),
                                  (3, 300, 600)])
def test_rows_joined_from_parts_and_encoded_text_are_json_dumps_bytes(
    cuts: tuple[int, int, int]
) -> None:
    # as a manifest made aside: text a child encoded, a row made here, text, rows made here
    rows = [[f"assets/ñ/{i}\"x", i, -i] for i in range(max(cuts[2], 40))]
    first, second, third = cuts

    def text(part: list[Any]) -> manifest_file.Text:
        encoded = "".join(manifest_file.elements([manifest_file.Rows(part)]))
        return manifest_file.Text(encoded[at:at + 7] for at in range(0, len(encoded), 7))

    joined = manifest_file.Joined((text(rows[:first]), manifest_file.Rows(rows[first:second]),
                               text(rows[second:third]), manifest_file.Rows(rows[third:])))
    streamed = b"".join(manifest_file.json_chunks([("files", joined), ("n", 1)]))
    assert streamed == json.dumps({"files": rows, "n": 1}, separators=(",", ":")).encode()


def _manifest() -> manifest_file.Manifest:
    return manifest_file.Manifest(
        recorded_at_ns=1_700_000_000_123_456_789, packer_version="0.1.0",
        pipelines={"raw": 1, "glyph_bank": 2},
        files=[["prometeu.json", 10, 1, 2, 3, 2**64 - 1], ["assets/gone"],
               ["assets/ñ \"q\" \\ \u2028 ☃/data.bin", 0, 2**63, 0, 1, 2]],
        checks={"build/assets.pa": "ab" * 16}, head_hash="cd" * 16, payload_offset=64,
        output_bytes=2**40,
        assets=[manifest_file.NoopAsset(1, "raw/ñ", "nom \"x\"", 0, 5, "ef" * 16, 7)],
    )


@pytest.mark.parametrize("beside_threads", [False, True])
def test_a_manifest_reads_back_as_written(
    monkeypatch: pytest.MonkeyPatch, beside_threads: bool
) -> None:
    # Alone it is parsed by pydantic_core, beside threads in pieces: the same value both ways.
    monkeypatch.setattr(manifest_file, "others_may_wait_for_the_gil", lambda: beside_threads)
    written = _manifest()
    data = written.to_bytes()
    assert manifest_file.parse(data) == json.loads(data)
    read = manifest_file.Manifest.from_bytes(data)
    assert read is not None
    for name in ("recorded_at_ns", "packer_version", "pipelines", "files", "checks",
                 "head_hash", "payload_offset", "output_bytes", "assets"):
        assert getattr(read, name) == getattr(written, name), name
    assert read.to_bytes() == data


@pytest.mark.parametrize("bad", [
    lambda d: d["assets"][0].__setitem__(0, "1"),
    lambda d: d["assets"][0].__setitem__(1, 5),
    lambda d: d["assets"][0].__setitem__(2, None),
    lambda d: d["assets"][0].__setitem__(4, 5.0),
    lambda d: d["assets"][0].append(0),
    lambda d: d["files"].append(["x", 1]),
    lambda d: d["files"].append([]),
    lambda d: d["files"].append([7]),
    lambda d: d["files"].append("abcdef"),
    lambda d: d["files"].__setitem__(0, {"0": "x"}),
    lambda d: d.__setitem__("files", {}),
    lambda d: d["assets"].append("1234567"),
    lambda d: d["assets"].append([1, "r", "n", 0, 5, "h", True]),
    lambda d: d.__setitem__("assets", {}),
])
def test_a_manifest_of_the_wrong_shape_is_not_used(bad: Callable[[Any], object]) -> None:
    data = json.loads(_manifest().to_bytes())
    bad(data)
    assert manifest_file.Manifest.from_bytes(json.dumps(data).encode()) is None
    assert manifest_file.Manifest.from_bytes(b'{"schema_version": 2, "files": [') is None


def test_a_manifest_without_assets_reads_back() -> None:
    empty = _manifest()
    empty.assets = []
    read = manifest_file.Manifest.from_bytes(empty.to_bytes())
    assert read is not None and read.assets == [] and read.files == empty.files
