"""Per-asset spans of the build's JSON documents (packer.build.splice): exact, or refused."""

from __future__ import annotations

from typing import Any

import pytest

from packer.build import splice
from packer.files.atomic import canonical_json_bytes


def table(*rows: dict[str, Any]) -> bytes:
    return canonical_json_bytes(list(rows))


def row(asset_id: int, offset: int, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"asset_id": asset_id, "asset_name": f"a{asset_id}", "bank_type": "RAW",
            "codec": "none", "decoded_size": 5, "metadata": metadata or {}, "offset": offset,
            "size": 5}


def test_rows_are_split_and_rejoined_byte_for_byte() -> None:
    data = table(row(1, 0, {"offset": 9, "text": '{"asset_id":2'}), row(2, 16), row(7, 32))
    rows = splice.table_rows(data, [1, 2, 7])
    assert rows.join(rows.row(i) for i in range(3)) == data
    moved = splice.with_table_offset(rows.row(0), 48)
    assert moved == canonical_json_bytes(row(1, 48, {"offset": 9, "text": '{"asset_id":2'}))


def test_a_nested_object_that_looks_like_a_row_is_refused() -> None:
    data = table(row(1, 0, {"inner": {"asset_id": 2, "x": 1}}), row(2, 16))
    with pytest.raises(splice.SpliceError):
        splice.table_rows(data, [1, 2])


def test_rows_of_other_assets_are_refused() -> None:
    with pytest.raises(splice.SpliceError):
        splice.table_rows(table(row(1, 0), row(3, 16)), [1, 2])


def test_cache_entries_need_pydantics_prefix_and_their_ids() -> None:
    head = splice.cache_prefix(5, "ab", 100)
    data = head + b'"1":{"asset_uuid":"u1","x":{}},"2":{"asset_uuid":"u2"}}}'
    rows, (started, digest, size) = splice.cache_rows(data, [1, 2])
    assert (started, digest, size) == (5, "ab", 100)
    assert splice.entry_value(rows.row(1)) == b'{"asset_uuid":"u2"}'
    assert rows.join([rows.row(0), rows.row(1)], head=splice.cache_prefix(6, "cd", 1)) == (
        splice.cache_prefix(6, "cd", 1) + data[len(head):])
    with pytest.raises(splice.SpliceError):
        splice.cache_rows(data, [1, 3])
    with pytest.raises(splice.SpliceError):
        splice.cache_rows(data.replace(b'"x":{}', b'"x":{"asset_uuid":"u9"}'), [1, 2])
    with pytest.raises(splice.SpliceError):
        splice.cache_rows(data.replace(b'"artifact":{', b'"artifact": {'), [1, 2])


def test_tool_rows_move_only_the_payload_offset() -> None:
    tail = b'],"hash_algorithm":"xxh3_128","packer_version":"1","schema_version":1}'
    first: dict[str, Any] = {"asset_id": 1, "inputs": [{"hash": "0" * 32, "offset": 3}],
             "payload": {"hash": "f" * 32, "offset": 0, "size": 5}, "tool_metadata": {"offset": 4}}
    data = b'{"assets":[' + canonical_json_bytes(first) + b"," + canonical_json_bytes(
        {"asset_id": 2, "payload": {"hash": "e" * 32, "offset": 16, "size": 1}}) + tail
    rows = splice.tool_rows(data, [1, 2], tail)
    moved = splice.with_tool_offset(rows.row(0), 32)
    first["payload"]["offset"] = 32
    assert moved == canonical_json_bytes(first)
    assert rows.join([rows.row(0), rows.row(1)]) == data
    with pytest.raises(splice.SpliceError):
        splice.tool_rows(data, [1, 2], tail.replace(b'"1"', b'"2"'))


@pytest.mark.parametrize("count", [1, 2, 5])
def test_splicing_replaced_rows_is_joining_every_row(count: int) -> None:
    ids = list(range(1, count + 1))
    data = table(*(row(i, 16 * i) for i in ids))
    rows = splice.table_rows(data, ids)
    # every subset of rows replaced (none, first, last, runs, all), with and without a head
    for mask in range(1 << count):
        replaced = {i: canonical_json_bytes(row(ids[i], 999 + i)) for i in range(count)
                    if mask >> i & 1}
        every = [replaced.get(i, rows.row(i)) for i in range(count)]
        assert rows.spliced(replaced) == rows.join(every)
        assert rows.spliced(replaced, head=b"[ ") == rows.join(every, head=b"[ ")


def test_rows_out_of_order_missing_or_not_comma_separated_are_refused() -> None:
    data = table(row(1, 0), row(2, 16), row(7, 32))
    assert splice.table_rows(data, [1, 2, 7]).starts[1] == data.index(b'{"asset_id":2,')
    for ids in ([2, 1, 7], [1, 2], [1, 2, 7, 8], [1, 2, 70], [1, 22, 7], []):
        with pytest.raises(splice.SpliceError):
            splice.table_rows(data, ids)
    with pytest.raises(splice.SpliceError):
        splice.table_rows(data.replace(b'},{"asset_id":2', b'}, {"asset_id":2'), [1, 2, 7])
    head = splice.cache_prefix(5, "ab", 100)
    cache = head + b'"1":{"asset_uuid":"u1"},"12":{"asset_uuid":"u2"}}}'
    assert splice.cache_rows(cache, [1, 12])[0].starts[1] == cache.index(b'"12":')
    for ids in ([1, 2], [12, 1], [1, 112], [1]):
        with pytest.raises(splice.SpliceError):
            splice.cache_rows(cache, ids)
