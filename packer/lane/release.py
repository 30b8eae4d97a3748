"""Free a long operation's working state a slice at a time when other threads share the GIL.

When a full 10k build returns, dropping its working state (the per-asset work items, built
assets, fingerprints) frees hundreds of thousands of objects in one chain of C deallocations:
57-63 ms measured from the command line, during which no other thread runs. In the Studio that
was the worst GUI stall of each build (73-130 ms, at its very end, with no collection inside).
Freed a slice at a time, the interpreter can hand the GIL over between slices.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

SLICE = 256  # items freed per step: a few hundred µs to ~1 ms of deallocation each
# Set by a process that ends right after its command without the interpreter's teardown (the
# command line: packer.cli.entry): what is released is kept here instead, since the process's
# end frees it at no cost (a 10k build's state took ≈ 0.1 s to free, after its last event).
class _UntilExit:
    keeping = False
    kept: ClassVar[list[Any]] = []


def keep_released_until_exit() -> None:
    _UntilExit.keeping = True


def others_may_wait_for_the_gil() -> bool:
    """Another thread is alive (the Studio's GUI, a live progress bar): one long C call would
    hold it up. Alone, as a CLI command runs, the one call is the cheaper way."""
    return threading.active_count() > 1


def release_in_slices(*containers: list[Any] | dict[Any, Any] | None) -> None:
    """Empty each list or dict, a slice at a time, beside other threads; alone (a CLI
    command), in one call each, which is cheaper. Objects still referenced elsewhere live on."""
    if _UntilExit.keeping:
        _UntilExit.kept.extend(c for c in containers if c is not None)
        return
    beside = others_may_wait_for_the_gil()
    for container in containers:
        if container is None:
            continue
        if not beside:
            container.clear()
        elif isinstance(container, list):
            while container:
                del container[-SLICE:]
        else:
            # Key by key (the GIL can change hands between any two); listed once, as
            # re-listing the keys per slice was quadratic.
            for key in reversed(list(container)):
                del container[key]
