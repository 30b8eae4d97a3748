"""Fault injection for tests: kill or fail a build at a named step, deterministically.

`PROMETEU_PACKER_FAULT=<step>[:<n>][:kill|raise|sigint|sigterm]` makes the n-th arrival (default
1st) at `<step>` either SIGKILL the process (default; the crash tests), raise `InjectedFault`,
send the process SIGINT or SIGTERM (as Ctrl+C or `kill` would, at exactly that point), or
`stall` there until the build is cancelled (a build that a test cancels from outside, e.g.
the Studio's build process through the CLI's SIGTERM). Read
once per build from the environment; when unset, `reached` is a no-op. Steps: see the calls to
`faults.reached(...)` in packer/build (e.g. `check`, `encode`, `write`, `staged`, `committed`,
`promote:assets.pa`, `promoted`, `cached`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

from packer.lane.cancellation import CancellationToken

ENV_VAR = "PROMETEU_PACKER_FAULT"


class InjectedFault(RuntimeError):
    """The failure a test asked for."""


class Faults:
    __slots__ = ("_action", "_count", "_nth", "_step", "_token")

    def __init__(self, spec: str | None, token: CancellationToken | None = None) -> None:
        self._token = token
        self._step: str | None = None
        self._nth = 1
        self._action = "kill"
        self._count = 0
        if not spec:
            return
        parts = spec.split(":")
        if parts[-1] in {"kill", "raise", "sigint", "sigterm", "stall"}:
            self._action = parts.pop()
        if len(parts) > 1 and parts[-1].isdigit():
            self._nth = int(parts.pop())
        self._step = ":".join(parts)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ,
                         token: CancellationToken | None = None) -> Faults:
        return cls(environ.get(ENV_VAR), token)

    def watches(self, step: str) -> bool:
        """Whether `reached(step)` may do anything (a loop may then skip calling it per item)."""
        return self._step == step

    def reached(self, step: str) -> None:
        if self._step is None or step != self._step:
            return
        self._count += 1
        if self._count != self._nth:
            return
        if self._action == "raise":
            raise InjectedFault(f"injected failure at {step} #{self._nth}")
        if self._action == "stall":
            if self._token is None:
                raise InjectedFault(f"a stall at {step} needs the build's token")
            self._token.wait()
            return
        if self._action in {"sigint", "sigterm"}:
            os.kill(os.getpid(), signal.SIGINT if self._action == "sigint" else signal.SIGTERM)
            return
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
