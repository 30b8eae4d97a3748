"""trusted_maker: the very model `model_construct` makes, for the models built by the thousand."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from packer.build import emit
from packer.build.cache import CachedInput, CachedPayload, CacheEntry, InputFacts
from packer.build.result import AssetCacheOutcome, cache_outcome
from packer.lane.trusted import trusted_maker
from packer.workspace import scan
from packer.workspace.scan import AssetRecord, AssetState


def _same(made: BaseModel, constructed: BaseModel, *, hashable: bool = True) -> None:
    assert type(made) is type(constructed)
    assert made == constructed
    if hashable:  # a frozen model holding a dict is not
        assert hash(made) == hash(constructed)
    assert made.__dict__ == constructed.__dict__
    assert list(made.__dict__) == list(type(made).model_fields)  # the declared order
    assert made.model_fields_set == constructed.model_fields_set
    assert made.__pydantic_extra__ == constructed.__pydantic_extra__
    assert made.__pydantic_private__ == constructed.__pydantic_private__
    assert made.model_dump_json() == constructed.model_dump_json()
    assert repr(made) == repr(constructed)
    assert pickle.loads(pickle.dumps(made)) == made
    with pytest.raises(Exception, match="frozen"):
        made.__setattr__(next(iter(type(made).model_fields)), None)


def test_a_scan_record_is_the_one_model_construct_makes() -> None:
    values: dict[str, Any] = dict(
        root="raw/a", state=AssetState.REGISTERED, asset_id=3, asset_uuid="u",
        included_in_build=True, declaration=None, diagnostics=(), files=("a.bin",),
        anchor_fingerprint=(1, 2, 3, 4, 5), input_stats=((1, 2, 3, 4, 5),),
    )
    made = scan._make_record(**values)
    _same(made, AssetRecord.model_construct(_fields_set=set(AssetRecord.model_fields),
                                            **values))
    assert made.model_copy(update={"files": ()}).files == ()


def test_a_cache_outcome_is_the_one_model_construct_makes() -> None:
    made = cache_outcome(7, False, "forced", "--no-cache")
    _same(made, AssetCacheOutcome.model_construct(
        asset_id=7, hit=False, reason="forced", explanation="--no-cache"))


def test_a_cached_input_is_the_one_model_construct_makes() -> None:
    facts = InputFacts(role="tiles", path="t/0.png", size=12, mtime_ns=34, ctime_ns=56,
                       hash="ab" * 16)
    _same(facts.cached(), CachedInput.model_construct(
        role="tiles", path="t/0.png", size=12, mtime_ns=34, hash="ab" * 16))


def test_an_encoded_assets_cache_entry_is_the_one_model_construct_makes() -> None:
    payload: dict[str, Any] = dict(hash="cd" * 16, size=40, decoded_size=40)
    made_payload = emit._make_payload(**payload)
    _same(made_payload, CachedPayload.model_construct(**payload))
    values: dict[str, Any] = dict(
        asset_uuid="u", packer_version="0.1.0+pa1", format_version=1, settings="{}",
        inputs=(CachedInput.model_construct(role="data", path="d.bin", size=40, mtime_ns=1,
                                            hash="ab" * 16),),
        payload=made_payload, metadata={"k": 1}, tool_metadata={"tiles": [1, 2]},
    )
    _same(emit._make_entry(**values), CacheEntry.model_construct(**values), hashable=False)


class _Aliased(BaseModel):
    model_config = ConfigDict(frozen=True)
    value: int = Field(alias="v")


class _Private(BaseModel):
    model_config = ConfigDict(frozen=True)
    value: int
    _secret: int = PrivateAttr(default=5)


@pytest.mark.parametrize("cls", [_Aliased, _Private])
def test_a_model_the_fast_way_cannot_make_is_made_by_model_construct(
    cls: type[BaseModel],
) -> None:
    make = trusted_maker(cls, {"value"})
    key = "v" if cls is _Aliased else "value"
    made = make(**{key: 1})
    assert made == cls.model_construct(_fields_set={"value"}, **{key: 1})
    assert made.value == 1  # type: ignore[attr-defined]
