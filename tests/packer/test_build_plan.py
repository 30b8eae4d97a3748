"""The header's integer-only rule: the quick check agrees with the one that names the place."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.build import plan
from packer.build.plan import HeaderValueError, PlannedEntry, check_integers_only, make_header

_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=3) | st.floats() | st.just(
    b"bytes")
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_the_quick_check_passes_exactly_what_the_naming_check_passes(value: Any) -> None:
    try:
        check_integers_only(value, "v")
        passes = True
    except HeaderValueError:
        passes = False
    assert plan._integers_only(value) is passes


@pytest.mark.parametrize("metadata", [{"scale": 1.5}, {"nested": {"list": [1, 2.0]}}, {1: 2}])
def test_a_header_with_a_float_or_a_non_string_key_is_refused_naming_the_asset(
    metadata: dict[str, Any],
) -> None:
    entries = [PlannedEntry(asset_id=n, asset_name=f"a{n}", bank_type="RAW", codec="none",
                            size=1, decoded_size=1, metadata={} if n != 7 else metadata,
                            preload=False) for n in range(1, 10)]
    with pytest.raises(HeaderValueError, match=r"asset_table\[asset_id=7\]"):
        make_header(entries)
