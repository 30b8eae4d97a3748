"""One build at a time per project: the build lock, its probe, and the platform without flock."""

from __future__ import annotations

from pathlib import Path

import pytest

from packer.build.buildlock import LOCK_NAME, BuildRunningError, build_lock, build_running


def test_a_second_build_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    assert not build_running(tmp_path)
    assert not (tmp_path / LOCK_NAME).exists()  # the probe creates nothing
    with build_lock(tmp_path):
        assert build_running(tmp_path)
        with pytest.raises(BuildRunningError, match="another build of this project is running"
                           ), build_lock(tmp_path):
            pass
    assert not build_running(tmp_path)


def test_without_flock_there_is_no_build_lock_and_none_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with build_lock(tmp_path):  # held with flock, as on Linux
        monkeypatch.setattr("packer.build.buildlock.sys.platform", "win32")
        assert not build_running(tmp_path)
        with build_lock(tmp_path):  # not refused: Windows has no flock to refuse with
            pass
