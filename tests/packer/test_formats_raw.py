"""RAW/bytes_v1: the payload is the input's bytes unchanged; exactly one input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from packer.formats import FormatError, pipelines, validate_format
from packer.formats.raw import RAW_PIPELINE
from packer.lane.cancellation import CancellationToken, OperationCancelled
from tests.packer.formats_support import declaration


def test_every_format_has_a_registered_pipeline() -> None:
    assert RAW_PIPELINE is pipelines()["RAW/bytes_v1"]


def test_payload_is_the_input_bytes_unchanged(tmp_path: Path) -> None:
    data = bytes(range(256)) * 3 + b"\x00\xff"
    (tmp_path / "level.bin").write_bytes(data)
    decl = declaration("raw", {"data": ["level.bin"]})
    assert validate_format(decl, tmp_path, root="data/level1", asset_id=3) == []
    encoded = RAW_PIPELINE.encode(decl, tmp_path, CancellationToken())
    assert encoded.payload == data
    assert encoded.decoded_size == len(data)
    assert encoded.metadata == {}


def test_empty_file_is_a_valid_raw_asset(tmp_path: Path) -> None:
    (tmp_path / "empty.bin").write_bytes(b"")
    encoded = RAW_PIPELINE.encode(
        declaration("raw", {"data": ["empty.bin"]}), tmp_path, CancellationToken()
    )
    assert (encoded.payload, encoded.decoded_size) == (b"", 0)


@pytest.mark.parametrize("inputs", [
    {"data": []},
    {"data": ["a.bin", "b.bin"]},
    {},
    {"data": ["a.bin"], "extra": ["b.bin"]},
])
def test_input_count_other_than_one_is_pk140(tmp_path: Path, inputs: dict[str, list[str]]) -> None:
    (tmp_path / "a.bin").write_bytes(b"a")
    (tmp_path / "b.bin").write_bytes(b"b")
    decl = declaration("raw", inputs)
    found = RAW_PIPELINE.validate(decl, tmp_path, root="data/x", asset_id=7)
    assert found and {d.code for d in found} == {"PK140"}
    assert all(d.root == "data/x" and d.asset_id == 7 and d.blocking for d in found)
    with pytest.raises(FormatError) as caught:
        RAW_PIPELINE.encode(decl, tmp_path, CancellationToken())
    assert {d.code for d in caught.value.diagnostics} == {"PK140"}


def test_validate_leaves_missing_inputs_to_the_scan(tmp_path: Path) -> None:
    decl = declaration("raw", {"data": ["gone.bin"]})
    assert RAW_PIPELINE.validate(decl, tmp_path, root="r", asset_id=None) == []
    with pytest.raises(FormatError) as caught:
        RAW_PIPELINE.encode(decl, tmp_path, CancellationToken())
    assert [d.code for d in caught.value.diagnostics] == ["PK106"]
    assert caught.value.diagnostics[0].file == "gone.bin"


def test_input_escaping_the_root_is_never_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"secret")
    os.symlink(tmp_path / "secret.bin", root / "link.bin")
    for path in ("../secret.bin", "link.bin", "/etc/passwd"):
        with pytest.raises(FormatError) as caught:
            RAW_PIPELINE.encode(declaration("raw", {"data": [path]}), root, CancellationToken())
        assert [d.code for d in caught.value.diagnostics] == ["PK107"]


def test_directory_input_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(FormatError) as caught:
        RAW_PIPELINE.encode(declaration("raw", {"data": ["folder"]}), tmp_path,
                            CancellationToken())
    assert [d.code for d in caught.value.diagnostics] == ["PK114"]


def test_cancelled_token_stops_encoding(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 10)
    token = CancellationToken()
    token.cancel()
    with pytest.raises(OperationCancelled):
        RAW_PIPELINE.encode(declaration("raw", {"data": ["big.bin"]}), tmp_path, token)


def test_root_label_is_relative_to_the_assets_folder(tmp_path: Path) -> None:
    root = tmp_path / "assets" / "data" / "level1"
    root.mkdir(parents=True)
    (tmp_path / "assets" / ".prometeu").mkdir()
    with pytest.raises(FormatError) as caught:
        RAW_PIPELINE.encode(declaration("raw", {"data": ["nope.bin"]}), root, CancellationToken())
    assert caught.value.diagnostics[0].root == "data/level1"


def test_a_file_that_grew_after_the_stat_is_encoded_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "level.bin"
    target.write_bytes(b"a" * 10)
    real_lstat = os.lstat

    def stat_then_grow(path: str | os.PathLike[str], *args: object, **kwargs: object) -> object:
        status = real_lstat(path, *args, **kwargs)  # type: ignore[arg-type]
        if os.fspath(path).endswith("level.bin"):
            with open(target, "ab") as grow:
                grow.write(b"b" * 200_000)
        return status

    # the status the read starts from is the lstat of the walk down to the input
    monkeypatch.setattr("packer.files.paths.os.lstat", stat_then_grow)
    encoded = RAW_PIPELINE.encode(declaration("raw", {"data": ["level.bin"]}), tmp_path,
                                  CancellationToken())
    assert encoded.payload == b"a" * 10 + b"b" * 200_000
