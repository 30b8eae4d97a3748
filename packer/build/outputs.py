"""The files a build emits besides the artifact, and the check that `build/` is already current."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import xxhash

from packer import __version__
from packer.build.emit import BuiltAsset
from packer.build.hashing import HASH_ALGORITHM
from packer.build.layout import pack_prelude
from packer.build.plan import Header, PlannedEntry
from packer.build.staging import ASSET_TABLE, PRELOAD, TOOL_METADATA, has_legacy_previews
from packer.files.atomic import atomic_write_chunks, canonical_json_bytes
from packer.files.safe_read import open_file, read_regular

TOOL_METADATA_SCHEMA_VERSION = 2  # 2: rows have no "preview" (the build writes none)
ROWS_PER_CALL = 256


def tool_metadata_bytes(header: Header, built: list[BuiltAsset]) -> bytes:
    """`asset_table_metadata.json`: tooling-only facts (roots, uuids, input hashes).

    Deterministic like everything else in build/: no absolute paths, no times, no mtimes.
    Canonical (compact) JSON: json's C encoder only runs without indentation, and this file
    has an entry per asset.
    """
    return b"".join(tool_metadata_chunks(header.entries, built))


def tool_metadata_chunks(entries: Sequence[PlannedEntry], built: list[BuiltAsset]
                         ) -> Iterator[bytes]:
    """`tool_metadata_bytes` in pieces of ROWS_PER_CALL rows (never the whole text at once)."""
    by_id = {b.work.asset_id: b for b in built}
    # Encoded ROWS_PER_CALL rows at a time: the bytes of canonical_json_bytes of the whole
    # document (sorted keys put "assets" first), without a list of 10k row dicts and their
    # whole text at once, nor a call per row (≈ 40% of this file's cost at 10k).
    separator = b'{"assets":['
    for start in range(0, len(entries), ROWS_PER_CALL):
        rows = [tool_metadata_row(entry, by_id[entry.asset_id])
                for entry in entries[start:start + ROWS_PER_CALL]]
        yield separator + canonical_json_bytes(rows)[1:-1]  # "[a,b]" is "[" + "a,b" + "]"
        separator = b","
    yield (b"" if separator == b"," else separator) + b"]," + canonical_json_bytes({
        "schema_version": TOOL_METADATA_SCHEMA_VERSION,
        "packer_version": __version__,
        "hash_algorithm": HASH_ALGORITHM,
    })[1:]


def write_tool_metadata(path: Path, entries: Sequence[PlannedEntry], built: list[BuiltAsset]
                        ) -> str:
    """Write `tool_metadata_bytes` to `path` atomically, in pieces (`entries`: the header's,
    laid out); returns its content hash."""
    hasher = xxhash.xxh3_128()

    def hashed() -> Iterator[bytes]:
        for chunk in tool_metadata_chunks(entries, built):
            hasher.update(chunk)
            yield chunk

    atomic_write_chunks(path, hashed())
    return str(hasher.hexdigest())


def tool_metadata_row(entry: PlannedEntry, asset: BuiltAsset) -> dict[str, Any]:
    """One asset's row of `asset_table_metadata.json` (`entry`: its placed header entry)."""
    work = asset.work
    return {
        "asset_id": entry.asset_id,
        "asset_uuid": work.decl.asset_uuid,
        "asset_name": work.decl.name,
        "root": work.record.root,
        "type": work.decl.type,
        "format": work.decl.output.format,
        "format_version": work.pipeline.format_version,
        "inputs": [{"role": i.role, "path": i.path, "size": i.size, "hash": i.hash}
                   for i in work.inputs],
        "payload": {"offset": entry.offset, "size": entry.size, "hash": asset.payload_hash},
        "tool_metadata": asset.tool_metadata,
    }


def small_outputs(header: Header, built: list[BuiltAsset]) -> dict[str, bytes]:
    return {
        ASSET_TABLE: header.asset_table,
        PRELOAD: header.preload,
        TOOL_METADATA: tool_metadata_bytes(header, built),
    }


def already_current(
    build_dir: Path, header: Header, built: list[BuiltAsset], small: dict[str, bytes],
    *, previous_head: bytes | None, previous_size: int | None,
) -> bool:
    """True when build/ holds exactly what this build would write (every asset was a verified hit).

    The payload bytes were verified against their hashes by the emission pass, each at the
    offset the identical header gives it; here we check the rest: prelude, header, padding and
    the small files. An older packer's previews folder is not current: promotion removes it.
    """
    if not all(b.hit for b in built) or previous_head is None:
        return False
    head = pack_prelude(len(header.header)) + header.header
    head += bytes(header.payload_offset - len(head))
    if previous_head != head or previous_size != header.file_size:
        return False
    if not _padding_is_zero(build_dir / "assets.pa", header):
        return False
    for name, data in small.items():
        try:
            if read_regular(build_dir / name) != data:
                return False
        except OSError:
            return False
    return not has_legacy_previews(build_dir)


def _padding_is_zero(path: Path, header: Header) -> bool:
    try:
        with open_file(path) as handle:
            end = 0
            for entry in header.entries:
                if entry.offset > end:
                    handle.seek(header.payload_offset + end)
                    if any(handle.read(entry.offset - end)):
                        return False
                end = entry.offset + entry.size
    except OSError:
        return False
    return True
