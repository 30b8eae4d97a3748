"""Benchmark of the packer build on a synthetic project (≥ 2,000 assets, ≥ 200 MB of inputs).

    .venv/bin/python bench/build.py [--assets N] [--megabytes M] [--keep DIR] [--runs R]
    .venv/bin/python bench/build.py --project PATH [--runs R]   (any project; a copy is used)

Prints `name: value` lines, all measured in this one run on the same files:
- raw_read_hash_s / raw_mb_s: reading every input file and hashing it with xxh3_128 (warm page
  cache, after one untimed pass);
- floor_build_s: what any build must pay, in this process: walk assets/, stat every file, parse
  every asset.json, read + xxh3_128 every other file, write as many bytes as one file and fsync
  it (the same floor as bench/scale.py's, which adds a process start-up to it);
- full_build_s: `build(use_cache=False)` with no sink (every asset encoded, artifact written);
- build_vs_floor: full_build_s / floor_build_s (it replaces build_vs_raw_ratio, whose read+hash
  floor left out the write and fsync that no build can skip; issue 10);
- gc_s_full / gc_max_pause_ms_full: time in the cyclic garbage collector during the best full
  build, and its longest single collection (gc.callbacks);
- noop_vs_full_ratio, one_change_vs_full_ratio: rebuild with nothing / one raw input changed;
  a no-op is decided by the up-to-date manifest (packer.build.uptodate) when it can be;
- noop_normal_path_s: the same no-op with the manifest removed first, so it takes the build's
  normal path (scan, cache decisions, payload verification), for comparison;
- events_vs_nosink_ratio: full build with a JSON-lines sink writing to a file / with no sink;
- hash_*: read+hash throughput of the same files for xxh3_128, blake3, sha256 (the choice);
- peak_rss_mb: this process's peak resident memory;
- for reading the ratios: write_fsync_s, writing as many bytes as the artifact to a new file
  beside it, fsyncing it and replacing the artifact-sized file before it (what promotion frees);
  scan_s, the workspace scan every build (even a no-op) starts with, and scan_vs_full_ratio.
Each timing is the best of a few runs, interleaved where two are compared (the machine is shared).
The project is generated once into --keep (default: a folder under the system temp dir) and
reused by later runs; with --project, a copy of that project is measured and then deleted.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import resource
import shutil
import struct
import sys
import tempfile
import time
import uuid
import wave
import zlib
from collections.abc import Callable
from pathlib import Path

import blake3
import xxhash

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from packer.build import build, manifest_file
from packer.files.project import Project, open_project
from packer.files.registry import Registry, RegistryEntry
from packer.lane.sinks import JsonLinesSink
from packer.workspace.scan import build_snapshot

OLD_NS = 1_600_000_000_000_000_000  # inputs are old files, outside the cache's racy window
# 55% raw, 30% sound banks, 15% glyph banks, interleaved so any prefix has every kind.
KINDS = ["raw", "sound_bank", "raw", "glyph_bank", "raw", "sound_bank", "raw", "raw", "sound_bank",
         "raw", "glyph_bank", "raw", "sound_bank", "raw", "raw", "sound_bank", "raw", "glyph_bank",
         "raw", "sound_bank"]
GENERATOR_VERSION = 2  # part of the reuse folder's name: a new generator makes a new project
PALETTE = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    """A tiny RGBA PNG written by hand (Pillow would be slower to generate thousands)."""
    raw = b"".join(b"\x00" + row for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def _wav(path: Path, frames: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(frames)


def generate_project(root: Path, *, assets: int = 2000, total_bytes: int = 210_000_000,
                     seed: int = 7) -> Project:
    """A project of raw, sound and glyph assets (see KINDS), all registered, inputs aged."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    project_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    (root / "prometeu.json").write_text(json.dumps(
        {"schema_version": 1, "name": "bench", "project_id": project_id}))
    heavy = sum(1 for i in range(assets) if KINDS[i % len(KINDS)] != "glyph_bank")
    per_asset = total_bytes // max(1, heavy)
    entries = []
    for index in range(assets):
        kind = KINDS[index % len(KINDS)]
        asset_root = f"{kind}/{index // 100:02d}/a{index:05d}"
        base = root / "assets" / asset_root
        base.mkdir(parents=True, exist_ok=True)
        size = max(64, int(per_asset * rng.uniform(0.5, 1.5))) // 2 * 2
        metadata: dict[str, object] = {}
        if kind == "raw":
            (base / "data.bin").write_bytes(rng.randbytes(size))
            inputs = {"data": ["data.bin"]}
            fmt = "RAW/bytes_v1"
        elif kind == "sound_bank":
            names = []
            for sample in range(2):
                name = f"s{sample}.wav"
                _wav(base / name, rng.randbytes(size // 2 // 2 * 2))
                names.append(name)
            inputs = {"samples": names}
            fmt = "SOUNDS/pcm16le_v1"
        else:
            pal = b"".join(bytes((*c, 255)) for c in PALETTE)
            (base / "palette.png").write_bytes(_png(len(PALETTE), 1, [pal]))
            names = []
            for tile in range(8):
                colours = [PALETTE[rng.randrange(len(PALETTE))] for _ in range(64)]
                rows = [b"".join(bytes((*c, 255)) for c in colours[y * 8:y * 8 + 8])
                        for y in range(8)]
                name = f"tiles/{tile:03d}.png"
                (base / "tiles").mkdir(exist_ok=True)
                (base / name).write_bytes(_png(8, 8, rows))
                names.append(name)
            inputs = {"tiles": names, "palettes": ["palette.png"]}
            fmt = "GLYPH/indexed_v1"
            metadata = {"tile_size": 8}
        asset_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        (base / "asset.json").write_text(json.dumps({
            "schema_version": 1, "asset_uuid": asset_uuid, "name": f"a{index:05d}",
            "type": kind, "inputs": inputs,
            "output": {"format": fmt, "codec": "none", "metadata": metadata},
            "preload": {"enabled": index % 10 == 0},
        }))
        entries.append(RegistryEntry(asset_id=index + 1, root=asset_root, asset_uuid=asset_uuid))
    packer_dir = root / "assets" / ".prometeu"
    packer_dir.mkdir(parents=True, exist_ok=True)
    registry = Registry(project_id=project_id, next_asset_id=assets + 1, assets=tuple(entries))
    (packer_dir / "index.json").write_text(registry.model_dump_json(indent=2))
    for path in (root / "assets").rglob("*"):
        if path.is_file() and ".prometeu" not in path.parts:
            os.utime(path, ns=(OLD_NS, OLD_NS))
    return open_project(root)


def input_files(project: Project) -> list[Path]:
    return sorted(p for p in project.assets_dir.rglob("*")
                  if p.is_file() and ".prometeu" not in p.parts and p.name != "asset.json")


def read_and_hash(files: list[Path], make: Callable[[], object]) -> float:
    start = time.perf_counter()
    for path in files:
        hasher = make()
        with open(path, "rb", buffering=0) as handle:
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)  # type: ignore[attr-defined]
        hasher.hexdigest()  # type: ignore[attr-defined]
    return time.perf_counter() - start


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def write_fsync(directory: Path, size: int) -> float:
    """Write `size` bytes to a new file, fsync it, and replace an old file of the same size.

    The old file is made (untimed) first, as a build always has the previous artifact to drop.
    """
    block = os.urandom(1 << 20)
    old, new = directory / "bench-floor.old", directory / "bench-floor.new"
    with open(old, "wb") as out:
        for _ in range(0, size, len(block)):
            out.write(block)
    start = time.perf_counter()
    fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for _ in range(0, size, len(block)):
            os.write(fd, block)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(new, old)
    seconds = time.perf_counter() - start
    old.unlink()
    return seconds


def floor_build(project: Project, directory: Path) -> float:
    """Walk, stat, parse each asset.json, read + xxh3 every other file, write it all, fsync."""
    start = time.perf_counter()
    fd = os.open(directory / "bench-floor.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for folder, subdirs, names in os.walk(project.assets_dir):
            if folder == str(project.assets_dir):
                subdirs[:] = [d for d in subdirs if d != ".prometeu"]
            for name in names:
                path = os.path.join(folder, name)
                os.stat(path)
                with open(path, "rb", buffering=0) as handle:
                    data = handle.read()
                if name == "asset.json":
                    json.loads(data)
                    continue
                xxhash.xxh3_128(data).digest()
                os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    seconds = time.perf_counter() - start
    (directory / "bench-floor.bin").unlink()
    return seconds


class GcPauses:
    """Every cyclic collection's duration while installed (gc.callbacks)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)

    def timed_build(self, project: Project) -> tuple[float, list[float]]:
        self.pauses = []
        gc.callbacks.append(self)
        try:
            seconds = timed(lambda: build(project, use_cache=False))
        finally:
            gc.callbacks.remove(self)
        return seconds, self.pauses


def build_with_jsonl(project: Project, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        build(project, JsonLinesSink(stream), use_cache=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--megabytes", type=int, default=210)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--project", type=Path, default=None,
                        help="measure a copy of this project instead of a generated one")
    args = parser.parse_args()
    if args.project is not None:
        if not (args.project / "prometeu.json").is_file():
            parser.error(f"{args.project} is not a project (no prometeu.json)")
        with tempfile.TemporaryDirectory(prefix="prometeu-bench-build-") as scratch:
            shutil.copytree(args.project, Path(scratch) / "project", symlinks=True)
            measure(open_project(Path(scratch) / "project"), args.runs, Path(scratch))
        return
    keep = args.keep or Path(tempfile.gettempdir()) / (
        f"prometeu-bench-build-v{GENERATOR_VERSION}-{args.assets}-{args.megabytes}")
    marker = keep / "generated"
    if not marker.is_file():
        shutil.rmtree(keep, ignore_errors=True)
        generate_project(keep / "project", assets=args.assets,
                         total_bytes=args.megabytes * 1_000_000)
        marker.write_text("ok")
    measure(open_project(keep / "project"), args.runs, keep)


def measure(project: Project, runs: int, keep: Path) -> None:
    files = input_files(project)
    input_bytes = sum(p.stat().st_size for p in files)
    print(f"assets: {len(project.load_registry().assets)}")
    print(f"input_files: {len(files)}")
    print(f"input_mb: {input_bytes / 1e6:.1f}")

    read_and_hash(files, xxhash.xxh3_128)  # warm the page cache
    hashes: dict[str, Callable[[], object]] = {
        "xxh3_128": xxhash.xxh3_128, "blake3": blake3.blake3, "sha256": hashlib.sha256}
    best = {name: min(read_and_hash(files, make) for _ in range(runs))
            for name, make in hashes.items()}
    raw_s = best["xxh3_128"]

    shutil.rmtree(project.build_dir, ignore_errors=True)
    events_path = keep / "events.jsonl"
    full_times: list[tuple[float, list[float]]] = []
    sink_times: list[float] = []
    floor_times: list[float] = []
    gc_pauses = GcPauses()
    for _ in range(runs):  # interleaved, so drift on a shared machine hits all alike
        floor_times.append(floor_build(project, keep))
        full_times.append(gc_pauses.timed_build(project))
        sink_times.append(timed(lambda: build_with_jsonl(project, events_path)))
    full_s, full_pauses = min(full_times)
    floor_s = min(floor_times)
    noop_s = min(timed(lambda: build(project)) for _ in range(runs))

    def normal_path_noop() -> None:
        manifest_file.forget(project)
        assert build(project).up_to_date

    noop_normal_s = min(timed(normal_path_noop) for _ in range(runs))
    changed = next(p for p in files if p.name == "data.bin")
    original = changed.read_bytes()
    one_change: list[float] = []
    for run in range(runs):
        changed.write_bytes(original[:-1] + bytes([(original[-1] + run + 1) % 256]))
        one_change.append(timed(lambda: build(project)))
    changed.write_bytes(original)
    result = build(project)
    assert result.succeeded, result.error
    write_fsync_s = min(write_fsync(project.build_dir, result.output_bytes)
                        for _ in range(runs))
    scan_s = min(timed(lambda: build_snapshot(project)) for _ in range(runs))

    print(f"raw_read_hash_s: {raw_s:.3f}")
    print(f"raw_mb_s: {input_bytes / 1e6 / raw_s:.0f}")
    print(f"full_build_s: {full_s:.3f}")
    print(f"full_build_mb_s: {input_bytes / 1e6 / full_s:.0f}")
    print(f"floor_build_s: {floor_s:.3f}")
    print(f"build_vs_floor: {full_s / floor_s:.2f}")
    print(f"gc_s_full: {sum(full_pauses):.3f}")
    print(f"gc_max_pause_ms_full: {max(full_pauses, default=0.0) * 1000:.1f}")
    print(f"noop_build_s: {noop_s:.3f}")
    print(f"noop_vs_full_ratio: {noop_s / full_s:.3f}")
    print(f"noop_normal_path_s: {noop_normal_s:.3f}")
    print(f"one_change_build_s: {min(one_change):.3f}")
    print(f"one_change_vs_full_ratio: {min(one_change) / full_s:.3f}")
    print(f"events_build_s: {min(sink_times):.3f}")
    print(f"events_vs_nosink_ratio: {min(sink_times) / full_s:.3f}")
    for name, seconds in best.items():
        print(f"hash_{name}_mb_s: {input_bytes / 1e6 / seconds:.0f}")
    print(f"output_mb: {result.output_bytes / 1e6:.1f}")
    print(f"write_fsync_s: {write_fsync_s:.3f}")
    print(f"scan_s: {scan_s:.3f}")
    print(f"scan_vs_full_ratio: {scan_s / full_s:.3f}")
    print(f"peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()
