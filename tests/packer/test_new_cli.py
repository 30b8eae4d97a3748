"""`prometeu-packer new`: the mutation commands' conventions (preview, --yes, --preview, --json,
--events jsonl, exit codes) and how PATH may be written (a folder, or files of one folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packer.files.project import Project, create_project
from packer.lane.events import EventKind, read_event_lines
from tests.packer.cli_support import Captured, run
from tests.packer.formats_support import write_palette, write_png, write_wav
from tests.packer.mutation_support import tree_state
from tests.packer.test_mutations_new import KEY, RED, tile


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = create_project(tmp_path / "game", "game")
    for index in range(3):
        write_png(project.assets_dir / "art/tiles" / f"{index}.png", tile(8, RED))
    write_palette(project.assets_dir / "art/tiles/palette.png", [KEY, RED])
    return project


def test_without_a_terminal_the_proposal_is_shown_and_nothing_changes(
    project: Project, capsys: Captured
) -> None:
    before = tree_state(project)
    code, out, _ = run(capsys, "new", str(project.root), "art/tiles")
    assert code == 1
    assert "Declaration (assets/art/tiles/asset.json):" in out
    assert '"type": "glyph_bank"' in out and '"tile_size": 8' in out
    assert "Diagnostics the new asset would have: none" in out
    assert "Re-run with --yes" in out
    assert tree_state(project) == before


def test_yes_writes_and_registers(project: Project, capsys: Captured) -> None:
    code, out, _ = run(capsys, "new", str(project.root), "art/tiles", "--yes")
    assert code == 0, out
    assert "Applied: new tiles: registry: add #1 at art/tiles" in out
    assert (project.assets_dir / "art/tiles/asset.json").is_file()
    assert [e.root for e in project.load_registry().assets] == ["art/tiles"]
    code, out, _ = run(capsys, "new", str(project.root), "art/tiles", "--yes")
    assert code == 1 and "already an asset (registered as #1)" in out


def test_preview_exits_0_and_changes_nothing(project: Project, capsys: Captured) -> None:
    before = tree_state(project)
    code, out, _ = run(capsys, "new", str(project.root), str(project.assets_dir / "art/tiles"),
                       "--preview", "--name", "hero_tiles")
    assert code == 0 and "Preview only" in out and '"name": "hero_tiles"' in out
    assert tree_state(project) == before


def test_json_is_one_document_with_the_proposal(project: Project, capsys: Captured) -> None:
    code, out, _ = run(capsys, "new", str(project.root), "art/tiles", "--yes", "--json")
    assert code == 0
    document = json.loads(out)
    proposal = document["preview"]["proposal"]
    assert proposal["declaration"]["inputs"] == {"tiles": ["0.png", "1.png", "2.png"],
                                                 "palettes": ["palette.png"]}
    assert document["applied"] is True and document["result"]["target"]["asset_id"] == 1


def test_events_jsonl_streams_preview_then_apply(project: Project, capsys: Captured) -> None:
    code, out, _ = run(capsys, "new", str(project.root), "art/tiles", "--yes",
                       "--events", "jsonl")
    assert code == 0
    events = read_event_lines(out.splitlines())
    assert [(e.operation, e.kind) for e in events] == [
        ("new_asset.preview", EventKind.PREVIEW_READY),
        ("new_asset", EventKind.ASSET_DISCOVERED),
        ("new_asset", EventKind.DIAGNOSTICS_UPDATED),
        ("new_asset", EventKind.ACTION_APPLIED),
    ]


def test_files_of_one_folder_and_a_type(project: Project, capsys: Captured) -> None:
    folder = project.assets_dir / "mix"
    write_wav(folder / "a.wav", bytes(4))
    write_wav(folder / "b.wav", bytes(4))
    (folder / "notes.txt").write_text("notes")
    code, out, _ = run(capsys, "new", str(project.root), "mix", "--preview")
    assert code == 1 and "choose the type" in out
    code, out, _ = run(capsys, "new", str(project.root), "mix", "--type", "sound_bank",
                       "--json", "--preview")
    assert code == 0
    assert json.loads(out)["preview"]["proposal"]["declaration"]["inputs"] == {
        "samples": ["a.wav", "b.wav"]}
    code, out, _ = run(capsys, "new", str(project.root), "mix/notes.txt", "--json", "--yes")
    assert code == 0
    declaration = json.loads((folder / "asset.json").read_text())
    assert declaration["type"] == "raw" and declaration["inputs"] == {"data": ["notes.txt"]}


def test_usage_errors_exit_2(project: Project, capsys: Captured, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    code, _, err = run(capsys, "new", str(project.root), str(outside))
    assert code == 2 and "not inside the project's assets/ folder" in err
    code, _, err = run(capsys, "new", str(project.root), "art/tiles/0.png", "mix/x.wav")
    assert code == 2 and "one folder" in err
    code, _, err = run(capsys, "new", str(project.root), "art", "--type", "movie")
    assert code == 2 and "invalid choice" in err
    code, out, _ = run(capsys, "new", "--help")
    assert code == 0 and "--derive-palette" in out and "--type" in out
