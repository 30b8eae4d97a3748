"""The in-memory plan of an artifact: asset table, preload list, canonical header bytes.

Everything here is a pure function of the entries, so equal inputs give equal bytes whatever the
machine, the directory order or the hash seed (entries are sorted by asset_id before use).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue

from packer.build.layout import PAYLOAD_ALIGNMENT, align, payload_offset_for
from packer.files.atomic import canonical_json_bytes


class HeaderValueError(ValueError):
    """A header value that the canonical form forbids (a float, a non-string key, …)."""


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    """One asset as it appears in the header; `offset` is filled in by `lay_out`."""

    asset_id: int
    asset_name: str
    bank_type: str
    codec: str
    size: int
    decoded_size: int
    metadata: dict[str, JsonValue]
    preload: bool
    offset: int = 0

    def table_row(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "asset_name": self.asset_name,
            "bank_type": self.bank_type,
            "codec": self.codec,
            "decoded_size": self.decoded_size,
            "metadata": self.metadata,
            "offset": self.offset,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class Header:
    """The header bytes and its two parts; the mirrors are exactly `asset_table` and `preload`."""

    entries: tuple[PlannedEntry, ...]
    asset_table: bytes
    preload: bytes
    header: bytes

    @property
    def payload_offset(self) -> int:
        return payload_offset_for(len(self.header))

    @property
    def payload_size(self) -> int:
        last = self.entries[-1] if self.entries else None
        return last.offset + last.size if last else 0

    @property
    def file_size(self) -> int:
        return self.payload_offset + self.payload_size


def check_integers_only(value: object, where: str) -> None:
    """Refuse floats (and anything JSON cannot carry) anywhere in a header value."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return
    if isinstance(value, float):
        raise HeaderValueError(f"{where} is the float {value!r}; the header holds integers only")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise HeaderValueError(f"{where} has the non-string key {key!r}")
            check_integers_only(item, f"{where}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_integers_only(item, f"{where}[{index}]")
        return
    raise HeaderValueError(f"{where} is a {type(value).__name__}, which JSON cannot hold")


def _integers_only(value: object) -> bool:
    """`check_integers_only` would pass `value` (a yes or no, without naming each place)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return True
    if isinstance(value, dict):
        return all(isinstance(key, str) and _integers_only(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(_integers_only(item) for item in value)
    return False


def lay_out(entries: Iterable[PlannedEntry]) -> tuple[PlannedEntry, ...]:
    """Sort by asset_id and give each entry its offset from the payload start (16-aligned)."""
    placed = []
    cursor = 0
    for entry in sorted(entries, key=lambda e: e.asset_id):
        cursor = align(cursor, PAYLOAD_ALIGNMENT)
        placed.append(PlannedEntry(
            asset_id=entry.asset_id, asset_name=entry.asset_name, bank_type=entry.bank_type,
            codec=entry.codec, size=entry.size, decoded_size=entry.decoded_size,
            metadata=entry.metadata, preload=entry.preload, offset=cursor,
        ))
        cursor += entry.size
    ids = [e.asset_id for e in placed]
    if len(ids) != len(set(ids)):
        raise HeaderValueError("two entries share one asset_id")
    return tuple(placed)


def preload_rows(entries: Sequence[PlannedEntry]) -> list[dict[str, int]]:
    """Slots 0, 1, 2, … in asset_id order over the entries whose preload is enabled."""
    chosen = [e for e in entries if e.preload]
    return [{"asset_id": e.asset_id, "slot": slot} for slot, e in enumerate(chosen)]


def make_header(entries: Iterable[PlannedEntry]) -> Header:
    return header_of(lay_out(entries))


def header_of(placed: tuple[PlannedEntry, ...]) -> Header:
    """The header of entries already laid out (`lay_out`)."""
    table = [e.table_row() for e in placed]
    preload = preload_rows(placed)
    for row in table:
        if not _integers_only(row):  # then say where (the fast check makes no names)
            check_integers_only(row, f"asset_table[asset_id={row['asset_id']}]")
    table_bytes = canonical_json_bytes(table)
    preload_bytes = canonical_json_bytes(preload)
    # Sorted keys put "asset_table" before "preload", so the header is the two mirrors spliced
    # (the canonical JSON of both, as tests/packer/test_container_golden.py checks).
    header = b'{"asset_table":' + table_bytes + b',"preload":' + preload_bytes + b"}"
    return Header(entries=placed, asset_table=table_bytes, preload=preload_bytes, header=header)
