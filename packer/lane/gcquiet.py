"""Keep the cyclic garbage collector's pauses short while a long operation runs.

A long operation (a build of 10k–30k assets) keeps tens of thousands of container objects alive
until it ends. CPython's full (generation-2) collection re-scans every one of them each time
the old generation grows by a quarter: measured at 10k assets, 1.2 s of a 7.3 s build and
single pauses of 250 ms, which hold the GIL and so stall the Studio's GUI thread too.

`quiet_gc()` moves the objects that exist when it starts, and later the survivors at each
`checkpoint()`, into the permanent generation (`gc.freeze()`, O(1)), where no collection looks
at them again until the operation ends (`gc.unfreeze()`). Young garbage is still collected
between checkpoints, and objects without cycles are freed by reference counting as always.
The effect is process-wide; nested or concurrent operations share one freeze, and only the
last one out unfreezes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

CHECKPOINT_EVERY = 256  # work items between freezes: bounds what a full collection may scan



class _Quiet:
    """How many operations are inside `quiet_gc()` right now."""

    lock = threading.Lock()
    depth = 0


@contextmanager
def quiet_gc() -> Iterator[None]:
    with _Quiet.lock:
        _Quiet.depth += 1
        gc.freeze()
    try:
        yield
    finally:
        with _Quiet.lock:
            _Quiet.depth -= 1
            if _Quiet.depth == 0:
                gc.unfreeze()


def checkpoint(index: int) -> None:
    """Freeze what survived so far, once every CHECKPOINT_EVERY items (call once per item)."""
    if index % CHECKPOINT_EVERY == 0 and _Quiet.depth > 0:
        gc.freeze()
