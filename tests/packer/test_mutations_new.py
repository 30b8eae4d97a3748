"""new: a folder of files becomes an asset. The type, inputs and settings it proposes, the
preview that writes nothing, the apply that builds, and the refusals (already an asset, stale)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from packer.build import build
from packer.files.project import Project, create_project
from packer.lane.cancellation import OperationCancelled
from packer.lane.events import (
    ActionAppliedDetail,
    AssetDiscoveredDetail,
    DiagnosticsUpdatedDetail,
    EventKind,
    Outcome,
    PreviewReadyDetail,
)
from packer.lane.sinks import ListSink
from packer.mutations import (
    MutationAction,
    MutationOutcome,
    MutationPreview,
    MutationRequest,
    OperationClass,
    apply_mutation,
    preview_mutation,
)
from tests.packer.formats_support import write_palette, write_png, write_wav
from tests.packer.mutation_support import FaultAt, tree_state, write_raw_asset

NEW = MutationAction.NEW
RED, BLUE, KEY = (255, 0, 0), (0, 0, 255), (255, 0, 255)


def tile(size: int, colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    image.putpixel((1, 1), (*colour, 255))
    return image


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return create_project(tmp_path / "game", "game")


def tiles_folder(project: Project, rel: str = "art/boss tiles", *, palette: bool = True,
                 size: int = 16) -> Path:
    folder = project.assets_dir / rel
    # Written out of order, with index 10 after 2 by name: the inputs follow the indices.
    for index in (10, 2, 0, 1, 3, 4, 5, 6, 7, 8, 9):
        write_png(folder / f"{index}_t.png", tile(size, RED if index % 2 else BLUE))
    if palette:
        write_palette(folder / "palettes" / "day.png", [KEY, RED, BLUE])
    return folder


def new(project: Project, root: str, **kw: Any) -> MutationPreview:
    return preview_mutation(project, MutationRequest(action=NEW, asset=root, **kw))


def declaration(project: Project, root: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((project.assets_dir / root / "asset.json").read_text())
    return data


def test_a_folder_of_tiles_becomes_a_glyph_bank_that_builds(project: Project) -> None:
    tiles_folder(project)
    preview = new(project, "art/boss tiles")
    assert not preview.blocked, preview.blockers
    assert preview.operation_class is OperationClass.WORKSPACE_MUTATION
    assert not preview.consent_required
    assert preview.proposal is not None and preview.proposal.diagnostics == ()
    decl = preview.proposal.declaration
    assert decl["type"] == "glyph_bank" and decl["name"] == "boss_tiles"
    assert decl["inputs"] == {"tiles": [f"{i}_t.png" for i in range(11)],
                              "palettes": ["palettes/day.png"]}
    assert decl["output"] == {"format": "GLYPH/indexed_v1", "codec": "none",
                              "metadata": {"tile_size": 16}}
    assert preview.change_lines()[:2] == ["registry: add #1 at art/boss tiles",
                                          "registry: next_asset_id 1 → 2"]
    result = apply_mutation(project, preview)
    assert result.applied, result.message
    assert result.target.asset_id == 1
    written = (project.assets_dir / "art/boss tiles/asset.json").read_text()
    assert written == preview.proposal.declaration_text
    assert json.loads(written)["asset_uuid"] == project.load_registry().assets[0].asset_uuid
    built = build(project)
    assert built.outcome is Outcome.SUCCEEDED, built.blocking
    assert built.asset_count == 1


def test_tile_size_is_the_tiles_uniform_size(project: Project) -> None:
    tiles_folder(project, "small", size=8)
    preview = new(project, "small")
    assert preview.proposal is not None
    assert preview.proposal.declaration["output"] == {
        "format": "GLYPH/indexed_v1", "codec": "none", "metadata": {"tile_size": 8}}


def test_tiles_of_mixed_sizes_are_said_and_diagnosed(project: Project) -> None:
    folder = tiles_folder(project, "mixed", size=16)
    write_png(folder / "11_big.png", tile(32, RED))
    preview = new(project, "mixed")
    assert preview.proposal is not None
    assert any("not all one size (16×16, 32×32)" in w.message for w in preview.warnings)
    assert [d.code for d in preview.proposal.diagnostics] == ["PK127"]
    assert any("1 error(s)" in w.message for w in preview.warnings)
    assert not preview.blocked  # registered; the build says what to fix


def test_a_size_tie_prefers_a_size_a_tile_may_have(project: Project) -> None:
    folder = project.assets_dir / "odd"
    write_png(folder / "0.png", Image.new("RGBA", (37, 21)))
    write_png(folder / "1.png", tile(32, RED))
    preview = new(project, "odd")
    assert preview.proposal is not None
    assert preview.proposal.declaration["output"]["metadata"] == {"tile_size": 32}  # type: ignore[call-overload,index]


def test_a_palette_derived_from_the_tiles_when_asked(project: Project) -> None:
    tiles_folder(project, "derived", palette=False)
    without = new(project, "derived")
    assert without.proposal is not None
    assert [d.code for d in without.proposal.diagnostics] == ["PK123"]
    assert any("ask for a palette derived" in w.message for w in without.warnings)
    preview = new(project, "derived", derive_palette=True)
    assert preview.proposal is not None and preview.proposal.diagnostics == ()
    # The key first (magenta: no tile uses it), then the tiles' colours as first seen.
    assert preview.proposal.palette_colours == ("#ff00ff", "#0000ff", "#ff0000")
    assert preview.proposal.declaration["inputs"] == {
        "tiles": [f"{i}_t.png" for i in range(11)], "palettes": ["palette.png"]}
    assert not (project.assets_dir / "derived/palette.png").exists()
    assert apply_mutation(project, preview).applied
    palette = Image.open(project.assets_dir / "derived/palette.png").convert("RGB")
    assert [palette.getpixel((x, 0)) for x in range(palette.width)] == [KEY, BLUE, RED]
    assert build(project).outcome is Outcome.SUCCEEDED


def test_the_derived_key_avoids_a_colour_the_tiles_use(project: Project) -> None:
    folder = project.assets_dir / "keyed"
    write_png(folder / "0.png", tile(8, KEY))
    preview = new(project, "keyed", derive_palette=True)
    assert preview.proposal is not None
    assert preview.proposal.palette_colours == ("#00ff00", "#ff00ff")


def test_too_many_colours_for_one_palette_is_a_blocker(project: Project) -> None:
    folder = project.assets_dir / "colourful"
    for index in range(16):
        write_png(folder / f"{index}.png", tile(8, (index * 10, 0, 0)))
    preview = new(project, "colourful", derive_palette=True)
    assert preview.blocked and "16 opaque colours" in preview.blockers[0].message
    assert preview.blockers[0].fix is not None and "tile_palettes" in preview.blockers[0].fix


def test_a_folder_of_wavs_becomes_a_sound_bank_that_builds(project: Project) -> None:
    folder = project.assets_dir / "sfx"
    for name in ("jump", "coin", "hit"):
        write_wav(folder / f"{name}.wav", bytes(40))
    preview = new(project, "sfx")
    assert preview.proposal is not None and preview.proposal.diagnostics == ()
    assert preview.proposal.declaration["type"] == "sound_bank"
    assert preview.proposal.declaration["inputs"] == {
        "samples": ["coin.wav", "hit.wav", "jump.wav"]}
    assert apply_mutation(project, preview).applied
    built = build(project)
    assert built.outcome is Outcome.SUCCEEDED, built.blocking


def test_an_adpcm_wav_is_named_in_the_preview(project: Project) -> None:
    from tests.packer.test_formats_sound import wav_header

    folder = project.assets_dir / "sfx"
    write_wav(folder / "ok.wav", bytes(8))
    (folder / "old.wav").write_bytes(wav_header(2, 4))
    preview = new(project, "sfx")
    assert preview.proposal is not None
    (finding,) = preview.proposal.diagnostics
    assert finding.code == "PK130" and "Microsoft ADPCM" in finding.message
    (fix,) = preview.safe_fixes
    assert "leave out old.wav" in fix.description and fix.request is not None
    without = preview_mutation(project, fix.request)
    assert without.proposal is not None and without.proposal.diagnostics == ()
    assert without.proposal.declaration["inputs"] == {"samples": ["ok.wav"]}


def test_one_other_file_becomes_a_raw_asset(project: Project) -> None:
    (project.assets_dir / "levels").mkdir()
    (project.assets_dir / "levels" / "level1.bin").write_bytes(b"\x01\x02")
    preview = new(project, "levels", name="level_one")
    assert preview.proposal is not None
    assert preview.proposal.declaration["type"] == "raw"
    assert preview.proposal.declaration["name"] == "level_one"
    assert preview.proposal.declaration["inputs"] == {"data": ["level1.bin"]}
    assert apply_mutation(project, preview).applied
    assert build(project).outcome is Outcome.SUCCEEDED


def test_a_mixed_folder_asks_for_a_choice(project: Project) -> None:
    folder = project.assets_dir / "mixed"
    write_png(folder / "0.png", tile(8, RED))
    write_wav(folder / "a.wav", bytes(4))
    (folder / "notes.txt").write_text("x")
    preview = new(project, "mixed")
    assert preview.blocked and preview.proposal is None
    assert "1 PNG, 1 WAV and 1 other" in preview.blockers[0].message
    assert "glyph_bank" in (preview.blockers[0].fix or "")
    raw = new(project, "mixed", asset_type="raw")
    assert raw.blocked and "exactly one file" in raw.blockers[0].message
    sounds = new(project, "mixed", asset_type="sound_bank")
    assert sounds.proposal is not None and not sounds.blocked
    assert sounds.proposal.declaration["inputs"] == {"samples": ["a.wav"]}
    assert {(s.path, s.reason.split(":")[0]) for s in sounds.proposal.skipped} == {
        ("0.png", "not a WAV"), ("notes.txt", "not a WAV")}
    only = new(project, "mixed", files=("notes.txt",))
    assert only.proposal is not None and only.proposal.declaration["type"] == "raw"


def test_the_preview_changes_nothing(project: Project) -> None:
    tiles_folder(project, "t", palette=False)
    before = tree_state(project)
    sink = ListSink()
    preview_mutation(project, MutationRequest(action=NEW, asset="t", derive_palette=True), sink)
    assert tree_state(project) == before


def test_a_second_new_on_the_same_folder_is_refused(project: Project) -> None:
    tiles_folder(project, "t")
    assert apply_mutation(project, new(project, "t")).applied
    before = tree_state(project)
    again = new(project, "t")
    assert again.blocked
    assert "t is already an asset (registered as #1)" in again.blockers[0].message
    result = apply_mutation(project, again)
    assert result.outcome is MutationOutcome.REFUSED and result.error_type == "Blocked"
    assert tree_state(project) == before


def test_an_unregistered_asset_json_is_offered_adopt(project: Project) -> None:
    write_raw_asset(project, "wip/loose", "loose")
    preview = new(project, "wip/loose")
    assert preview.blocked and "unregistered" in preview.blockers[0].message
    assert [f.request.action for f in preview.safe_fixes if f.request] == [MutationAction.ADOPT]


def test_a_stale_preview_is_refused(project: Project) -> None:
    folder = tiles_folder(project, "t")
    preview = new(project, "t")
    write_png(folder / "11_late.png", tile(16, RED))  # the folder changed after the preview
    before = tree_state(project)
    result = apply_mutation(project, preview)
    assert result.outcome is MutationOutcome.REFUSED and result.error_type == "StalePreview"
    assert "assets/t" in result.message
    assert tree_state(project) == before


def test_exact_event_sequences(project: Project) -> None:
    tiles_folder(project, "t")
    sink = ListSink()
    preview = preview_mutation(project, MutationRequest(action=NEW, asset="t"), sink)
    (ready,) = sink.events
    assert (ready.kind, ready.operation, ready.sequence, ready.terminal, ready.outcome) == (
        EventKind.PREVIEW_READY, "new_asset.preview", 1, True, Outcome.SUCCEEDED)
    assert isinstance(ready.detail, PreviewReadyDetail)
    assert ready.detail.action == "new_asset" and list(ready.detail.changes) == (
        preview.change_lines())
    assert ready.affected_assets[0].root == "t" and ready.affected_assets[0].asset_id is None

    applied = ListSink()
    assert apply_mutation(project, preview, sink=applied).applied
    events = applied.events
    assert [(e.kind, e.sequence, e.terminal) for e in events] == [
        (EventKind.ASSET_DISCOVERED, 1, False),
        (EventKind.DIAGNOSTICS_UPDATED, 2, False),
        (EventKind.ACTION_APPLIED, 3, True),
    ]
    assert {e.operation for e in events} == {"new_asset"}
    discovered, diagnostics, done = events
    assert isinstance(discovered.detail, AssetDiscoveredDetail)
    assert (discovered.detail.state, discovered.detail.asset_type) == ("registered", "glyph_bank")
    assert isinstance(diagnostics.detail, DiagnosticsUpdatedDetail)
    assert diagnostics.detail.errors == 0
    assert isinstance(done.detail, ActionAppliedDetail) and done.detail.action == "new_asset"
    for event in events:
        assert [(a.asset_id, a.root, a.name) for a in event.affected_assets] == [
            (1, "t", "t")]


def test_applied_diagnostics_include_the_format_findings_of_the_preview(project: Project) -> None:
    folder = project.assets_dir / "t"
    write_png(folder / "0.png", tile(8, RED))
    write_palette(folder / "palette.png", [KEY, BLUE])  # red is missing: PK126
    preview = new(project, "t")
    assert preview.proposal is not None
    assert [d.code for d in preview.proposal.diagnostics] == ["PK126"]
    sink = ListSink()
    assert apply_mutation(project, preview, sink=sink).applied
    detail = sink.events[1].detail
    assert isinstance(detail, DiagnosticsUpdatedDetail)
    assert [d.code for d in detail.diagnostics] == ["PK126"] and detail.errors == 1


def test_files_that_can_never_be_inputs_are_skipped_unopened(
    project: Project, tmp_path: Path
) -> None:
    folder = tiles_folder(project, "t")
    os.mkfifo(folder / "pipe.png")  # opening it to read would block this test forever
    outside = tmp_path / "secret.png"
    write_png(outside, tile(16, RED))
    os.symlink(outside, folder / "11_link.png")
    (folder / ".DS_Store").write_bytes(b"junk")
    (folder / "linked").symlink_to(tmp_path, target_is_directory=True)
    preview = new(project, "t")
    assert preview.proposal is not None and not preview.blocked
    skipped = {s.path: s.reason for s in preview.proposal.skipped}
    assert skipped["pipe.png"] == "a FIFO (named pipe)"
    assert skipped["11_link.png"].startswith("a symlink leading outside the folder")
    assert skipped[".DS_Store"].startswith("hidden")
    assert skipped["linked"] == "a folder symlink: never followed"
    inputs = preview.proposal.declaration["inputs"]
    assert "pipe.png" not in json.dumps(inputs) and "11_link.png" not in json.dumps(inputs)
    assert apply_mutation(project, preview).applied


@pytest.mark.parametrize(("setup", "root", "words"), [
    ("nested", "outer/inner", "lies inside the asset root outer"),
    ("contains", "outer", "contains the asset root outer/inner"),
    ("none", "nowhere", "there is no folder at assets/nowhere"),
    ("none", ".prometeu", "cannot be an asset root"),
    ("none", "../up", "is not a folder inside assets/"),
])
def test_places_that_cannot_be_a_new_root(
    project: Project, setup: str, root: str, words: str
) -> None:
    if setup == "nested":
        write_raw_asset(project, "outer", "outer", extra={"inner/x.bin": b"x"})
    elif setup == "contains":
        write_raw_asset(project, "outer/inner", "inner", extra={"y.bin": b"y"})
    preview = new(project, root)
    assert preview.blocked and words in preview.blockers[0].message


def test_files_from_outside_are_copied_in_to_the_chosen_folder(
    project: Project, tmp_path: Path
) -> None:
    outside = tmp_path / "download"
    for index in range(3):
        write_png(outside / f"{index}.png", tile(8, RED))
    write_palette(outside / "palette.png", [KEY, RED])
    (outside / "readme.txt").write_text("from the internet")
    os.symlink(outside / "2.png", outside / "3.png")  # a link inside the folder: its file
    before = tree_state(project)
    preview = new(project, "art/imported", source=str(outside), asset_type="glyph_bank")
    assert preview.proposal is not None and not preview.blocked, preview.blockers
    assert tree_state(project) == before
    assert "copy " + str(outside.resolve() / "0.png") + " → art/imported/0.png" in (
        preview.change_lines())
    assert apply_mutation(project, preview).applied
    copied = sorted(p.name for p in (project.assets_dir / "art/imported").iterdir())
    assert copied == ["0.png", "1.png", "2.png", "3.png", "asset.json", "palette.png"]
    assert not (project.assets_dir / "art/imported/3.png").is_symlink()
    assert build(project).outcome is Outcome.SUCCEEDED


def test_copying_in_refuses_an_existing_destination(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "download"
    write_png(outside / "0.png", tile(8, RED))
    (project.assets_dir / "taken").mkdir()
    preview = new(project, "taken", source=str(outside))
    assert preview.blocked and "already exists" in preview.blockers[0].message


@pytest.mark.parametrize("n", range(6))
def test_a_failing_step_leaves_the_project_as_it_was(
    project: Project, tmp_path: Path, n: int
) -> None:
    outside = tmp_path / "download"
    for index in range(2):
        write_png(outside / f"{index}.png", tile(8, RED))
    preview = new(project, "imported", source=str(outside), derive_palette=True)
    before = tree_state(project)
    fault = FaultAt(n)
    result = apply_mutation(project, preview, faults=fault)
    assert fault.hit is not None
    assert result.outcome is MutationOutcome.FAILED and result.rolled_back
    assert tree_state(project) == before


def test_a_crash_at_every_point_of_a_copy_in_is_recovered(
    project: Project, tmp_path: Path
) -> None:
    from packer.files.lock import write_lock
    from packer.workspace.scan import build_snapshot
    from tests.packer.test_mutations_rollback import _crash_at

    outside = tmp_path / "download"
    for index in range(2):
        write_png(outside / f"{index}.png", tile(8, RED))
    before = tree_state(project)
    made = {"assets/imported/", "assets/imported/0.png", "assets/imported/1.png",
            "assets/imported/palette.png", "assets/imported/asset.json"}
    for n in range(100):
        preview = new(project, "imported", source=str(outside), derive_palette=True)
        assert preview.proposal is not None
        code = _crash_at(project, preview.model_dump_json(), n)
        if code == 0:
            break
        assert code == 86, f"the child failed instead of crashing at point {n}"
        journal_left = (project.packer_dir / "journal").exists()
        if n % 2:
            with write_lock(project):
                pass
        else:
            build_snapshot(project)
        assert not (project.packer_dir / "journal").exists()
        state = tree_state(project)
        if state == before:
            continue
        # Past the commit point: rolled forward, whole.
        assert journal_left and set(state) - set(before) == made
        assert state["assets/imported/asset.json"] == preview.proposal.declaration_text.encode()
        assert [e.root for e in project.load_registry().assets] == ["imported"]
        return
    else:
        pytest.fail("the apply never completed")
    assert set(tree_state(project)) - set(before) == made


def test_one_writer_at_a_time(project: Project) -> None:
    import threading

    from packer.files.lock import write_lock

    tiles_folder(project, "t")
    preview = new(project, "t")
    held, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with write_lock(project, command="another writer"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        assert held.wait(10)
        before = tree_state(project)
        result = apply_mutation(project, preview, lock_timeout=0.2)
        assert result.outcome is MutationOutcome.REFUSED and result.error_type == "LockHeld"
        assert "another writer" in result.message
        assert tree_state(project) == before
    finally:
        release.set()
        thread.join()
    assert apply_mutation(project, preview).applied  # the same preview, once the lock is free


def test_a_preview_reading_files_can_be_cancelled(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from packer.lane.cancellation import CancellationToken
    from packer.mutations import plan_new, proposal

    tiles_folder(project, "t")
    token = CancellationToken()
    original = proposal.list_files

    def cancelled_while_listing(*args: Any) -> Any:
        token.cancel()  # the user cancels while the files are being looked at
        return original(*args)

    monkeypatch.setattr(plan_new, "list_files", cancelled_while_listing)
    sink = ListSink()
    with pytest.raises(OperationCancelled):
        preview_mutation(project, MutationRequest(action=NEW, asset="t"), sink, token)
    (terminal,) = sink.events
    assert terminal.kind is EventKind.ACTION_FAILED and terminal.outcome is Outcome.CANCELLED
