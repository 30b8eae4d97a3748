"""Diagnostics for studio_scale --trace (issue 11): where the GUI thread is when it stalls, and
what each details read spends its time on. Prints `# ...` lines on stderr; changes no figure.

- StallSampler: a thread that looks at the GUI thread's stack (sys._current_frames) every 2 ms
  while the probe timer is late by more than `late_ms`, and keeps the innermost project frames
  seen during each stall;
- trace_details(): wraps the parts of Session.load_details' job (the packer read, which path
  it took, the preview) to time each, wall and thread CPU (wall much above CPU = waiting for
  the GIL or a lock).
"""

from __future__ import annotations

import collections
import functools
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any


def _where(frame: Any, depth: int = 8) -> str:
    stack = traceback.extract_stack(frame)[-depth:]
    return " <- ".join(f"{'/'.join(s.filename.split('/')[-2:])}:{s.lineno} {s.name}"
                       for s in reversed(stack))


class StallSampler:
    def __init__(self, last_tick: Callable[[], float], late_ms: float = 30.0) -> None:
        self._last_tick = last_tick
        self._late_s = late_ms / 1000.0
        self._main = threading.main_thread().ident
        self.stacks: collections.Counter[str] = collections.Counter()
        self.other: collections.Counter[str] = collections.Counter()
        self.starved: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        woke = time.perf_counter()
        while not self._stop.wait(0.002):
            now = time.perf_counter()
            starved, woke = now - woke > self._late_s, now
            if starved:
                # This thread could not run either: another thread held the GIL. Where each
                # thread is right after it got it back (the holder, on or just past the call).
                for ident, frame in sys._current_frames().items():
                    if ident != threading.get_ident():
                        name = next((t.name for t in threading.enumerate()
                                     if t.ident == ident), "?")
                        self.starved[f"[{name}] {_where(frame, 6)}"] += 1
                continue
            if now - self._last_tick() < self._late_s:
                continue
            frames = sys._current_frames()
            main = frames.get(self._main) if self._main is not None else None
            if main is not None:
                self.stacks[_where(main)] += 1
            for ident, frame in frames.items():
                if ident not in (self._main, threading.get_ident()):
                    name = next((t.name for t in threading.enumerate() if t.ident == ident), "?")
                    self.other[f"[{name}] {_where(frame, 4)}"] += 1

    def report(self, top: int = 12) -> None:
        print("# the sampler itself starved (GIL held elsewhere); every thread just after:",
              file=sys.stderr)
        for where, n in self.starved.most_common(40):
            print(f"#   {n:5d}  {where}", file=sys.stderr)
        print(f"# stall samples (GUI thread, late > {self._late_s * 1000:.0f} ms, every 2 ms):",
              file=sys.stderr)
        for where, n in self.stacks.most_common(top):
            print(f"#   {n:5d}  {where}", file=sys.stderr)
        print("# other threads meanwhile:", file=sys.stderr)
        for where, n in self.other.most_common(top):
            print(f"#   {n:5d}  {where}", file=sys.stderr)


def _timed(label: str, fn: Callable[..., Any], note: Callable[..., str] | None = None
           ) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            extra = f" {note(*args, **kwargs)}" if note else ""
            print(f"# details {label}: {(time.perf_counter() - wall) * 1000:.1f} ms wall, "
                  f"{(time.thread_time() - cpu) * 1000:.1f} ms cpu at {wall:.3f}{extra}",
                  file=sys.stderr, flush=True)
    return wrapper


def _wrap(module: Any, name: str, label: str,
          note: Callable[..., str] | None = None) -> None:
    setattr(module, name, _timed(label, getattr(module, name), note))


def trace_details() -> None:
    from packer.doctor import one_asset, queries
    from studio.services import session

    _wrap(session, "get_asset_details", "get_asset_details",
          lambda *a, **k: f"index={'None' if k.get('index') is None else 'set'}")
    _wrap(session, "make_preview", "make_preview")
    _wrap(queries, "read_one_asset", "read_one_asset")
    _wrap(queries, "_read_from_snapshot", "_read_from_snapshot (FULL READ)")
    _wrap(one_asset.WorkspaceIndex, "registry", "index.registry")
    _wrap(one_asset, "_duplicates", "_duplicates")
