"""RootIndex answers exactly what looking at every root answered (the quadratic way it replaced)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from packer.workspace.roots import RootIndex

NAMES = st.sampled_from(["a", "b", "a-b", "a.b", "ab", "z"])
ROOTS = st.lists(NAMES, min_size=0, max_size=4).map("/".join)


def nested_by_scan(root: str, roots: set[str]) -> list[str]:
    prefix = f"{root}/" if root else ""
    return sorted(r for r in roots if r != root and r.startswith(prefix))


def owner_by_scan(path: str, roots: set[str]) -> str | None:
    best: str | None = None
    for root in roots:
        if (not root or path.startswith(f"{root}/")) and (best is None or len(root) > len(best)):
            best = root
    return best


@given(st.sets(ROOTS, max_size=12), ROOTS)
def test_nested_matches_a_scan_of_every_root(roots: set[str], root: str) -> None:
    assert RootIndex(roots).nested(root) == nested_by_scan(root, roots)


@given(st.sets(ROOTS, max_size=12), ROOTS.filter(bool), NAMES)
def test_owner_matches_a_scan_of_every_root(roots: set[str], folder: str, name: str) -> None:
    path = f"{folder}/{name}"
    assert RootIndex(roots).owner(path) == owner_by_scan(path, roots)


def test_siblings_sharing_a_prefix_are_not_nested() -> None:
    index = RootIndex(["a", "a-b", "a/b", "a/b/c", "ab"])
    assert index.nested("a") == ["a/b", "a/b/c"]
    assert index.owner("a/b/c/x.png") == "a/b/c"
    assert index.owner("a-b/x.png") == "a-b"
    assert index.owner("q/x.png") is None
