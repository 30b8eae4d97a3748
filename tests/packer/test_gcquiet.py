"""quiet_gc: a long operation's objects are kept out of full collections, and let go after."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from packer.build import build, manifest_file
from packer.lane.events import PackerEvent
from packer.lane.gcquiet import hold_freeze, quiet_gc, release_freeze
from tests.packer.build_support import add_raw, new_project


def test_survivors_are_frozen_inside_and_released_by_the_last_one_out() -> None:
    assert gc.get_freeze_count() == 0
    with quiet_gc():
        assert gc.get_freeze_count() > 0
        kept = [[n] for n in range(5000)]  # survivors made inside
        before = gc.get_freeze_count()
        gc.collect(1)  # they move to the old generation, and from there to the frozen one
        assert gc.get_freeze_count() >= before + len(kept)
        assert len(gc.get_objects(2)) < len(kept)  # a full collection would not scan them
        with quiet_gc():
            pass
        assert gc.get_freeze_count() > 0  # an inner (or concurrent) operation's end
    assert gc.get_freeze_count() == 0
    gc.collect(1)
    assert gc.get_freeze_count() == 0  # and nothing freezes once all are out


class FreezeProbe:
    def __init__(self) -> None:
        self.counts: list[int] = []

    def publish(self, event: PackerEvent) -> None:
        self.counts.append(gc.get_freeze_count())


def test_a_build_runs_quiet_and_leaves_nothing_frozen(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"a" * 100)
    probe = FreezeProbe()
    assert build(project, probe).succeeded
    assert probe.counts and min(probe.counts) > 0
    assert gc.get_freeze_count() == 0


def test_a_host_holding_the_freeze_keeps_it_after_an_operation(tmp_path: Path) -> None:
    """The Studio's standing freeze survives a build: quiet_gc never unfreezes while a host
    holds the freeze; the host unfreezes when it lets go."""
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"a" * 100)
    standing = [[n] for n in range(5000)]  # a host's long-lived heap
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    hold_freeze()
    try:
        assert build(project).succeeded
        with quiet_gc():
            pass
        assert gc.get_freeze_count() >= frozen > len(standing)
    finally:
        release_freeze()
        gc.unfreeze()
    with pytest.raises(RuntimeError):
        release_freeze()  # an unbalanced release is a host's bug, said at once
    with quiet_gc():
        pass
    assert gc.get_freeze_count() == 0  # held by nobody: the last one out unfreezes again


def test_the_up_to_date_manifest_is_read_quietly_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read before the operation starts (for its project_id): its rows are tens of thousands of
    # containers at 10k assets, which would otherwise trigger collections of their own.
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"a" * 100)
    assert build(project).succeeded
    counts: list[int] = []
    real = manifest_file.load_early

    def probed(*args: Any, **kwargs: Any) -> Any:
        counts.append(gc.get_freeze_count())
        return real(*args, **kwargs)

    monkeypatch.setattr(manifest_file, "load_early", probed)
    assert build(project).succeeded
    assert counts and counts[0] > 0
