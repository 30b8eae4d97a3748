"""Property: any sequence of mutations (applied or refused) keeps the registry's promises: ids are
unique, never reused and never change owner; no root is ever registered but missing; no journal or
trash is left behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packer.mutations import MutationAction, MutationOutcome
from packer.workspace.scan import AssetState, build_snapshot
from tests.packer.mutation_support import make_project, mutate, write_raw_asset

A = MutationAction
ROOTS = ["sprites/hero", "sounds/music", "wip/loose", "moved/one", "moved/two/deep", "plain"]
DESTS = ["moved/one", "moved/two/deep", "sprites/hero", "wip/x"]

steps = st.lists(
    st.tuples(
        st.sampled_from(list(A)),
        st.one_of(st.integers(min_value=1, max_value=4), st.sampled_from(ROOTS)),
        st.sampled_from(DESTS),
        st.sampled_from(["alpha", "beta_2", "Gamma"]),
    ),
    min_size=1, max_size=14,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_any_sequence_of_mutations_keeps_identity_promises(
    sequence: list[tuple[MutationAction, int | str, str, str]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        project = make_project(Path(folder))
        (project.assets_dir / "plain").mkdir()  # files, no asset.json: what `new` makes assets of
        (project.assets_dir / "plain" / "level.bin").write_bytes(b"level")
        owners = {e.asset_id: e.asset_uuid for e in project.load_registry().assets}
        high_water = project.load_registry().next_asset_id
        for action, asset, dest, name in sequence:
            if action is A.REMOVE and isinstance(asset, str) and asset == "wip/loose":
                write_raw_asset(project, "wip/again", "again")  # keep something to adopt
            request_to = dest if action is A.RELOCATE else None
            # new takes a folder, never an asset_id
            target = ROOTS[asset % len(ROOTS)] if action is A.NEW and isinstance(
                asset, int) else asset
            result = mutate(project, action, target, to=request_to,
                            name=name if action is A.RENAME else None)
            assert result.outcome in {MutationOutcome.APPLIED, MutationOutcome.REFUSED}, (
                result.message
            )
            registry = project.load_registry()
            assert registry.next_asset_id >= high_water
            high_water = registry.next_asset_id
            for entry in registry.assets:
                # An id, once given, always names the same asset.
                assert owners.setdefault(entry.asset_id, entry.asset_uuid) == entry.asset_uuid
            assert all(i < registry.next_asset_id for i in owners)
            snapshot = build_snapshot(project)
            assert not [r.root for r in snapshot.assets if r.state is AssetState.MISSING]
            assert not (project.packer_dir / "journal").exists()
            assert not (project.packer_dir / "trash").exists()
