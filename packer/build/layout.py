"""The byte layout of `assets.pa` as the writer produces it (docs/formats.md, "assets.pa").

    prelude (28 bytes, little-endian, fields unaligned):
      0  magic           4 bytes  b"PPAK"
      4  schema_version  u32      1
      8  header_len      u32      bytes of the canonical JSON header
     12  payload_offset  u64      align16(28 + header_len)
     20  flags           u32      0
     24  reserved        u32      0
    28   header          header_len bytes of canonical UTF-8 JSON
         zero padding up to payload_offset
    payload: each asset's bytes at payload_offset + entry.offset, entry.offsets aligned to 16,
         zero padding between assets, nothing after the last one.

The reader (packer.build.reader) re-derives all of this on its own, on purpose.
"""

from __future__ import annotations

import struct

MAGIC = b"PPAK"
CONTAINER_SCHEMA_VERSION = 1
PRELUDE = struct.Struct("<4sIIQII")
PRELUDE_SIZE = PRELUDE.size  # 28
PAYLOAD_ALIGNMENT = 16  # payload_offset, and every entry offset within the payload
FLAGS = 0
RESERVED = 0


def align(value: int, alignment: int = PAYLOAD_ALIGNMENT) -> int:
    return (value + alignment - 1) // alignment * alignment


def payload_offset_for(header_len: int) -> int:
    return align(PRELUDE_SIZE + header_len)


def pack_prelude(header_len: int) -> bytes:
    return PRELUDE.pack(
        MAGIC, CONTAINER_SCHEMA_VERSION, header_len, payload_offset_for(header_len), FLAGS,
        RESERVED,
    )


def unpack_prelude(data: bytes) -> tuple[bytes, int, int, int, int, int]:
    """(magic, schema_version, header_len, payload_offset, flags, reserved); no validation."""
    magic, version, header_len, payload_offset, flags, reserved = PRELUDE.unpack_from(data)
    return magic, version, header_len, payload_offset, flags, reserved
