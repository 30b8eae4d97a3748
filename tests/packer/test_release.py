"""release_in_slices: a build's working state is freed a slice at a time beside other threads
(the GIL can change hands between slices), at once when alone; all of it is freed either way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from packer.build import build, runner
from packer.lane.release import SLICE, release_in_slices
from tests.packer.build_support import add_raw, new_project


class Watched:
    """Records how many items its container still held when it was freed."""

    def __init__(self, container: list[Any] | dict[Any, Any], seen: list[int]) -> None:
        self.container = container
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(len(self.container))


@pytest.fixture
def other_thread() -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    yield
    stop.set()
    thread.join()


def filled(count: int, seen: list[int]) -> tuple[list[Any], dict[int, Any]]:
    items: list[Any] = []
    pairs: dict[int, Any] = {}
    items.extend(Watched(items, seen) for _ in range(count))
    pairs.update((n, Watched(pairs, seen)) for n in range(count))
    return items, pairs


def test_beside_other_threads_the_containers_empty_in_slices(other_thread: None) -> None:
    seen: list[int] = []
    items, pairs = filled(3 * SLICE, seen)
    kept = items[0]
    release_in_slices(items, None, pairs)
    assert items == [] and pairs == {}
    assert len(seen) == 6 * SLICE - 1  # all freed but the one still referenced elsewhere
    assert max(seen) >= SLICE  # some were freed while others still waited their turn
    assert kept.container is items


def test_alone_each_container_is_emptied_in_one_call() -> None:
    seen: list[int] = []
    items, pairs = filled(3 * SLICE, seen)
    release_in_slices(items, pairs)
    assert len(seen) == 6 * SLICE and max(seen) == 0


def test_a_build_leaves_nothing_of_its_working_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other_thread: None
) -> None:
    runs: list[runner._BuildRun] = []
    execute = runner._BuildRun.execute

    def keep(run: runner._BuildRun) -> Any:
        runs.append(run)
        return execute(run)

    monkeypatch.setattr(runner._BuildRun, "execute", keep)
    project = new_project(tmp_path)
    add_raw(project, "raw/a", b"a" * 100)
    add_raw(project, "raw/b", b"b" * 100)
    result = build(project)
    assert result.outcome == "succeeded" and result.asset_count == 2
    [run] = runs
    assert run.built == [] and run.seen == {} and run.selection is None


def test_a_process_that_ends_without_teardown_keeps_what_is_released(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The command line ends with os._exit right after its command: freeing is wasted time.
    from packer.lane import release

    monkeypatch.setattr(release._UntilExit, "keeping", False)
    monkeypatch.setattr(release._UntilExit, "kept", [])
    release.keep_released_until_exit()
    items, pairs = list(range(10)), {1: 2}
    release_in_slices(items, None, pairs)
    assert items == list(range(10)) and pairs == {1: 2}
    assert release._UntilExit.kept == [items, pairs]
