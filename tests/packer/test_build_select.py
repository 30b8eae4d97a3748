"""select(): the build set's work items, their settings encoded once per distinct block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from packer.build import check
from packer.build.cache import settings_key
from packer.lane.cancellation import CancellationToken
from packer.workspace.scan import build_snapshot
from tests.packer.build_support import add_glyph, add_raw, new_project


def test_equal_settings_are_encoded_once_and_each_asset_gets_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = new_project(tmp_path)
    for index in range(4):
        add_raw(project, f"raw/r{index}", b"x" * (index + 1))
    add_glyph(project, "glyphs/small", tile_size=8)
    add_glyph(project, "glyphs/big", tile_size=16)
    snapshot = build_snapshot(project)
    calls: list[str] = []

    def counted(*args: Any) -> str:
        calls.append(args[0])
        return settings_key(*args)

    monkeypatch.setattr(check, "settings_key", counted)
    selection = check.select(project, snapshot, CancellationToken())
    assert len(selection.work) == 6
    assert len(calls) == 3  # the raw block (shared by 4), and each glyph bank's own
    for work in selection.work:
        out = work.decl.output
        assert work.settings == settings_key(work.decl.type, out.format, out.codec,
                                             out.metadata, out.pipeline)
        assert work.base == str(project.assets_dir / work.record.root)
