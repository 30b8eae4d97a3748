"""`read_to_end`: every read of an input or a project file asks for about its stat'ed size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from packer.files.safe_read import NotRegularFileError, read_regular_stat, read_to_end
from packer.lane.cancellation import CancellationToken, OperationCancelled


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, (1 << 16) + 3, (1 << 20) + 7, 3 << 20])
@pytest.mark.parametrize("hint_delta", [0, -1, -5000, 1])
def test_an_input_is_read_whole_whatever_size_it_had_when_stat_ed(
    tmp_path: Path, size: int, hint_delta: int
) -> None:
    # The hint is the size the scan saw; a file that grew (or shrank) since is still read to
    # its end, across the 1 MB chunks and the small probe after a short read.
    data = os.urandom(size)
    (tmp_path / "blob.bin").write_bytes(data)
    fd = os.open(tmp_path / "blob.bin", os.O_RDONLY)
    try:
        assert read_to_end(fd, max(size + hint_delta, 0)) == data
    finally:
        os.close(fd)


def test_cancelling_between_chunks_stops_a_long_read(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * (3 << 20))
    token = CancellationToken()
    fd = os.open(tmp_path / "big.bin", os.O_RDONLY)
    reads = 0
    real_read = os.read

    def read_then_cancel(handle: int, count: int) -> bytes:
        nonlocal reads
        reads += 1
        token.cancel()
        return real_read(handle, count)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("packer.files.safe_read.os.read", read_then_cancel)
            with pytest.raises(OperationCancelled):
                read_to_end(fd, 0, between_chunks=token.raise_if_cancelled)
    finally:
        os.close(fd)
    assert reads == 1


@pytest.mark.parametrize("size", [0, 9, 10, 11, 70_000])
@pytest.mark.parametrize("hint", [0, 5, 10, 100_000])
def test_a_limit_stops_the_read_one_byte_past_it(tmp_path: Path, size: int, hint: int) -> None:
    data = os.urandom(size)
    (tmp_path / "f").write_bytes(data)
    fd = os.open(tmp_path / "f", os.O_RDONLY)
    try:
        assert read_to_end(fd, hint, limit=10) == data[:11]
    finally:
        os.close(fd)


def test_a_file_that_grows_past_the_limit_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "asset.json"
    target.write_bytes(b"{}")
    real_fstat = os.fstat
    calls = 0

    def fstat_then_grow(fd: int) -> os.stat_result:
        nonlocal calls
        calls += 1
        status = real_fstat(fd)
        if calls == 1:  # the type and size check has seen 2 bytes: it grows before the read
            with open(target, "ab") as grow:
                grow.write(b" " * 100)
        return status

    monkeypatch.setattr("packer.files.safe_read.os.fstat", fstat_then_grow)
    with pytest.raises(NotRegularFileError, match="more than the 50 bytes allowed"):
        read_regular_stat(target, limit=50)


@pytest.mark.parametrize(("size", "hint", "expected_reads"), [
    (2000, 2000, 1),  # the stat'ed size: the short read is the end, no read to find it
    (2000, 2500, 2),  # shrank since stat-ed: one more read finds the end
    (0, 0, 1),
])
def test_a_file_at_its_stat_ed_size_is_read_in_one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, hint: int, expected_reads: int
) -> None:
    data = os.urandom(size)
    (tmp_path / "tile.png").write_bytes(data)
    reads = 0
    real_read = os.read

    def counting_read(handle: int, count: int) -> bytes:
        nonlocal reads
        reads += 1
        return real_read(handle, count)

    monkeypatch.setattr("packer.files.safe_read.os.read", counting_read)
    fd = os.open(tmp_path / "tile.png", os.O_RDONLY)
    try:
        assert read_to_end(fd, hint) == data
    finally:
        os.close(fd)
    assert reads == expected_reads
