"""SOUNDS/pcm16le_v1: WAV samples → their 16-bit little-endian PCM frames, concatenated.

Rules and layout in docs/formats.md. Width conversions are exact byte operations done in C
(`bytes.translate` and extended slices), so equal inputs give equal bytes on every machine.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

from pydantic import JsonValue

from packer.files.declaration import AssetDeclaration
from packer.files.paths import InsideRoot
from packer.formats import EncodedAsset
from packer.formats.inputs import ConvertingPipeline, Findings, check_roles, read_input, stem
from packer.formats.wav_tags import ACCEPTED, EXTENSIBLE, IEEE_FLOAT, encoding_name, wav_format
from packer.lane.cancellation import CancellationToken

FORMAT_NAME = "SOUNDS/pcm16le_v1"
SAMPLES = "samples"
_FLIP_SIGN = bytes(b ^ 0x80 for b in range(256))  # unsigned 8-bit → signed high byte


@dataclass(frozen=True)
class Sample:
    sample_id: str
    file: str
    sample_rate: int
    channels: int
    source_width: int  # bytes per sample in the WAV
    pcm: bytes  # 16-bit little-endian

    @property
    def frames(self) -> int:
        return len(self.pcm) // (2 * self.channels)


def to_pcm16(frames: bytes, width: int) -> bytes:
    """Samples of `width` bytes (WAV byte order) → signed 16-bit little-endian.

    8-bit WAV is unsigned: s16 = (u8 - 128) << 8, i.e. high byte u8 ^ 0x80, low byte 0.
    24-bit keeps its top 16 bits (s24 >> 8, an arithmetic shift that truncates toward −∞).
    """
    if width == 2:
        return frames
    if width == 1:
        out = bytearray(len(frames) * 2)
        out[1::2] = frames.translate(_FLIP_SIGN)
        return bytes(out)
    if width == 3:
        count = len(frames) // 3
        out = bytearray(count * 2)
        out[0::2] = frames[1::3]
        out[1::2] = frames[2::3]
        return bytes(out)
    raise ValueError(f"unsupported sample width {width}")


def _read_wav(data: bytes, path: str, findings: Findings) -> Sample | None:
    root = findings.root
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            nframes = wav.getnframes()
            frames = wav.readframes(nframes) if width in (1, 2, 3) else b""
    except (wave.Error, EOFError, ValueError, OverflowError) as exc:
        text = str(exc) or type(exc).__name__
        if text.startswith("unknown format:"):
            _unsupported_encoding(data, path, findings)
        else:
            findings.add("PK130", f"{root}: {path} is not a readable WAV file: {text}", file=path)
        return None
    if width not in (1, 2, 3):
        findings.add("PK131", f"{root}: {path} has {width * 8}-bit samples; the packer reads "
                     f"{ACCEPTED}: re-export it as 16-bit PCM", file=path)
        return None
    if channels < 1 or rate < 1:
        findings.add("PK130", f"{root}: {path} declares {channels} channels at {rate} Hz",
                     file=path)
        return None
    if len(frames) < nframes * width * channels:
        findings.add("PK130", f"{root}: {path} is truncated: its header announces {nframes} "
                     f"frames, the file holds {len(frames) // (width * channels)}", file=path)
        return None
    return Sample(stem(path), path, rate, channels, width, to_pcm16(frames, width))


def _unsupported_encoding(data: bytes, path: str, findings: Findings) -> None:
    """Name the encoding `wave` refused (ADPCM, float, μ-law, an extensible header...) and say
    which encodings work."""
    root = findings.root
    found = wav_format(data) or (0, None)
    tag, sub = found
    works = f"the packer reads {ACCEPTED}: re-export it as 16-bit PCM"
    if tag == EXTENSIBLE:
        inner = f" with {encoding_name(sub)} samples" if sub is not None else ""
        code = "PK131" if sub == IEEE_FLOAT else "PK130"
        findings.add(code, f"{root}: {path} uses the WAVE_FORMAT_EXTENSIBLE header{inner}; "
                     f"{works} in a plain PCM WAV", file=path)
    elif tag == IEEE_FLOAT:
        findings.add("PK131", f"{root}: {path} holds floating-point samples; {works}", file=path)
    else:
        findings.add("PK130", f"{root}: {path} is {encoding_name(tag)} audio (WAV format tag "
                     f"{tag}), which is not supported; {works}", file=path)


def _convert(
    decl: AssetDeclaration, inside: InsideRoot, findings: Findings, token: CancellationToken
) -> list[Sample]:
    root = findings.root
    check_roles(decl, (SAMPLES,), findings, FORMAT_NAME)
    paths = decl.inputs.get(SAMPLES, [])
    owners: dict[str, str] = {}
    for path in paths:
        sample_id = stem(path)
        if sample_id in owners:
            findings.add("PK133", f"{root}: {owners[sample_id]} and {path} both give sample id "
                         f"{sample_id!r}", file=path)
        else:
            owners[sample_id] = path
    samples: list[Sample] = []
    for path in paths:
        token.raise_if_cancelled()
        data = read_input(inside, path, findings, token)
        sample = _read_wav(data, path, findings) if data is not None else None
        if sample is None:
            continue
        if samples and (sample.sample_rate, sample.channels) != (
            samples[0].sample_rate, samples[0].channels
        ):
            first = samples[0]
            findings.add(
                "PK132", f"{root}: {path} is {_shape(sample)} but {first.file} is "
                f"{_shape(first)}; every sample of a bank shares one rate and channel count",
                file=path,
            )
            continue
        samples.append(sample)
    return samples


def _shape(sample: Sample) -> str:
    return f"{sample.sample_rate} Hz, {sample.channels} channel(s)"


def _assemble(samples: list[Sample], token: CancellationToken) -> EncodedAsset:
    table: dict[str, JsonValue] = {}
    offset = 0
    for sample in samples:
        token.raise_if_cancelled()
        table[sample.sample_id] = {
            "offset": offset, "length": len(sample.pcm), "frames": sample.frames,
        }
        offset += len(sample.pcm)
    payload = b"".join(s.pcm for s in samples)
    first = samples[0] if samples else None
    return EncodedAsset(
        payload=payload,
        decoded_size=len(payload),
        metadata={
            "sample_rate": first.sample_rate if first else 0,
            "channels": first.channels if first else 0,
            "samples": table,
        },
        tool_metadata={"samples": [
            {"id": s.sample_id, "file": s.file, "source_bits": s.source_width * 8}
            for s in samples
        ]},
    )


class SoundPipeline(ConvertingPipeline[list[Sample]]):
    format_name = FORMAT_NAME
    format_version = 1

    def _convert(
        self, decl: AssetDeclaration, inside: InsideRoot, findings: Findings,
        token: CancellationToken,
    ) -> list[Sample]:
        return _convert(decl, inside, findings, token)

    def _assemble(self, converted: list[Sample], token: CancellationToken) -> EncodedAsset:
        return _assemble(converted, token)


SOUND_PIPELINE = SoundPipeline()
