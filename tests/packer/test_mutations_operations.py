"""Each mutation's preview and apply: what changes in the registry and on disk, and what stays."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packer.files.project import Project, create_project, open_project
from packer.files.registry import RegistryEntry
from packer.mutations import (
    DiskChangeKind,
    MutationAction,
    MutationOutcome,
    MutationRequest,
    OperationClass,
    apply_mutation,
    preview_mutation,
)
from packer.workspace.scan import AssetState, build_snapshot
from tests.packer.mutation_support import (
    make_project,
    mutate,
    preview_of,
    tree_state,
    write_raw_asset,
)

A = MutationAction


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


def entry(project: Project, asset_id: int) -> RegistryEntry:
    found = project.load_registry().by_id(asset_id)
    assert found is not None
    return found


def test_previews_change_nothing(project: Project) -> None:
    before = tree_state(project)
    requests: list[tuple[MutationAction, int | str, str | None, str | None]] = [
        (A.REGISTER, "wip/loose", None, None), (A.ADOPT, "wip/loose", None, None),
        (A.FORGET, 1, None, None), (A.REMOVE, 1, None, None), (A.QUARANTINE, 2, None, None),
        (A.RELOCATE, 1, "chars/hero", None), (A.EXCLUDE, 1, None, None),
        (A.RENAME, 1, None, "player"),
    ]
    for action, asset, to, name in requests:
        preview = preview_of(project, action, asset, to=to, name=name)
        assert not preview.blocked, preview.blockers
        assert preview.change_lines()
    assert tree_state(project) == before


def test_register_allocates_the_next_id_and_adopt_is_the_same(project: Project) -> None:
    preview = preview_of(project, A.ADOPT, "wip/loose")
    assert preview.operation_class is OperationClass.REGISTRY_MUTATION
    assert not preview.consent_required and not preview.disk_changes
    (change,) = preview.registry_changes
    assert change.before is None and change.after is not None
    assert (change.asset_id, change.after.root, change.after.included_in_build) == (
        3, "wip/loose", True
    )
    assert (preview.next_asset_id_before, preview.next_asset_id_after) == (3, 4)
    result = apply_mutation(project, preview)
    assert result.applied and result.target.asset_id == 3
    record = build_snapshot(project).by_root("wip/loose")
    assert record is not None and record.state is AssetState.REGISTERED
    assert record.asset_id == 3 and project.load_registry().next_asset_id == 4


def test_register_refuses_a_registered_root_an_unknown_root_and_a_twin_uuid(
    project: Project,
) -> None:
    assert "already registered as #1" in preview_of(project, A.REGISTER,
                                                    "sprites/hero").blockers[0].message
    assert "no asset at nowhere" in preview_of(project, A.REGISTER, "nowhere").blockers[0].message
    (project.assets_dir / "empty").mkdir()
    assert "has no asset.json" in preview_of(project, A.REGISTER, "empty").blockers[0].message
    write_raw_asset(project, "copy/hero", "hero_copy", asset_uuid=entry(project, 1).asset_uuid)
    twin = preview_of(project, A.REGISTER, "copy/hero")
    assert twin.blocked and twin.blockers[0].code == "PK109"
    assert "#1" in twin.blockers[0].message


def test_register_of_a_moved_asset_suggests_relocating_the_registered_one(
    project: Project,
) -> None:
    (project.assets_dir / "sprites/hero").rename(project.assets_dir / "wip/hero")
    preview = preview_of(project, A.REGISTER, "wip/hero")
    assert preview.blocked
    (fix,) = preview.safe_fixes
    assert fix.request == MutationRequest(action=A.RELOCATE, asset=1, to="wip/hero")


def test_register_of_an_invalid_declaration_is_blocked_with_its_diagnostic(
    project: Project,
) -> None:
    (project.assets_dir / "bad").mkdir()
    (project.assets_dir / "bad/asset.json").write_text("{not json", encoding="utf-8")
    preview = preview_of(project, A.REGISTER, "bad")
    assert [b.code for b in preview.blockers] == ["PK103"]


def test_register_warns_about_structural_errors_but_allows_them(project: Project) -> None:
    write_raw_asset(project, "wip/broken", "broken")
    (project.assets_dir / "wip/broken/data.bin").unlink()
    preview = preview_of(project, A.REGISTER, "wip/broken")
    assert not preview.blocked
    assert any(w.code == "PK106" for w in preview.warnings)


def test_forget_keeps_files_and_never_reuses_the_id(project: Project) -> None:
    before_files = tree_state(project)
    result = mutate(project, A.FORGET, 2)
    assert result.applied
    after_files = tree_state(project)
    assert {k: v for k, v in after_files.items() if "index.json" not in k} == {
        k: v for k, v in before_files.items() if "index.json" not in k
    }
    registry = project.load_registry()
    assert registry.by_id(2) is None and registry.next_asset_id == 3
    record = build_snapshot(project).by_root("sounds/music")
    assert record is not None and record.state is AssetState.UNREGISTERED
    again = mutate(project, A.REGISTER, "sounds/music")
    assert again.applied and again.target.asset_id == 3
    missing = preview_of(project, A.FORGET, 2)
    assert "retired" in missing.blockers[0].message


def test_forget_offers_exclude_as_a_safe_fix(project: Project) -> None:
    preview = preview_of(project, A.FORGET, 1)
    assert [f.request for f in preview.safe_fixes] == [
        MutationRequest(action=A.EXCLUDE, asset=1)
    ]
    assert any("retired" in w.message for w in preview.warnings)


def test_remove_deletes_every_file_of_the_root_and_the_entry(project: Project) -> None:
    preview = preview_of(project, A.REMOVE, "sounds/music")
    assert preview.operation_class is OperationClass.WORKSPACE_MUTATION
    assert preview.consent_required
    (change,) = preview.disk_changes
    assert change.kind is DiskChangeKind.DELETE and change.path == "sounds/music"
    assert change.files == ("asset.json", "data.bin", "notes/readme.txt")
    assert [(c.asset_id, c.after) for c in preview.registry_changes] == [(2, None)]
    result = apply_mutation(project, preview, consent=True)
    assert result.applied
    assert not (project.assets_dir / "sounds/music").exists()
    assert not (project.packer_dir / "trash").exists()
    assert not (project.packer_dir / "journal").exists()
    assert project.load_registry().by_id(2) is None


def test_remove_of_an_unregistered_asset_only_deletes_files(project: Project) -> None:
    registry_before = project.registry_path.read_bytes()
    preview = preview_of(project, A.REMOVE, "wip/loose")
    assert not preview.registry_changes
    assert apply_mutation(project, preview, consent=True).applied
    assert not (project.assets_dir / "wip/loose").exists()
    assert project.registry_path.read_bytes() == registry_before


def test_remove_refuses_a_root_that_contains_another_asset(project: Project) -> None:
    write_raw_asset(project, "sounds/music/inner", "inner")
    preview = preview_of(project, A.REMOVE, 2)
    assert preview.blocked and "sounds/music/inner" in preview.blockers[0].message


def test_quarantine_and_restore_keep_identity_and_files(project: Project) -> None:
    original = entry(project, 2)
    files_before = {k: v for k, v in tree_state(project).items() if "sounds/music" in k}
    preview = preview_of(project, A.QUARANTINE, 2)
    assert preview.consent_required and not preview.blocked
    quarantine_root = f".prometeu/quarantine/{original.asset_uuid}"
    assert mutate(project, A.QUARANTINE, 2).applied
    quarantined = entry(project, 2)
    assert (quarantined.root, quarantined.quarantined, quarantined.quarantined_from) == (
        quarantine_root, True, "sounds/music"
    )
    assert not (project.assets_dir / "sounds/music").exists()
    assert (project.assets_dir / quarantine_root / "notes/readme.txt").read_bytes() == b"notes"
    record = build_snapshot(project).by_id(2)
    assert record is not None and record.state is AssetState.QUARANTINED
    assert not record.in_build_set and record.asset_uuid == original.asset_uuid
    assert mutate(project, A.QUARANTINE, 2).outcome is MutationOutcome.REFUSED

    result = mutate(project, A.RESTORE, "sounds/music")  # by its original root
    assert result.applied
    assert entry(project, 2) == original
    assert {k: v for k, v in tree_state(project).items() if "sounds/music" in k} == files_before
    restored = build_snapshot(project).by_id(2)
    assert restored is not None and restored.in_build_set


def test_restore_elsewhere_and_refusals(project: Project) -> None:
    assert mutate(project, A.QUARANTINE, 1).applied
    write_raw_asset(project, "sprites/hero", "impostor")
    blocked = preview_of(project, A.RESTORE, 1)
    assert blocked.blocked and "already exists" in blocked.blockers[0].message
    result = mutate(project, A.RESTORE, 1, to="sprites/hero_back")
    assert result.applied and entry(project, 1).root == "sprites/hero_back"
    assert "not quarantined" in preview_of(project, A.RESTORE, 1).blockers[0].message


def test_relocate_keeps_asset_id_and_uuid(project: Project) -> None:
    original = entry(project, 1)
    preview = preview_of(project, A.RELOCATE, 1, to="chars/heroes/hero")
    assert preview.consent_required
    assert [(c.kind, c.path) for c in preview.disk_changes] == [
        (DiskChangeKind.CREATE, "chars"), (DiskChangeKind.CREATE, "chars/heroes"),
        (DiskChangeKind.MOVE, "sprites/hero"),
    ]
    assert apply_mutation(project, preview, consent=True).applied
    moved = entry(project, 1)
    assert moved == original.model_copy(update={"root": "chars/heroes/hero"})
    record = build_snapshot(project).by_id(1)
    assert record is not None and record.state is AssetState.REGISTERED
    assert record.asset_uuid == original.asset_uuid and record.root == "chars/heroes/hero"
    assert not (project.assets_dir / "sprites/hero").exists()


@pytest.mark.parametrize(("dest", "expected"), [
    ("sprites/hero", "already at"),
    ("sprites/hero/inside", "inside the asset's own root"),
    ("sounds/music", "already exists"),
    ("sounds/music/sub", "inside the asset root sounds/music"),
    ("../outside", "climbs out"),
    (".prometeu/x", "not a place for an asset root"),
    ("sounds/music/data.bin/x", "inside the asset root sounds/music"),
])
def test_relocate_refuses_bad_destinations(project: Project, dest: str, expected: str) -> None:
    preview = preview_of(project, A.RELOCATE, 1, to=dest)
    assert preview.blocked and expected in preview.blockers[0].message


def test_relocate_catches_up_with_a_folder_moved_by_hand(project: Project) -> None:
    (project.assets_dir / "sprites/hero").rename(project.assets_dir / "wip/hero")
    preview = preview_of(project, A.RELOCATE, 1, to="wip/hero")
    assert not preview.blocked and not preview.disk_changes and not preview.consent_required
    assert preview.operation_class is OperationClass.REGISTRY_MUTATION
    assert apply_mutation(project, preview).applied
    record = build_snapshot(project).by_id(1)
    assert record is not None and record.state is AssetState.REGISTERED
    assert record.root == "wip/hero"


def test_relocate_of_a_quarantined_asset_points_at_restore(project: Project) -> None:
    assert mutate(project, A.QUARANTINE, 1).applied
    preview = preview_of(project, A.RELOCATE, 1, to="chars/hero")
    assert preview.blocked
    assert preview.safe_fixes[0].request == MutationRequest(action=A.RESTORE, asset=1,
                                                            to="chars/hero")


def test_include_and_exclude_toggle_the_flag_only(project: Project) -> None:
    files_before = {k: v for k, v in tree_state(project).items() if "index.json" not in k}
    assert mutate(project, A.EXCLUDE, 1).applied
    assert entry(project, 1).included_in_build is False
    record = build_snapshot(project).by_id(1)
    assert record is not None and not record.in_build_set
    same = preview_of(project, A.EXCLUDE, 1)
    assert same.changes_nothing and "already excluded" in same.warnings[0].message
    assert apply_mutation(project, same).applied
    assert mutate(project, A.INCLUDE, 1).applied
    assert entry(project, 1).included_in_build is True
    assert {k: v for k, v in tree_state(project).items() if "index.json" not in k} == files_before
    assert "not registered" in preview_of(project, A.INCLUDE, "wip/loose").blockers[0].message


def test_rename_rewrites_only_the_name_and_warns_game_code(project: Project) -> None:
    anchor = project.assets_dir / "sprites/hero/asset.json"
    before = json.loads(anchor.read_text(encoding="utf-8"))
    preview = preview_of(project, A.RENAME, 1, name="player")
    assert not preview.consent_required
    assert any("visible to game code" in w.message for w in preview.warnings)
    (change,) = preview.disk_changes
    assert change.kind is DiskChangeKind.REWRITE and change.path == "sprites/hero/asset.json"
    registry_before = project.registry_path.read_bytes()
    assert apply_mutation(project, preview).applied
    after = json.loads(anchor.read_text(encoding="utf-8"))
    assert after == {**before, "name": "player"}
    assert list(after) == list(before)  # key order kept
    assert project.registry_path.read_bytes() == registry_before
    record = build_snapshot(project).by_id(1)
    assert record is not None and record.name == "player"
    assert record.asset_uuid == before["asset_uuid"]


def test_rename_flags_convention_and_duplicate_names(project: Project) -> None:
    odd = preview_of(project, A.RENAME, 1, name="Big Hero")
    assert any(w.code == "PK205" for w in odd.warnings)
    twin = preview_of(project, A.RENAME, 1, name="music")
    assert any("already named 'music'" in w.message for w in twin.warnings)
    empty = preview_of(project, A.RENAME, 1, name="")
    assert empty.blocked


def test_asset_can_be_named_by_root_or_id(project: Project) -> None:
    by_id = preview_of(project, A.EXCLUDE, 2)
    by_root = preview_of(project, A.EXCLUDE, "sounds/music/")
    assert by_id.target == by_root.target
    assert by_id.target.asset_id == 2 and by_id.target.name == "music"


def test_uninitialised_workspace_is_a_blocker_not_a_crash(tmp_path: Path) -> None:
    project = create_project(tmp_path / "p", "p")
    (project.packer_dir / "index.json").unlink()
    project.packer_dir.rmdir()
    project = open_project(project.root)
    preview = preview_of(project, A.REGISTER, "x")
    assert preview.blocked and preview.blockers[0].code == "PK002"
    assert not project.packer_dir.exists()


def test_request_validation() -> None:
    with pytest.raises(ValueError, match="destination"):
        MutationRequest(action=A.RELOCATE, asset=1)
    with pytest.raises(ValueError, match="name"):
        MutationRequest(action=A.RENAME, asset=1)
    with pytest.raises(ValueError, match="takes no destination"):
        MutationRequest(action=A.FORGET, asset=1, to="x")


def test_preview_round_trips_through_json(project: Project) -> None:
    preview = preview_mutation(project, MutationRequest(action=A.QUARANTINE, asset=2))
    again = type(preview).model_validate_json(preview.model_dump_json())
    assert again == preview
    assert apply_mutation(project, again, consent=True).applied


def test_a_blocked_preview_keeps_its_actions_class(project: Project) -> None:
    # Nothing is planned when the target is unknown; the class still says what relocate does.
    preview = preview_of(project, A.RELOCATE, 99, to="elsewhere")
    assert preview.blocked and not preview.disk_changes
    assert preview.operation_class is OperationClass.WORKSPACE_MUTATION
    assert preview_of(project, A.FORGET, 99).operation_class is OperationClass.REGISTRY_MUTATION
