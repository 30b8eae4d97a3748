"""Frozen pydantic models made from values already typed and checked, without `model_construct`.

`model_construct` walks every field (aliases, defaults) per call: ≈ 8-10 µs for an 11-field
record, 10k of them per scan and as many build outcomes per build. A model that declares no
alias, private attribute or post-init hook and is given every field needs only what
`model_construct` ends with: its `__dict__`, its fields set, no extra, no private values.
`trusted_maker` checks that once per model class (else it falls back to `model_construct`);
tests/packer/test_trusted_models.py pins the result equal to `model_construct`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_setattr = object.__setattr__


def trusted_maker(cls: type[M], fields_set: set[str]) -> Callable[..., M]:
    """`lambda **values: cls.model_construct(_fields_set=fields_set, **values)` for `values`
    naming every field of `cls` (in its declared order), the fast way when `cls` allows."""
    fields = cls.model_fields
    plain = (
        not cls.__pydantic_post_init__ and not cls.__private_attributes__
        and not cls.__pydantic_root_model__ and cls.model_config.get("extra") != "allow"
        and all(f.alias is None and f.validation_alias is None for f in fields.values())
    )
    if not plain:
        def construct(**values: Any) -> M:
            return cls.model_construct(_fields_set=fields_set, **values)
        return construct
    new = cls.__new__

    def make(**values: Any) -> M:
        model = new(cls)
        _setattr(model, "__dict__", values)
        _setattr(model, "__pydantic_fields_set__", fields_set)
        _setattr(model, "__pydantic_extra__", None)
        _setattr(model, "__pydantic_private__", None)
        return model

    return make
