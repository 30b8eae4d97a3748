"""The build cache's decision for one asset, branch by branch: which reason, which explanation,
and which inputs are hashed (the cheap hints are trusted only outside the racy window); and what
loading a cache that cannot be used says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packer.build.cache import (
    RACY_WINDOW_NS,
    CachedInput,
    CachedPayload,
    CacheEntry,
    Decision,
    InputFacts,
    MissReason,
    _inputs_change,
    _settings_change,
    decide,
    load_cache,
    save_cache,
    settings_key,
)

STARTED = 10 * RACY_WINDOW_NS  # the previous build began reading here
OLD = STARTED - 3 * RACY_WINDOW_NS  # an mtime well before it


def entry(*inputs: tuple[str, str], **changes: object) -> CacheEntry:
    fields: dict[str, object] = {
        "asset_uuid": "u-1", "packer_version": "1.0", "format_version": 3, "settings": "{}",
        "inputs": tuple(CachedInput(role=role, path=path, size=4, mtime_ns=OLD, hash=f"h:{path}")
                        for role, path in inputs),
        "payload": CachedPayload(hash="p", size=1, decoded_size=1), "metadata": {},
    }
    fields.update(changes)
    return CacheEntry.model_validate(fields)


def facts(path: str, *, role: str = "data", size: int = 4, mtime_ns: int = OLD,
          ctime_ns: int = OLD, hash: str | None = None) -> InputFacts:
    return InputFacts(role=role, path=path, size=size, mtime_ns=mtime_ns, ctime_ns=ctime_ns,
                      hash=hash)


class Hasher:
    """hash_input: the content hash a file would have, and which files were read for it."""

    def __init__(self, **changed: str) -> None:
        self.changed = changed
        self.hashed: list[str] = []

    def __call__(self, input_facts: InputFacts) -> str:
        self.hashed.append(input_facts.path)
        return self.changed.get(input_facts.path.replace(".", "_"), f"h:{input_facts.path}")


def run(old: CacheEntry | None, inputs: list[InputFacts], hasher: Hasher | None = None,
        **current: object) -> Decision:
    asked: dict[str, object] = {"asset_uuid": "u-1", "packer_version": "1.0",
                                "format_version": 3, "settings": "{}"}
    asked.update(current)
    return decide(old, inputs=inputs, previous_started_at_ns=STARTED,
                  hash_input=hasher or Hasher(), **asked)  # type: ignore[arg-type]


def test_no_entry_or_another_assets_entry_is_a_new_asset() -> None:
    expected = Decision(MissReason.NEW_ASSET, "no cache entry for this asset")
    assert run(None, []) == expected
    assert run(entry(), [], asset_uuid="u-2") == expected


def test_a_new_packer_or_pipeline_version_says_which_and_from_what() -> None:
    assert run(entry(), [], packer_version="1.1") == Decision(
        MissReason.PACKER_VERSION_CHANGED, "built by packer 1.0, this is 1.1")
    assert run(entry(), [], format_version=4) == Decision(
        MissReason.PACKER_VERSION_CHANGED, "format pipeline version 3 → 4")


def test_changed_settings_name_the_keys() -> None:
    decision = run(entry(settings='{"codec":"raw","format":"a"}'), [],
                   settings='{"codec":"raw","format":"b"}')
    assert decision == Decision(MissReason.SETTINGS_CHANGED, "changed: format")


def test_inputs_that_came_went_or_moved_are_a_miss_before_anything_is_hashed() -> None:
    hasher = Hasher()
    decision = run(entry(("data", "a.bin")), [facts("a.bin"), facts("b.bin")], hasher)
    assert decision == Decision(MissReason.INPUT_ADDED_OR_REMOVED, "added data:b.bin")
    assert run(entry(("data", "a.bin")), [facts("a.bin", role="tiles")]) == Decision(
        MissReason.INPUT_ADDED_OR_REMOVED, "added tiles:a.bin; removed data:a.bin")
    assert hasher.hashed == []


def test_an_old_untouched_input_is_trusted_without_reading_it() -> None:
    hasher = Hasher()
    inputs = [facts("a.bin")]
    assert run(entry(("data", "a.bin")), inputs, hasher) == Decision(
        None, "inputs and settings unchanged")
    assert hasher.hashed == []
    assert inputs[0].hash == "h:a.bin"  # the recorded hash carries over to the new cache


RACY = STARTED - RACY_WINDOW_NS  # the first nanosecond of the racy window


def recorded_at(mtime_ns: int) -> CacheEntry:
    """An entry for `a.bin` recorded with this mtime (the same size as `facts` gives)."""
    old = entry(("data", "a.bin"))
    return old.model_copy(
        update={"inputs": (old.inputs[0].model_copy(update={"mtime_ns": mtime_ns}),)})


@pytest.mark.parametrize(("recorded_mtime", "size", "mtime_ns", "ctime_ns"), [
    (OLD, 5, OLD, OLD),
    (OLD, 4, OLD + 1, OLD),
    # inside the racy window: equal hints may hide a change (coarse timestamps)
    (RACY, 4, RACY, RACY),
    # a write whose mtime was put back still moves the ctime
    (OLD, 4, OLD, RACY),
], ids=["size", "mtime", "mtime-in-racy-window", "ctime-in-racy-window"])
def test_an_input_whose_hints_cannot_be_trusted_is_hashed_and_the_hash_decides(
    recorded_mtime: int, size: int, mtime_ns: int, ctime_ns: int,
) -> None:
    def now() -> InputFacts:
        return facts("a.bin", size=size, mtime_ns=mtime_ns, ctime_ns=ctime_ns)

    same = Hasher()
    assert run(recorded_at(recorded_mtime), [now()], same).hit
    assert same.hashed == ["a.bin"]
    changed = Hasher(a_bin="h:other")
    assert run(recorded_at(recorded_mtime), [now()], changed) == Decision(
        MissReason.INPUT_CONTENT_CHANGED, "content changed: a.bin")


def test_the_last_nanosecond_before_the_racy_window_is_still_trusted() -> None:
    edge = RACY - 1
    hasher = Hasher()
    assert run(recorded_at(edge), [facts("a.bin", mtime_ns=edge, ctime_ns=edge)], hasher).hit
    assert hasher.hashed == []


def test_a_hash_already_known_is_not_computed_again() -> None:
    hasher = Hasher()
    decision = run(entry(("data", "a.bin")), [facts("a.bin", size=5, hash="h:new")], hasher)
    assert decision == Decision(MissReason.INPUT_CONTENT_CHANGED, "content changed: a.bin")
    assert hasher.hashed == []


def test_a_content_change_names_three_inputs_and_counts_the_rest() -> None:
    names = [f"{i}.bin" for i in range(5)]
    old = entry(*[("data", n) for n in names])
    every = Hasher(**{n.replace(".", "_"): "h:other" for n in names})
    assert run(old, [facts(n, size=5) for n in names], every) == Decision(
        MissReason.INPUT_CONTENT_CHANGED, "content changed: 0.bin, 1.bin, 2.bin and 2 more")
    three = Hasher(**{n.replace(".", "_"): "h:other" for n in names[:3]})
    assert run(old, [facts(n, size=5) for n in names], three) == Decision(
        MissReason.INPUT_CONTENT_CHANGED, "content changed: 0.bin, 1.bin, 2.bin")


def test_inputs_that_came_and_went_are_named_up_to_three() -> None:
    four = [("t", f"{i}.png") for i in range(4)]
    assert _inputs_change([], four) == "added t:0.png, t:1.png, t:2.png…"
    assert _inputs_change(four, []) == "removed t:0.png, t:1.png, t:2.png…"
    assert _inputs_change(four[:3], []) == "removed t:0.png, t:1.png, t:2.png"


def test_four_changed_inputs_are_three_names_and_one_more() -> None:
    names = [f"{i}.bin" for i in range(4)]
    every = Hasher(**{n.replace(".", "_"): "h:other" for n in names})
    assert run(entry(*[("data", n) for n in names]), [facts(n, size=5) for n in names],
               every) == Decision(MissReason.INPUT_CONTENT_CHANGED,
                                  "content changed: 0.bin, 1.bin, 2.bin and 1 more")


def test_a_settings_miss_names_each_setting_that_changed() -> None:
    before = settings_key("raw", "bytes", "none", {"align": 4}, {"level": 1})
    after = settings_key("glyph", "tiles", "lz4", {"align": 8}, {"level": 1})
    assert _settings_change(before, after) == "changed: codec, format, metadata, type"


def test_a_cache_too_large_or_invalid_says_why_and_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.json"
    save_cache(path, 1, None, iter([(5, entry(("data", "a.bin")))]))
    assert load_cache(path).cache is not None
    monkeypatch.setattr("packer.build.cache.MAX_STATE_FILE_BYTES", 100)
    assert load_cache(path).problem == (
        f"cache.json cannot be read: is {path.stat().st_size:,} bytes, more than the 100 allowed")
    monkeypatch.undo()
    data = json.loads(path.read_bytes())
    del data["assets"]["5"]["payload"]
    path.write_text(json.dumps(data))
    assert load_cache(path).problem == "cache.json is invalid at assets.5.payload: Field required"
    path.write_text("[]")
    assert (load_cache(path).problem or "").startswith("cache.json is invalid at (top level): ")


def test_a_cache_only_pythons_json_reads_is_still_used_with_its_digest(tmp_path: Path) -> None:
    # A lone surrogate escape (a file name that is not UTF-8 can put one there): pydantic's JSON
    # parser refuses it, json.loads does not, and the cache is still good.
    from packer.build.hashing import hash_bytes

    path = tmp_path / "cache.json"
    raw = json.dumps({"schema_version": 2, "started_at_ns": 1, "assets": {},
                      "artifact": {"header_hash": "\ud800", "size": 1}}).encode()
    path.write_bytes(raw)
    loaded = load_cache(path)
    assert loaded.problem is None and loaded.cache is not None
    assert loaded.cache.artifact is not None and loaded.cache.artifact.header_hash == "\ud800"
    assert loaded.digest == hash_bytes(raw)
