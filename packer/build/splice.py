"""Per-asset byte spans of the build's JSON documents, so a patch build re-serialises only
the rows it changes (parsing and dumping a 10k-asset document costs ≈ 0.1 s each way).

Each document holds one object per asset, in asset_id order, and each object starts with a
fixed key: `{"asset_id":` (the header's asset table and asset_table_metadata.json, canonical
JSON with sorted keys) or `{"asset_uuid":"` (cache.json entries, pydantic's field order). JSON
escapes every `"` inside a string, so such a marker can only occur where an object starts. A
document is split only when the marker occurs exactly once per asset: a runtime metadata
value holding an object with that same first key (never made by today's pipelines) gives a
count that does not match, and the caller falls back to the normal path. Every row's leading
asset id is checked too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from packer.build.cache import CACHE_SCHEMA_VERSION

ASSET_ID = b'{"asset_id":'
ASSET_UUID = b'{"asset_uuid":"'
PAYLOAD_HASH = b'"payload":{"hash":"'
_CACHE_HEAD = b'{"schema_version":' + str(CACHE_SCHEMA_VERSION).encode()
CACHE_PREFIX = re.compile(
    re.escape(_CACHE_HEAD) + rb',"hash_algorithm":"xxh3_128","started_at_ns":(\d+),'
    rb'"artifact":\{"header_hash":"([0-9a-f]+)","size":(\d+)\},"assets":\{'
)


class SpliceError(ValueError):
    """The document is not split as expected: the patch build cannot rely on it."""


@dataclass(frozen=True, slots=True)
class Rows:
    """`data` = data[:starts[0]] + rows joined by "," + data[ends[-1]:]."""

    data: bytes
    starts: list[int]
    ends: list[int]

    def row(self, index: int) -> bytes:
        return self.data[self.starts[index]:self.ends[index]]

    def join(self, rows: Iterable[bytes], *, head: bytes | None = None) -> bytes:
        start = self.data[:self.starts[0]] if head is None else head
        return start + b",".join(rows) + self.data[self.ends[-1]:]

    def spliced(self, replaced: dict[int, bytes], *, head: bytes | None = None) -> bytes:
        """`join` of every row, each index of `replaced` by its new bytes: the rows between
        two replaced ones are copied as one slice, so the cost is that of the replaced rows
        (a patch build changes a few of 10k), not of every row."""
        parts = [self.data[:self.starts[0]] if head is None else head]
        copied = 0  # rows before this one are in `parts`
        for index in sorted(replaced):
            if index > copied:
                parts += (self.data[self.starts[copied]:self.ends[index - 1]], b",")
            parts += (replaced[index], b",")
            copied = index + 1
        if copied < len(self.starts):
            parts.append(self.data[self.starts[copied]:self.ends[-1]])
        else:
            parts.pop()  # the comma after the last row
        parts.append(self.data[self.ends[-1]:])
        return b"".join(parts)


def _once_per_asset(data: bytes, marker: bytes, count: int) -> None:
    if count == 0 or data.count(marker) != count:
        raise SpliceError(f"{marker.decode()} does not occur once per asset")


def _row_starts(data: bytes, marker: bytes, keys: list[bytes], *, key_first: bool) -> list[int]:
    """Where each row starts: at `marker`, which must occur once per row and be followed by
    its key (`key_first=False`) or preceded by it (the row then starts at its key), the keys
    being the rows' expected ones in order. The checks run as C loops (finditer, map): no
    Python statement per row, of which these documents have one per asset."""
    found = [match.start() for match in re.finditer(re.escape(marker), data)]
    if not keys or len(found) != len(keys):
        raise SpliceError(f"{marker.decode()} does not occur once per asset")
    if key_first:
        starts = [at - len(key) for at, key in zip(found, keys, strict=True)]
        intact = all(map(data.startswith, keys, starts))
    else:
        starts = found
        step = len(marker)
        intact = all(map(data.startswith, keys, [at + step for at in found]))
    if not intact:
        raise SpliceError("the rows are not those of the build's assets, in order")
    return starts


def _id_keys(ids: list[int]) -> list[bytes]:
    return [b"%d," % i for i in ids]  # what follows ASSET_ID in the row of asset i


def _split(data: bytes, starts: list[int], last_end: int) -> Rows:
    ends = [s - 1 for s in starts[1:]]
    if not all(map(data.startswith, itertools.repeat(b","), ends)):
        raise SpliceError("rows are not separated by commas")
    ends.append(last_end)
    return Rows(data, starts, ends)


def table_rows(table: bytes, ids: list[int]) -> Rows:
    """The header's asset_table (`[row,…]`, canonical JSON)."""
    if not (table.startswith(b"[") and table.endswith(b"]")):
        raise SpliceError("the asset table is not a JSON array")
    starts = _row_starts(table, ASSET_ID, _id_keys(ids), key_first=False)
    if starts[0] != 1:
        raise SpliceError("the asset table does not start with a row")
    return _split(table, starts, len(table) - 1)


