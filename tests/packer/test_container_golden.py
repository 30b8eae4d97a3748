"""Golden files: the exact bytes of a tiny raw-only build (prelude, header, payload, mirrors).

Regenerate only for an intended format change: PROMETEU_REGENERATE_GOLDEN=1 pytest this file,
then review the diff and bump the container schema_version if readers would be affected.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from packer.build import build, outputs
from packer.build.plan import PlannedEntry, make_header
from packer.files.atomic import canonical_json_bytes
from packer.files.project import Project
from tests.packer.build_support import add_glyph, add_raw, add_sound, new_project

GOLDEN = Path(__file__).parent / "golden"
FILES = ("assets.pa", "asset_table.json", "preload.json", "asset_table_metadata.json")

EXPECTED_HEADER = (
    b'{"asset_table":['
    b'{"asset_id":1,"asset_name":"hello","bank_type":"RAW","codec":"none","decoded_size":5,'
    b'"metadata":{},"offset":0,"size":5},'
    b'{"asset_id":2,"asset_name":"empty","bank_type":"RAW","codec":"none","decoded_size":0,'
    b'"metadata":{},"offset":16,"size":0},'
    b'{"asset_id":3,"asset_name":"world","bank_type":"RAW","codec":"none","decoded_size":17,'
    b'"metadata":{},"offset":16,"size":17}],'
    b'"preload":[{"asset_id":1,"slot":0},{"asset_id":3,"slot":1}]}'
)


def tiny_project(base: Path) -> Project:
    project = new_project(base)
    add_raw(project, "text/hello", b"hello", preload=True)
    add_raw(project, "misc/empty", b"")
    add_raw(project, "text/world", "world, ünïcode!".encode(), preload=True)
    return project


def test_tiny_build_matches_the_golden_files(tmp_path: Path) -> None:
    project = tiny_project(tmp_path)
    assert build(project).succeeded
    produced = {name: (project.build_dir / name).read_bytes() for name in FILES}
    if os.environ.get("PROMETEU_REGENERATE_GOLDEN") == "1":
        for name, data in produced.items():
            (GOLDEN / f"tiny.{name}").write_bytes(data)
    for name, data in produced.items():
        assert data == (GOLDEN / f"tiny.{name}").read_bytes(), f"{name} differs from golden"


def test_golden_artifact_layout_read_by_hand() -> None:
    # Decoded with struct and slicing only, from the layout documented in docs/formats.md.
    data = (GOLDEN / "tiny.assets.pa").read_bytes()
    magic, version, header_len, payload_offset, flags, reserved = struct.unpack_from(
        "<4sIIQII", data)
    assert (magic, version, flags, reserved) == (b"PPAK", 1, 0, 0)
    assert data[:4] == b"PPAK" and data[4:8] == b"\x01\x00\x00\x00"
    assert header_len == len(EXPECTED_HEADER)
    assert data[28:28 + header_len] == EXPECTED_HEADER
    assert payload_offset == (28 + header_len + 15) // 16 * 16
    assert data[28 + header_len:payload_offset] == bytes(payload_offset - 28 - header_len)
    payload = data[payload_offset:]
    assert payload == b"hello" + bytes(11) + "world, ünïcode!".encode()
    mirrors = {
        "asset_table.json": EXPECTED_HEADER[len(b'{"asset_table":'):EXPECTED_HEADER.index(
            b',"preload":')],
        "preload.json": EXPECTED_HEADER[EXPECTED_HEADER.index(b',"preload":') + 11:-1],
    }
    for name, expected in mirrors.items():
        assert (GOLDEN / f"tiny.{name}").read_bytes() == expected


@pytest.mark.parametrize("rows_per_call", [1, 3, outputs.ROWS_PER_CALL])
def test_the_tool_metadata_is_the_canonical_json_of_its_whole_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_per_call: int
) -> None:
    # Written a batch of rows at a time: it must be exactly canonical_json_bytes of the whole
    # document, for every format and for names with quotes and non-ASCII, whatever the batch.
    monkeypatch.setattr(outputs, "ROWS_PER_CALL", rows_per_call)
    project = new_project(tmp_path)
    add_raw(project, "text/hello", b"hello", preload=True, name='he said "ñ"')
    add_raw(project, "misc/empty", b"")
    add_glyph(project, "glyphs/font", tiles=3)
    add_sound(project, "sounds/sfx", samples=2)
    assert build(project).succeeded
    tool = (project.build_dir / "asset_table_metadata.json").read_bytes()
    document = json.loads(tool)
    assert len(document["assets"]) == 4 and document["schema_version"] == 2
    assert tool == canonical_json_bytes(document)


def test_the_header_is_the_canonical_json_of_both_mirrors() -> None:
    entries = [
        PlannedEntry(asset_id=i, asset_name=name, bank_type="RAW", codec="none", size=i * 3,
                     decoded_size=i * 3, metadata={"nested": {"k": [1, "é"]}} if i % 2 else {},
                     preload=i % 3 == 0)
        for i, name in enumerate(["a", 'quote "x"', "ünïcode", "z" * 40, "tab\t"], start=1)
    ]
    header = make_header(reversed(entries))
    assert header.header == canonical_json_bytes(
        {"asset_table": json.loads(header.asset_table), "preload": json.loads(header.preload)})
    assert json.loads(header.preload) == [{"asset_id": 3, "slot": 0}]
