"""Cancellation and failures, at every point, leave the previous build/ exactly as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from packer.build import build
from packer.build.faults import ENV_VAR
from packer.build.staging import pending_promotions
from packer.files.project import Project
from packer.formats.raw import RAW_PIPELINE, RawPipeline
from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind, Outcome, PackerEvent
from packer.lane.sinks import ListSink
from tests.packer.build_support import (
    add_glyph,
    add_raw,
    add_sound,
    copy_project,
    new_project,
    snapshot_build,
)


class CancelAfterChecks(CancellationToken):
    """Cancels itself at its n-th check: a deterministic sweep over every cancellation point."""

    __slots__ = ("checks", "limit")

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.checks = 0

    def raise_if_cancelled(self) -> None:
        self.checks += 1
        if self.checks >= self.limit:
            self.cancel()
        super().raise_if_cancelled()


def built_then_changed(tmp_path: Path) -> Project:
    project = new_project(tmp_path)
    add_raw(project, "raw/big", bytes(range(256)) * 12_000)  # 3 MB: several chunk checks
    add_glyph(project, "glyphs/font")
    add_sound(project, "sounds/sfx")
    assert build(project).succeeded
    (project.assets_dir / "raw/big/data.bin").write_bytes(bytes(range(255, -1, -1)) * 12_000)
    add_raw(project, "raw/new", b"new")
    return project


def test_cancel_at_every_check_leaves_build_untouched(tmp_path: Path) -> None:
    project = built_then_changed(tmp_path)
    before = snapshot_build(project)
    counter = CancelAfterChecks(10**9)
    assert build(project, token=counter).succeeded  # counts the checks of the whole build
    total = counter.checks
    assert total > 10
    # back to the previous state, then cancel at each check in turn
    for limit in range(1, total + 1):
        restore(project, before)
        sink = ListSink()
        result = build(project, sink, token=CancelAfterChecks(limit))
        if result.outcome is Outcome.SUCCEEDED:
            # past the last check (the commit point), the build may only succeed
            assert limit == total, f"limit {limit} of {total}"
            continue
        assert result.outcome is Outcome.CANCELLED, (limit, result.error)
        assert snapshot_build(project) == before, f"build/ changed when cancelled at {limit}"
        final = sink.events[-1]
        assert final.kind is EventKind.BUILD_FINISHED and final.outcome is Outcome.CANCELLED
        assert sum(e.terminal for e in sink.events) == 1


def restore(project: Project, files: dict[str, bytes]) -> None:
    shutil.rmtree(project.build_dir, ignore_errors=True)
    for name, data in files.items():
        path = project.build_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_cancel_from_the_event_stream_mid_build(tmp_path: Path) -> None:
    project = built_then_changed(tmp_path)
    before = snapshot_build(project)
    token = CancellationToken()

    class CancelOnMiss(ListSink):
        def publish(self, event: PackerEvent) -> None:
            super().publish(event)
            if event.kind is EventKind.CACHE_MISS:
                token.cancel()

    sink = CancelOnMiss()
    result = build(project, sink, token=token)
    assert result.outcome is Outcome.CANCELLED
    assert sink.kinds()[-1] == "build_finished"
    assert snapshot_build(project) == before
    assert not (project.build_dir / ".staging").exists()


@pytest.mark.parametrize("step", ["check", "encode:2", "write", "staged"])
def test_injected_failure_before_commit_leaves_build_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    project = built_then_changed(tmp_path)
    before = snapshot_build(project)
    monkeypatch.setenv(ENV_VAR, f"{step}:raise")
    sink = ListSink()
    result = build(project, sink)
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and "InjectedFault" in result.error
    final = sink.events[-1]
    assert final.kind is EventKind.BUILD_FINISHED and final.detail is not None
    assert final.detail.type == "build_finished" and final.detail.error == result.error
    assert snapshot_build(project) == before
    monkeypatch.delenv(ENV_VAR)
    assert build(project).succeeded


def test_failure_after_commit_is_rolled_forward_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = built_then_changed(tmp_path)
    monkeypatch.setenv(ENV_VAR, "promote:preload.json:raise")
    sink = ListSink()
    result = build(project, sink)
    assert result.outcome is Outcome.FAILED
    assert "completed by the next build" in sink.events[-1].summary
    assert len(pending_promotions(project.build_dir)) == 1
    monkeypatch.delenv(ENV_VAR)
    expected_dir = tmp_path / "expected"

    # What the interrupted build committed to is exactly what a fresh build produces.
    follow_up = build(project)
    assert follow_up.succeeded
    assert any(d.code == "PK208" and "completed" in d.message for d in follow_up.diagnostics)
    fresh = copy_project(project, expected_dir)
    assert build(fresh, use_cache=False).succeeded
    assert snapshot_build(project) == snapshot_build(fresh)


def test_a_pipeline_crash_fails_the_build_and_leaves_build_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = built_then_changed(tmp_path)
    before = snapshot_build(project)

    def explode(self: RawPipeline, *args: object, **kwargs: object) -> None:
        raise MemoryError("simulated")

    monkeypatch.setattr(RawPipeline, "encode", explode)
    sink = ListSink()
    result = build(project, sink)
    assert result.outcome is Outcome.FAILED and "MemoryError" in (result.error or "")
    assert sink.events[-1].kind is EventKind.BUILD_FINISHED
    assert snapshot_build(project) == before
    assert RAW_PIPELINE.format_name == "RAW/bytes_v1"
