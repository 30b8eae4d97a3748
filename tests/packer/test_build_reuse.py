"""Payloads copied from the spool and from the previous artifact give a full build's bytes.

A rebuild copies each unchanged payload out of the previous `build/assets.pa` (verified against
its hash) and each new one out of the spool, merging runs of spooled payloads into one copy.
Whatever the mix, build/ must equal a --no-cache build of the same inputs byte for byte, and
nothing from a tampered previous artifact may reach the new one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from packer.build import build
from packer.build.artifact import PayloadStore, write_artifact
from packer.build.plan import PlannedEntry, make_header
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from tests.packer.build_support import add_glyph, add_raw, add_sound, new_project, snapshot_build
from tests.packer.test_cache import age_inputs, assert_equals_full_build, reasons

OLD_NS = 1_600_000_000_000_000_000


def mixed_project(tmp_path: Path) -> Project:
    """Payload sizes that are not multiples of 16, so the artifact has padding between them."""
    project = new_project(tmp_path)
    for n in range(1, 7):
        add_raw(project, f"raw/r{n}", bytes([n]) * (17 * n + 3))
    add_glyph(project, "glyphs/font")
    add_sound(project, "sounds/sfx")
    add_raw(project, "raw/empty", b"")
    age_inputs(project)
    return project


def change_raw(project: Project, root: str, data: bytes) -> None:
    path = project.assets_dir / root / "data.bin"
    path.write_bytes(data)
    os.utime(path, ns=(OLD_NS, OLD_NS))  # the content hash, not the mtime, must notice


def rename(project: Project, root: str, name: str) -> None:
    path = project.assets_dir / root / "asset.json"
    decl = json.loads(path.read_text())
    decl["name"] = name
    path.write_text(json.dumps(decl))


def test_interleaved_hits_and_misses_equal_a_full_build(tmp_path: Path) -> None:
    project = mixed_project(tmp_path)
    assert build(project).succeeded
    # Misses at 2, 4 and 5 (two spooled payloads side by side), hits around them; asset 5
    # grows, so every later payload moves and the copied runs must land at new offsets.
    change_raw(project, "raw/r2", b"\x22" * 40)
    change_raw(project, "raw/r4", b"\x44" * 5)
    change_raw(project, "raw/r5", b"\x55" * 300)
    result = build(project)
    assert reasons(result) == {1: None, 2: "input_content_changed", 3: None,
                               4: "input_content_changed", 5: "input_content_changed",
                               6: None, 7: None, 8: None, 9: None}
    assert_equals_full_build(project, tmp_path, "interleaved")


def test_a_full_build_and_a_rebuild_of_only_hits_equal_each_other(tmp_path: Path) -> None:
    project = mixed_project(tmp_path)
    assert build(project, use_cache=False).succeeded
    rename(project, "raw/r3", "renamed")  # a new header: every payload is copied, none encoded
    result = build(project)
    assert set(reasons(result).values()) == {None}
    assert not result.up_to_date
    assert_equals_full_build(project, tmp_path, "hits")


def test_tampered_padding_in_the_previous_artifact_never_reaches_the_new_one(
    tmp_path: Path,
) -> None:
    project = mixed_project(tmp_path)
    assert build(project).succeeded
    artifact = project.build_dir / "assets.pa"
    data = bytearray(artifact.read_bytes())
    table = json.loads((project.build_dir / "asset_table.json").read_bytes())
    payload_offset = len(data) - (table[-1]["offset"] + table[-1]["size"])
    first = table[0]
    gap_at = payload_offset + first["offset"] + first["size"]  # first["size"] is 20: 12 zeros
    assert data[gap_at:gap_at + 12] == bytes(12)
    data[gap_at:gap_at + 12] = b"not padding!"
    artifact.write_bytes(bytes(data))
    rename(project, "raw/r6", "renamed")  # the header changes, the payloads are reused
    result = build(project)
    assert set(reasons(result).values()) == {None}  # every payload itself is intact
    assert b"not padding!" not in artifact.read_bytes()
    assert_equals_full_build(project, tmp_path, "padding")


def test_a_payload_tampered_after_the_cache_was_written_is_encoded_again(tmp_path: Path) -> None:
    project = mixed_project(tmp_path)
    assert build(project).succeeded
    before = snapshot_build(project)
    artifact = project.build_dir / "assets.pa"
    table = json.loads((project.build_dir / "asset_table.json").read_bytes())
    data = bytearray(artifact.read_bytes())
    payload_offset = len(data) - (table[-1]["offset"] + table[-1]["size"])
    row = table[2]  # raw/r3
    at = payload_offset + row["offset"]
    data[at:at + 4] = b"EVIL"
    artifact.write_bytes(bytes(data))
    rename(project, "raw/r1", "renamed")
    result = build(project)
    assert reasons(result)[3] == "cache_missing_or_corrupt"
    assert b"EVIL" not in artifact.read_bytes()
    assert_equals_full_build(project, tmp_path, "payload")
    assert snapshot_build(project) != before  # the rename itself did land


def test_spooled_payloads_out_of_asset_id_order_are_each_put_in_place(tmp_path: Path) -> None:
    payloads = {1: b"\x01" * 20, 2: b"\x02" * 7, 3: b"\x03" * 33}
    store = PayloadStore(tmp_path / "spool")
    refs = {asset_id: store.add(payloads[asset_id]) for asset_id in (3, 1, 2)}
    store.close()
    header = make_header(
        PlannedEntry(asset_id=i, asset_name=f"a{i}", bank_type="raw", codec="none",
                     size=len(p), decoded_size=len(p), metadata={}, preload=False)
        for i, p in payloads.items()
    )
    write_artifact(tmp_path / "out.pa", header, refs, CancellationToken(), spools=store.spools)
    data = (tmp_path / "out.pa").read_bytes()
    expected = b"".join(
        bytes(e.offset - (prev.offset + prev.size if prev else 0)) + payloads[e.asset_id]
        for prev, e in zip((None, *header.entries[:-1]), header.entries, strict=True)
    )
    assert data[header.payload_offset:] == expected
