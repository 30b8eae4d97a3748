"""`cache_outcome` builds exactly what pydantic's `model_construct` (and validation) would."""

from __future__ import annotations

import pickle

import pydantic
import pytest

from packer.build.result import AssetCacheOutcome, cache_outcome


@pytest.mark.parametrize("values", [
    (7, True, None, None),
    (12, False, "input_changed", "data.bin changed"),
])
def test_a_cache_outcome_is_a_constructed_model(
    values: tuple[int, bool, str | None, str | None],
) -> None:
    asset_id, hit, reason, explanation = values
    made = cache_outcome(asset_id, hit, reason, explanation)
    constructed = AssetCacheOutcome.model_construct(
        asset_id=asset_id, hit=hit, reason=reason, explanation=explanation)
    validated = AssetCacheOutcome(asset_id=asset_id, hit=hit, reason=reason,
                                  explanation=explanation)
    assert type(made) is AssetCacheOutcome
    for other in (constructed, validated):
        assert made == other and other == made
        assert made.__dict__ == other.__dict__
        assert made.model_fields_set == other.model_fields_set
        assert made.__pydantic_extra__ == other.__pydantic_extra__
        assert made.__pydantic_private__ == other.__pydantic_private__
        assert made.model_dump_json() == other.model_dump_json()
        assert hash(made) == hash(other)  # frozen models hash their fields
        assert repr(made) == repr(other)
    assert pickle.loads(pickle.dumps(made)) == made
    copied = made.model_copy(update={"hit": not hit})
    assert copied.hit is not hit and made.hit is hit
    with pytest.raises(pydantic.ValidationError):
        made.hit = not hit  # type: ignore[misc]
