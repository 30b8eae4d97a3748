"""`inspect`: the independent reader accepts our output and names exactly what is wrong."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from packer.build.reader import MalformedContainer, inspect_file
from packer.cli.main import main
from tests.packer.test_container_golden import GOLDEN

HEADER_START = 28


def golden_copy(tmp_path: Path, *, mirrors: bool = True) -> Path:
    for name in ("assets.pa", "asset_table.json", "preload.json"):
        if mirrors or name == "assets.pa":
            (tmp_path / name).write_bytes((GOLDEN / f"tiny.{name}").read_bytes())
    return tmp_path / "assets.pa"


def rebuild(header: bytes, payload: bytes = b"") -> bytes:
    offset = (HEADER_START + len(header) + 15) // 16 * 16
    head = struct.pack("<4sIIQII", b"PPAK", 1, len(header), offset, 0, 0) + header
    return head + bytes(offset - len(head)) + payload


def test_golden_file_is_valid_and_mirrors_match(tmp_path: Path) -> None:
    report = inspect_file(golden_copy(tmp_path))
    assert report.valid, report.problems
    assert report.mirrors == {"asset_table.json": "matches", "preload.json": "matches"}
    assert [row["asset_id"] for row in report.asset_table] == [1, 2, 3]


def _patch(offset: int, value: bytes) -> Callable[[bytes], bytes]:
    return lambda data: data[:offset] + value + data[offset + len(value):]


FATAL = [
    (lambda d: d[:20], "file is 20 bytes"),
    (_patch(0, b"PPAX"), "not the magic"),
    (_patch(4, struct.pack("<I", 2)), "schema_version (bytes 4-7) is 2"),
    (_patch(8, struct.pack("<I", 100_000)), "header_len (bytes 8-11) is 100000"),
    (_patch(12, struct.pack("<Q", 400)), "payload_offset (bytes 12-19) is 400"),
    (_patch(HEADER_START + 1, b"X"), "header is not JSON"),
]


@pytest.mark.parametrize(("corrupt", "message"), FATAL)
def test_unreadable_prelude_or_header_is_fatal_with_a_precise_message(
    tmp_path: Path, corrupt: Callable[[bytes], bytes], message: str
) -> None:
    path = golden_copy(tmp_path)
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(MalformedContainer, match=message.replace("(", r"\(").replace(")", r"\)")):
        inspect_file(path)


@pytest.mark.parametrize(("header", "message"), [
    (b'{"asset_table":[],"preload":[] }', "not in canonical form"),
    (b'{"preload":[],"asset_table":[]}', "not in canonical form"),
    (b'{"asset_table":[{"x":1.5}],"preload":[]}', "number 1.5"),
    (b'{"asset_table":[],"asset_table":[],"preload":[]}', "twice"),
    (b'{"asset_table":[]}', "exactly the keys"),
])
def test_header_must_be_canonical_integer_json(tmp_path: Path, header: bytes,
                                               message: str) -> None:
    path = tmp_path / "assets.pa"
    path.write_bytes(rebuild(header))
    with pytest.raises(MalformedContainer, match=message):
        inspect_file(path)


def _row(asset_id: int, offset: int, size: int) -> dict[str, object]:
    return {"asset_id": asset_id, "asset_name": f"a{asset_id}", "bank_type": "RAW",
            "codec": "none", "decoded_size": size, "metadata": {}, "offset": offset,
            "size": size}


def _header(rows: list[dict[str, object]], preload: list[dict[str, int]] | None = None) -> bytes:
    return json.dumps({"asset_table": rows, "preload": preload or []}, sort_keys=True,
                      separators=(",", ":")).encode()


@pytest.mark.parametrize(("rows", "payload", "preload", "message"), [
    ([_row(1, 0, 8), _row(2, 4, 8)], bytes(16), None, "overlaps the previous payload"),
    ([_row(1, 0, 8), _row(2, 16, 8)], bytes(20), None, "past the end of the file"),
    ([_row(2, 0, 4), _row(1, 16, 4)], bytes(20), None, "increasing asset_id order"),
    ([_row(1, 0, 4), _row(2, 32, 4)], bytes(36), None, "not the next 16-aligned position"),
    ([_row(1, 0, 4)], bytes(8), None, "the table says it ends at"),
    ([_row(1, 0, 4)], b"\x00\x00\x00\x00", [{"asset_id": 9, "slot": 0}], "not in the table"),
    ([_row(1, 0, 4)], b"\x00\x00\x00\x00", [{"asset_id": 1, "slot": 3}], "slots count 0"),
])
def test_table_problems_are_listed(
    tmp_path: Path, rows: list[dict[str, object]], payload: bytes,
    preload: list[dict[str, int]] | None, message: str,
) -> None:
    path = tmp_path / "assets.pa"
    path.write_bytes(rebuild(_header(rows, preload), payload))
    report = inspect_file(path)
    assert not report.valid
    assert any(message in p for p in report.problems), report.problems


def test_mirror_that_differs_is_a_problem_and_absent_mirrors_a_note(tmp_path: Path) -> None:
    path = golden_copy(tmp_path)
    (tmp_path / "preload.json").write_bytes(b'[{"asset_id":1,"slot":0}]')
    report = inspect_file(path)
    assert report.mirrors["preload.json"] == "differs"
    assert any("preload.json does not mirror" in p for p in report.problems)
    alone = tmp_path / "alone"
    alone.mkdir()
    report = inspect_file(golden_copy(alone, mirrors=False))
    assert report.valid and report.mirrors["asset_table.json"] == "absent"


def test_cli_inspect_prints_the_table_and_exits_by_validity(tmp_path: Path) -> None:
    path = golden_copy(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    from packer.cli.common import run_handler
    from packer.cli.main import build_parser

    args = build_parser().parse_args(["inspect", str(path), "--json"])
    assert run_handler(args, stdout=out, stderr=err) == 0
    document = json.loads(out.getvalue())
    assert document["valid"] is True
    assert [r["preload_slot"] for r in document["asset_table"]] == [0, None, 1]
    path.write_bytes(b"PPAK")
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(["inspect", str(path)])
    assert run_handler(args, stdout=out, stderr=err) == 1
    assert "prelude alone needs 28" in err.getvalue()
    assert main(["inspect", str(tmp_path / "missing.pa")]) == 1
