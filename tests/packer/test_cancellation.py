"""The cancellation token: set once from any thread; the first reason given is the one kept."""

from __future__ import annotations

import pytest

from packer.lane.cancellation import CancellationToken, OperationCancelled


def test_a_new_token_is_not_cancelled_and_has_no_reason() -> None:
    token = CancellationToken()
    assert not token.cancelled and token.reason is None
    token.raise_if_cancelled()  # does not raise
    assert token.wait(0.001) is False


def test_the_first_reason_given_is_kept() -> None:
    token = CancellationToken()
    token.cancel("SIGINT")
    token.cancel("SIGTERM")
    token.cancel()
    assert token.cancelled and token.reason == "SIGINT"
    with pytest.raises(OperationCancelled) as raised:
        token.raise_if_cancelled()
    assert str(raised.value) == "the operation was cancelled: SIGINT"


def test_a_cancel_without_reason_is_not_given_one_later() -> None:
    token = CancellationToken()
    token.cancel()
    token.cancel("SIGTERM")  # too late: the operation was already told to stop
    assert token.reason is None
    with pytest.raises(OperationCancelled) as raised:
        token.raise_if_cancelled()
    assert str(raised.value) == "the operation was cancelled"
