"""An independent reader of `assets.pa`, for `prometeu-packer inspect`.

Written from docs/formats.md ("assets.pa") alone: it imports nothing from the writer, so a bug
shared by writer and reader cannot hide itself. Every check names the byte or entry at fault.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packer.files.safe_read import MAX_STATE_FILE_BYTES, read_regular

_PRELUDE = struct.Struct("<4sIIQII")
_MAGIC = b"PPAK"
_VERSION = 1
_ALIGN = 16
_ROW_KEYS = frozenset(
    {"asset_id", "asset_name", "bank_type", "codec", "decoded_size", "metadata", "offset", "size"}
)
_MIRRORS = (("asset_table.json", "asset_table"), ("preload.json", "preload"))


class MalformedContainer(Exception):
    """The file cannot be read as an assets.pa; the message says exactly why."""


@dataclass
class InspectReport:
    path: str
    file_size: int
    schema_version: int
    header_len: int
    payload_offset: int
    flags: int
    asset_table: list[dict[str, Any]]
    preload: list[dict[str, Any]]
    mirrors: dict[str, str] = field(default_factory=dict)  # name -> "matches" / "absent" / …
    problems: list[str] = field(default_factory=list)  # each makes the file invalid
    notes: list[str] = field(default_factory=list)  # worth knowing, not wrong

    @property
    def valid(self) -> bool:
        return not self.problems

    def preload_slots(self) -> dict[int, int]:
        """asset_id -> slot, from the preload rows well-formed enough to say (a malformed one is
        already a problem in the report)."""
        return {row["asset_id"]: row["slot"] for row in self.preload
                if isinstance(row, dict) and _is_int(row.get("asset_id"))
                and _is_int(row.get("slot"))}

    def to_json(self) -> dict[str, Any]:
        slots = self.preload_slots()
        return {
            "file": self.path, "valid": self.valid, "file_size": self.file_size,
            "prelude": {"magic": _MAGIC.decode(), "schema_version": self.schema_version,
                        "header_len": self.header_len, "payload_offset": self.payload_offset,
                        "flags": self.flags},
            "asset_table": [{**row, "preload_slot": slots.get(row["asset_id"])}
                            if isinstance(row, dict) and _is_int(row.get("asset_id")) else row
                            for row in self.asset_table],
            "preload": self.preload, "mirrors": self.mirrors,
            "problems": self.problems, "notes": self.notes,
        }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _reject_float(text: str) -> Any:
    raise MalformedContainer(f"header holds the number {text}; only integers are allowed")


def _reject_constant(text: str) -> Any:
    raise MalformedContainer(f"header holds {text}; only integers are allowed")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise MalformedContainer(f"header has the key {dup!r} twice in one object")
    return dict(pairs)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)))


def inspect_file(path: Path, mirrors_dir: Path | None = None) -> InspectReport:
    """Validate `path`; mirrors are looked for in `mirrors_dir` (default: the file's folder).

    Raises MalformedContainer when the prelude or header cannot be read at all; problems found
    in an otherwise readable file are listed in the report.
    """
    try:
        data = read_regular(path)
    except OSError as exc:
        raise MalformedContainer(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) < _PRELUDE.size:
        raise MalformedContainer(
            f"file is {len(data)} bytes; the prelude alone needs {_PRELUDE.size}")
    magic, version, header_len, payload_offset, flags, reserved = _PRELUDE.unpack_from(data)
    if magic != _MAGIC:
        raise MalformedContainer(f"bytes 0-3 are {magic!r}, not the magic {_MAGIC!r}")
    if version != _VERSION:
        raise MalformedContainer(f"schema_version (bytes 4-7) is {version}; this reader knows 1")
    header_end = _PRELUDE.size + header_len
    if header_end > len(data):
        raise MalformedContainer(
            f"header_len (bytes 8-11) is {header_len}, but the file ends at byte {len(data)}")
    expected_offset = (header_end + _ALIGN - 1) // _ALIGN * _ALIGN
    if payload_offset != expected_offset:
        raise MalformedContainer(
            f"payload_offset (bytes 12-19) is {payload_offset}; the header ends at byte "
            f"{header_end}, so it must be {expected_offset}")
    if payload_offset > len(data):
        raise MalformedContainer(
            f"payload_offset {payload_offset} is past the end of the file ({len(data)} bytes)")
    header = data[_PRELUDE.size:header_end]
    header_value = _parse_header(header)
    report = InspectReport(
        path=str(path), file_size=len(data), schema_version=version, header_len=header_len,
        payload_offset=payload_offset, flags=flags,
        asset_table=header_value["asset_table"], preload=header_value["preload"],
    )
    if flags != 0:
        report.problems.append(f"flags (bytes 20-23) is {flags}; version 1 requires 0")
    if reserved != 0:
        report.problems.append(f"reserved (bytes 24-27) is {reserved}; it must be 0")
    if any(data[header_end:payload_offset]):
        report.problems.append(f"padding bytes {header_end}-{payload_offset - 1} are not zero")
    _check_table(report, data)
    _check_preload(report)
    _check_mirrors(report, header_value, mirrors_dir or path.parent)
    return report


def _parse_header(header: bytes) -> dict[str, Any]:
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedContainer(
            f"header is not UTF-8 (byte {_PRELUDE.size + exc.start} of the file)") from exc
    try:
        value = json.loads(text, parse_float=_reject_float, parse_constant=_reject_constant,
                           object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise MalformedContainer(
            f"header is not JSON: {exc.msg} at header byte {exc.pos}") from exc
    except RecursionError as exc:
        raise MalformedContainer("header nests too deeply") from exc
    except ValueError as exc:  # int() refuses literals past its 4,300-digit limit
        raise MalformedContainer("header holds a number with too many digits") from exc
    if not isinstance(value, dict) or set(value) != {"asset_table", "preload"}:
        raise MalformedContainer(
            'header must be an object with exactly the keys "asset_table" and "preload"')
    if not isinstance(value["asset_table"], list) or not isinstance(value["preload"], list):
        raise MalformedContainer('header "asset_table" and "preload" must be arrays')
    canonical = _canonical(value)
    if canonical != header:
        at = _first_difference(canonical, header)
        raise MalformedContainer(
            f"header is not in canonical form (sorted keys, no whitespace): first difference at "
            f"header byte {at} (file byte {_PRELUDE.size + at})")
    return value


def _check_table(report: InspectReport, data: bytes) -> None:
    problems = report.problems
    end = 0
    previous_id: int | None = None
    for index, row in enumerate(report.asset_table):
        where = f"asset_table[{index}]"
        if not isinstance(row, dict) or set(row) != _ROW_KEYS:
            got = sorted(row) if isinstance(row, dict) else type(row).__name__
            problems.append(f"{where} must have exactly the keys {sorted(_ROW_KEYS)}, got {got}")
            return
        bad = [k for k in ("asset_id", "offset", "size", "decoded_size")
               if not _is_int(row[k]) or row[k] < 0]
        bad += [k for k in ("asset_name", "bank_type", "codec") if not isinstance(row[k], str)]
        if not isinstance(row["metadata"], dict):
            bad.append("metadata")
        if bad:
            problems.append(f"{where} has invalid {', '.join(bad)}")
            return
        asset_id, offset, size = row["asset_id"], row["offset"], row["size"]
        where = f"{where} (asset_id {asset_id})"
        if previous_id is not None and asset_id <= previous_id:
            problems.append(f"{where} is not in increasing asset_id order after {previous_id}")
        previous_id = asset_id
        if offset < end:
            problems.append(f"{where} overlaps the previous payload (offset {offset} < {end})")
        elif offset != (end + _ALIGN - 1) // _ALIGN * _ALIGN:
            problems.append(f"{where} offset {offset} is not the next 16-aligned position after "
                            f"{end}")
        elif any(data[report.payload_offset + end:report.payload_offset + offset]):
            problems.append(f"{where}: padding before the payload is not zero")
        start = report.payload_offset + offset
        if start + size > report.file_size:
            problems.append(f"{where} ends at byte {start + size}, past the end of the file "
                            f"({report.file_size})")
        end = max(end, offset + size)
    expected_size = report.payload_offset + end
    if not problems and report.file_size != expected_size:
        problems.append(f"file is {report.file_size} bytes; the table says it ends at "
                        f"{expected_size}")


def _check_preload(report: InspectReport) -> None:
    ids = {row["asset_id"] for row in report.asset_table if isinstance(row, dict)}
    previous: int | None = None
    for slot, row in enumerate(report.preload):
        where = f"preload[{slot}]"
        if not isinstance(row, dict) or set(row) != {"asset_id", "slot"} or not (
            _is_int(row["asset_id"]) and _is_int(row["slot"])
        ):
            report.problems.append(f"{where} must be {{\"asset_id\": int, \"slot\": int}}")
            return
        if row["slot"] != slot:
            report.problems.append(f"{where} has slot {row['slot']}; slots count 0, 1, 2, …")
        if row["asset_id"] not in ids:
            report.problems.append(f"{where} names asset_id {row['asset_id']}, not in the table")
        if previous is not None and row["asset_id"] <= previous:
            report.problems.append(f"{where} is not in increasing asset_id order")
        previous = row["asset_id"]


def _check_mirrors(report: InspectReport, header: dict[str, Any], directory: Path) -> None:
    for name, part in _MIRRORS:
        try:
            mirror = read_regular(directory / name, limit=MAX_STATE_FILE_BYTES)
        except FileNotFoundError:
            report.mirrors[name] = "absent"
            report.notes.append(f"{name} is not beside the file; mirrors not checked")
            continue
        except OSError as exc:
            report.mirrors[name] = "unreadable"
            report.problems.append(f"{name} cannot be read: {exc.strerror or exc}")
            continue
        expected = _canonical(header[part])
        if mirror == expected:
            report.mirrors[name] = "matches"
        else:
            report.mirrors[name] = "differs"
            report.problems.append(
                f"{name} does not mirror the header's {part}: first difference at byte "
                f"{_first_difference(mirror, expected)}")
    staging = directory / ".staging"
    if staging.is_dir() and not staging.is_symlink():
        pending = sorted(c.name for c in staging.iterdir() if (c / "COMMITTED").is_file())
        if pending:
            report.notes.append(
                f"a committed build ({', '.join(pending)}) is not fully promoted yet; "
                "the next build completes it")
