"""The bundled sample project: what a scan finds, that it builds, and that its generator remakes it.

PNG bytes depend on the zlib that Pillow links, so a regenerated PNG is compared by its decoded
pixels; every other file (JSON, WAV, raw data, notes) must match byte for byte.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from PIL import Image

from packer.files.project import open_project
from packer.formats import pipelines
from packer.lane.cancellation import CancellationToken
from packer.workspace.scan import AssetState, build_snapshot

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "sample-project"
GENERATOR = REPO / "resources" / "make_sample_project.py"
# Built or used by tools, never generated (and ignored by git).
NOT_GENERATED = ("build/", ".studio/", "assets/.prometeu/cache.json", "assets/.prometeu/lock")


def project_files(root: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(rel.startswith(p) for p in NOT_GENERATED):
            found[rel] = path.read_bytes()
    return found


def decoded(rel: str, data: bytes) -> object:
    """What a file means: pixels for a PNG, parameters and frames for a WAV, else its bytes."""
    if rel.endswith(".png"):
        image = Image.open(io.BytesIO(data))
        return image.size, image.convert("RGBA").tobytes()
    if rel.endswith(".wav"):
        with wave.open(io.BytesIO(data)) as wav:
            return wav.getparams()[:3], wav.readframes(wav.getnframes())
    return data


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample: even a read takes the project's lock, whose file must not appear
    in the checkout."""
    copy = tmp_path_factory.mktemp("sample") / "sample-project"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("build", ".studio", "lock"))
    return copy


def test_scan_finds_four_registered_assets_and_one_unregistered(sample: Path) -> None:
    snapshot = build_snapshot(open_project(sample))
    assert [(a.root, a.state, a.asset_id, a.asset_type) for a in snapshot.assets] == [
        ("tiles/overworld", AssetState.REGISTERED, 1, "glyph_bank"),
        ("ui/font", AssetState.REGISTERED, 2, "glyph_bank"),
        ("sfx/core", AssetState.REGISTERED, 3, "sound_bank"),
        ("data/level1", AssetState.REGISTERED, 4, "raw"),
        ("wip/boss_tiles", AssetState.UNREGISTERED, None, "glyph_bank"),
    ]
    assert snapshot.all_diagnostics() == []  # the scan itself finds nothing structural
    assert [a.in_build_set for a in snapshot.assets] == [True, True, True, True, False]
    assert snapshot.project_id == "5a3f0c2e-8d41-4b6a-9c7e-0f1d2e3a4b5c"


def test_every_asset_validates_and_encodes(sample: Path) -> None:
    project = open_project(sample)
    snapshot = build_snapshot(project)
    metadata = {}
    for record in snapshot.assets:
        decl = record.declaration
        assert decl is not None
        pipeline = pipelines()[decl.output.format]
        root_path = project.assets_dir / record.root
        assert pipeline.validate(decl, root_path, root=record.root,
                                 asset_id=record.asset_id) == []
        encoded = pipeline.encode(decl, root_path, CancellationToken())
        assert encoded.decoded_size == len(encoded.payload)
        metadata[record.root] = encoded.metadata
    assert metadata["tiles/overworld"] == {"tile_size": 16, "width": 256, "height": 256,
                                           "palette_count": 2, "tile_count": 12}
    assert metadata["ui/font"]["tile_count"] == 14
    sounds = metadata["sfx/core"]
    assert (sounds["sample_rate"], sounds["channels"]) == (22050, 1)
    samples = sounds["samples"]
    assert isinstance(samples, dict) and list(samples) == ["jump", "coin", "hit"]
    assert metadata["data/level1"] == {}


def test_the_mess_is_one_unreferenced_file_and_one_duplicate(sample: Path) -> None:
    snapshot = build_snapshot(open_project(sample))
    unreferenced = []
    for record in snapshot.assets:
        assert record.declaration is not None
        inputs = {path for _role, path in record.declaration.all_inputs()}
        unreferenced += [f"{record.root}/{f}" for f in record.files
                         if f != "asset.json" and f not in inputs]
    assert unreferenced == ["tiles/overworld/notes.txt"]
    by_hash: dict[str, list[str]] = {}
    for rel, data in project_files(SAMPLE / "assets").items():
        if not rel.startswith(".prometeu/"):
            by_hash.setdefault(hashlib.sha256(data).hexdigest(), []).append(rel)
    duplicates = [paths for paths in by_hash.values() if len(paths) > 1]
    assert duplicates == [["tiles/overworld/palettes/dusk.png", "wip/boss_tiles/palettes/boss.png"]]


def test_sample_is_small() -> None:
    assert sum(len(data) for data in project_files(SAMPLE).values()) < 200_000


def run_generator(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)],
                          capture_output=True, text=True, check=False)


def test_generator_remakes_the_committed_sample(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    assert run_generator(out).returncode == 0
    made, committed = project_files(out), project_files(SAMPLE)
    assert sorted(made) == sorted(committed)
    for rel, data in made.items():
        assert decoded(rel, data) == decoded(rel, committed[rel]), rel
        if not rel.endswith(".png"):
            assert data == committed[rel], rel


def test_generator_rerun_rewrites_the_same_bytes_and_keeps_build(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    assert run_generator(out).returncode == 0
    first = project_files(out)
    (out / "assets" / "stale.txt").write_text("left over from an older sample")
    (out / "build").mkdir()
    (out / "build" / "assets.pa").write_bytes(b"built")
    assert run_generator(out).returncode == 0
    assert project_files(out) == first
    assert (out / "build" / "assets.pa").read_bytes() == b"built"


@pytest.mark.parametrize("content", ["other", "prometeu"])
def test_generator_refuses_to_overwrite_something_else(tmp_path: Path, content: str) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    if content == "prometeu":
        (out / "prometeu.json").write_text('{"name": "My Game", "project_id": "x"}')
    else:
        (out / "precious.txt").write_text("keep me")
    result = run_generator(out)
    assert result.returncode != 0 and "refusing" in result.stderr
    assert not (out / "assets").exists()
