"""An index of asset roots (relative to assets/), built once per snapshot.

"Which roots lie inside this one" and "which root holds this path" were answered by looking at
every root, once per asset: quadratic, and most of `list` at 10,000 assets. Here the first is a
range of a sorted list (every string with a given prefix sorts contiguously) and the second a
walk up the path's parents in a set: O(log n + answers) and O(depth).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable


class RootIndex:
    """A fixed set of asset roots. The root "" (assets/ itself) holds every path."""

    __slots__ = ("_roots", "_sorted")

    def __init__(self, roots: Iterable[str]) -> None:
        self._roots = frozenset(roots)
        self._sorted = sorted(self._roots)

    def __contains__(self, root: object) -> bool:
        return root in self._roots

    def nested(self, root: str) -> list[str]:
        """The roots strictly inside `root`, sorted."""
        prefix = f"{root}/" if root else ""
        found = []
        for index in range(bisect_left(self._sorted, prefix), len(self._sorted)):
            candidate = self._sorted[index]
            if not candidate.startswith(prefix):
                break
            if candidate != root:
                found.append(candidate)
        return found

    def owner(self, path: str) -> str | None:
        """The innermost root holding `path` (a file or folder strictly below it), if any."""
        end = path.rfind("/")
        while end > 0:
            candidate = path[:end]
            if candidate in self._roots:
                return candidate
            end = path.rfind("/", 0, end)
        return "" if "" in self._roots else None
