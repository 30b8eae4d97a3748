"""SOUNDS/pcm16le_v1: payload and offsets, exact width conversions, every blocking diagnostic."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packer.diagnostics import Diagnostic
from packer.files.declaration import AssetDeclaration
from packer.formats import FormatError, pipelines
from packer.formats.sound import SOUND_PIPELINE, to_pcm16
from packer.lane.cancellation import CancellationToken, OperationCancelled
from tests.packer.formats_support import declaration, write_wav


def bank(*paths: str) -> AssetDeclaration:
    return declaration("sound_bank", {"samples": list(paths)})


def s16(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}h", *values)


def check(decl: AssetDeclaration, root: Path) -> list[Diagnostic]:
    found = SOUND_PIPELINE.validate(decl, root, root="sfx/core", asset_id=2)
    assert found and all(d.blocking and d.root == "sfx/core" for d in found)
    with pytest.raises(FormatError) as caught:
        SOUND_PIPELINE.encode(decl, root, CancellationToken())
    assert [d.code for d in caught.value.diagnostics] == [d.code for d in found]
    return found


def test_samples_are_concatenated_in_declaration_order(tmp_path: Path) -> None:
    write_wav(tmp_path / "jump.wav", s16(1, -2, 32767))
    write_wav(tmp_path / "sub/coin.wav", s16(-32768, 5))
    encoded = SOUND_PIPELINE.encode(bank("sub/coin.wav", "jump.wav"), tmp_path,
                                    CancellationToken())
    assert encoded.payload == s16(-32768, 5, 1, -2, 32767)
    assert encoded.decoded_size == 10
    assert encoded.metadata == {
        "sample_rate": 22050, "channels": 1,
        "samples": {"coin": {"offset": 0, "length": 4, "frames": 2},
                    "jump": {"offset": 4, "length": 6, "frames": 3}},
    }
    assert SOUND_PIPELINE.validate(bank("jump.wav"), tmp_path, root="r", asset_id=1) == []


def test_stereo_frames_count_both_channels(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", s16(1, 2, 3, 4, 5, 6), channels=2, rate=44100)
    encoded = SOUND_PIPELINE.encode(bank("a.wav"), tmp_path, CancellationToken())
    assert encoded.metadata["channels"] == 2 and encoded.metadata["sample_rate"] == 44100
    assert encoded.metadata["samples"] == {"a": {"offset": 0, "length": 12, "frames": 3}}


def test_8_bit_unsigned_converts_exactly(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", bytes([0, 1, 127, 128, 129, 255]), width=1)
    encoded = SOUND_PIPELINE.encode(bank("a.wav"), tmp_path, CancellationToken())
    assert encoded.payload == s16(-32768, -32512, -256, 0, 256, 32512)
    assert encoded.tool_metadata["samples"] == [{"id": "a", "file": "a.wav", "source_bits": 8}]


def test_24_bit_keeps_the_top_16_bits(tmp_path: Path) -> None:
    values = [0, 255, 256, -1, -256, -257, 0x7FFFFF, -0x800000, 0x123456]
    raw = b"".join(v.to_bytes(3, "little", signed=True) for v in values)
    write_wav(tmp_path / "a.wav", raw, width=3)
    encoded = SOUND_PIPELINE.encode(bank("a.wav"), tmp_path, CancellationToken())
    assert encoded.payload == s16(0, 0, 1, -1, -1, -2, 32767, -32768, 0x1234)


@given(st.binary(max_size=300))
def test_width_conversion_matches_the_arithmetic_definition(data: bytes) -> None:
    assert to_pcm16(data, 1) == s16(*((b - 128) << 8 for b in data))
    usable = data[:len(data) - len(data) % 3]
    samples = [int.from_bytes(usable[i:i + 3], "little", signed=True)
               for i in range(0, len(usable), 3)]
    assert to_pcm16(usable, 3) == s16(*(v >> 8 for v in samples))


def test_32_bit_integer_wav_is_pk131(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", bytes(16), width=4)
    found = check(bank("a.wav"), tmp_path)
    assert [d.code for d in found] == ["PK131"] and "32-bit samples" in found[0].message


def wav_header(format_tag: int, bits: int, data: bytes = b"\0\0\0\0") -> bytes:
    fmt = struct.pack("<HHIIHH", format_tag, 1, 22050, 22050 * bits // 8, bits // 8, bits)
    body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack(
        "<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_float_wav_is_pk131(tmp_path: Path) -> None:
    (tmp_path / "f.wav").write_bytes(wav_header(3, 32))
    found = check(bank("f.wav"), tmp_path)
    assert [d.code for d in found] == ["PK131"] and "floating-point" in found[0].message


@pytest.mark.parametrize(("content", "words"), [
    (b"not a wav", "not a readable WAV"),
    (b"", "not a readable WAV"),
    (wav_header(65534, 16), "WAVE_FORMAT_EXTENSIBLE"),
])
def test_unreadable_wav_is_pk130(tmp_path: Path, content: bytes, words: str) -> None:
    (tmp_path / "a.wav").write_bytes(content)
    found = check(bank("a.wav"), tmp_path)
    assert [d.code for d in found] == ["PK130"] and words in found[0].message
    assert found[0].file == "a.wav"


def extensible_header(sub_format: int, bits: int = 16) -> bytes:
    """A WAVE_FORMAT_EXTENSIBLE fmt chunk (40 bytes) whose sub-format GUID starts with the tag."""
    guid = struct.pack("<H", sub_format) + bytes.fromhex("000000001000800000aa00389b71")
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 22050, 22050 * bits // 8, bits // 8, bits, 22,
                      bits, 4) + guid
    body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 4) + (
        bytes(4))
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(("content", "code", "words"), [
    (wav_header(2, 4), "PK130", "Microsoft ADPCM audio (WAV format tag 2)"),
    (wav_header(0x11, 4), "PK130", "IMA ADPCM audio"),
    (wav_header(7, 8), "PK130", "μ-law audio (WAV format tag 7)"),
    (wav_header(6, 8), "PK130", "A-law audio"),
    (wav_header(3, 32), "PK131", "floating-point samples"),
    (extensible_header(3, 32), "PK131", "WAVE_FORMAT_EXTENSIBLE header with floating-point"),
    (extensible_header(2, 4), "PK130", "WAVE_FORMAT_EXTENSIBLE header with Microsoft ADPCM"),
    (extensible_header(1), "PK130", "WAVE_FORMAT_EXTENSIBLE header with integer PCM samples"),
], ids=["adpcm", "ima-adpcm", "mu-law", "a-law", "float", "ext-float", "ext-adpcm", "ext-pcm"])
def test_unsupported_encodings_are_named_with_what_works(
    tmp_path: Path, content: bytes, code: str, words: str
) -> None:
    (tmp_path / "a.wav").write_bytes(content)
    found = check(bank("a.wav"), tmp_path)
    assert [d.code for d in found] == [code]
    assert words in found[0].message, found[0].message
    assert "integer PCM (format tag 1) with 8, 16 or 24-bit samples" in found[0].message
    assert "unknown format" not in found[0].message


def test_truncated_wav_is_pk130(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", s16(*range(100)))
    whole = (tmp_path / "a.wav").read_bytes()
    (tmp_path / "a.wav").write_bytes(whole[:-50])
    found = check(bank("a.wav"), tmp_path)
    assert [d.code for d in found] == ["PK130"]
    assert "announces 100 frames, the file holds 75" in found[0].message


def test_rate_or_channel_mismatch_is_pk132(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", s16(1))
    write_wav(tmp_path / "b.wav", s16(1), rate=44100)
    write_wav(tmp_path / "c.wav", s16(1, 2), channels=2)
    found = check(bank("a.wav", "b.wav", "c.wav"), tmp_path)
    assert [(d.code, d.file) for d in found] == [("PK132", "b.wav"), ("PK132", "c.wav")]
    assert "44100 Hz, 1 channel(s) but a.wav is 22050 Hz" in found[0].message


def test_duplicate_sample_id_is_pk133(tmp_path: Path) -> None:
    write_wav(tmp_path / "a/jump.wav", s16(1))
    write_wav(tmp_path / "b/jump.wav", s16(2))
    found = check(bank("a/jump.wav", "b/jump.wav"), tmp_path)
    assert [d.code for d in found] == ["PK133"]
    assert "a/jump.wav and b/jump.wav" in found[0].message and "'jump'" in found[0].message


def test_unknown_role_and_missing_files(tmp_path: Path) -> None:
    decl = declaration("sound_bank", {"samples": ["gone.wav"], "music": []})
    found = SOUND_PIPELINE.validate(decl, tmp_path, root="r", asset_id=None)
    assert [d.code for d in found] == ["PK104"]  # the missing file is the scan's PK106
    with pytest.raises(FormatError) as caught:
        SOUND_PIPELINE.encode(decl, tmp_path, CancellationToken())
    assert [d.code for d in caught.value.diagnostics] == ["PK106", "PK104"]


def test_empty_bank_has_an_empty_table(tmp_path: Path) -> None:
    encoded = SOUND_PIPELINE.encode(bank(), tmp_path, CancellationToken())
    assert (encoded.payload, encoded.metadata) == (
        b"", {"sample_rate": 0, "channels": 0, "samples": {}}
    )


def test_cancellation_is_checked_between_samples(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", s16(1))
    token = CancellationToken()
    token.cancel()
    with pytest.raises(OperationCancelled):
        SOUND_PIPELINE.encode(bank("a.wav"), tmp_path, token)


def test_registered_under_its_format_name() -> None:
    assert set(pipelines()) == {"GLYPH/indexed_v1", "SOUNDS/pcm16le_v1", "RAW/bytes_v1"}
    assert pipelines()["SOUNDS/pcm16le_v1"] is SOUND_PIPELINE