def tool_rows(document: bytes, ids: list[int], tail: bytes) -> Rows:
    """asset_table_metadata.json: `{"assets":[row,…]` + `tail` (the keys after "assets")."""
    if not (document.startswith(b'{"assets":[') and document.endswith(tail)):
        raise SpliceError("asset_table_metadata.json does not have the expected shape")
    starts = _row_starts(document, ASSET_ID, _id_keys(ids), key_first=False)
    _once_per_asset(document, PAYLOAD_HASH, len(ids))  # one payload object per row, no other
    if starts[0] != len(b'{"assets":['):
        raise SpliceError("asset_table_metadata.json does not start with a row")
    return _split(document, starts, len(document) - len(tail))


def cache_rows(document: bytes, ids: list[int]) -> tuple[Rows, tuple[int, str, int]]:
    """cache.json's entries (`"<id>":{…}` each) and (started_at_ns, header_hash, size)."""
    prefix = CACHE_PREFIX.match(document)
    if prefix is None or not document.endswith(b"}}"):
        raise SpliceError("cache.json does not have the expected shape")
    starts = _row_starts(document, ASSET_UUID, [b'"%d":' % i for i in ids], key_first=True)
    if starts[0] != prefix.end():
        raise SpliceError("cache.json's entries do not start after its header")
    started, header_hash, size = prefix.groups()
    return _split(document, starts, len(document) - 2), (
        int(started), header_hash.decode(), int(size))


def cache_prefix(started_at_ns: int, header_hash: str, size: int) -> bytes:
    """What pydantic writes before cache.json's first entry (CACHE_PREFIX)."""
    return (_CACHE_HEAD + b',"hash_algorithm":"xxh3_128","started_at_ns":'
            + str(started_at_ns).encode() + b',"artifact":{"header_hash":"'
            + header_hash.encode() + b'","size":' + str(size).encode() + b'},"assets":{')


def entry_value(row: bytes) -> bytes:
    """A cache.json row `"<id>":{…}` without its key."""
    return row[row.index(b":") + 1:]


def with_table_offset(row: bytes, offset: int) -> bytes:
    """A table row with its own `offset` (the last but one key: only `size` follows it)."""
    at = row.rindex(b',"offset":') + len(b',"offset":')
    end = row.index(b",", at)
    return row[:at] + str(offset).encode() + row[end:]


def with_tool_offset(row: bytes, offset: int) -> bytes:
    """A tool metadata row with its payload's `offset` (the payload's keys: hash, offset, size)."""
    at = row.index(PAYLOAD_HASH) + len(PAYLOAD_HASH)
    at = row.index(b'"offset":', at) + len(b'"offset":')
    end = row.index(b",", at)
    return row[:at] + str(offset).encode() + row[end:]
