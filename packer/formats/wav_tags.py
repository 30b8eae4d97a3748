"""Which encoding a WAV file holds, read from its `fmt ` chunk, so a refusal can name it.

Python's `wave` reads integer PCM only (format tag 1) and says "unknown format: N" for anything
else; users know "ADPCM" or "float", not tag numbers.
"""

from __future__ import annotations

import struct

PCM, IEEE_FLOAT, EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
ENCODINGS = {
    PCM: "integer PCM",
    0x0002: "Microsoft ADPCM",
    IEEE_FLOAT: "floating-point",
    0x0006: "A-law",
    0x0007: "μ-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
}
ACCEPTED = "integer PCM (format tag 1) with 8, 16 or 24-bit samples"


def wav_format(data: bytes) -> tuple[int, int | None] | None:
    """(format tag, sub-format tag of an extensible header or None); None when there is no
    RIFF/WAVE `fmt ` chunk to read."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        body = data[offset + 8:offset + 8 + size]
        if chunk == b"fmt ":
            if len(body) < 2:
                return None
            tag = struct.unpack_from("<H", body)[0]
            sub = struct.unpack_from("<H", body, 24)[0] if tag == EXTENSIBLE and len(
                body) >= 26 else None
            return tag, sub
        offset += 8 + size + (size & 1)
    return None


def encoding_name(tag: int) -> str:
    return ENCODINGS.get(tag, f"format tag {tag}")
