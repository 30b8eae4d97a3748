"""The Logs panel under a stream of packer events: one append per delivery, a bounded length."""

from __future__ import annotations

import math
from pathlib import Path

from pytestqt.qtbot import QtBot

from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind
from studio.app import StudioApp
from studio.shell.logs_panel import MAX_LINES, LogsPanel
from tests.studio.helpers import open_and_list
from tests.studio.lane_events import event, finished
from tests.studio.synthetic import make_raw_project


def test_a_delivery_of_many_events_is_one_append_to_the_logs(
    qtbot: QtBot, studio: StudioApp, tmp_path: Path
) -> None:
    window = open_and_list(qtbot, studio, make_raw_project(tmp_path / "p", registered=2).root)
    appended: list[str] = []
    real_append = window.logs.text.appendPlainText

    def spy(text: str) -> None:
        appended.append(text)
        real_append(text)

    window.logs.text.appendPlainText = spy  # type: ignore[method-assign]
    count = 300
    sink = studio.lane.open_sink("a flood", CancellationToken())
    for seq in range(1, count):
        sink.publish(event("op-flood", seq, EventKind.CACHE_MISS, operation="build",
                           summary=f"line {seq}"))
    sink.publish(finished("op-flood", count, operation="build", summary="flood done"))
    sink.close()
    studio.lane.drain_now()
    qtbot.waitUntil(lambda: "flood done" in window.logs.contents())
    # One append per chunk the lane delivers, not one per event.
    assert len(appended) <= math.ceil(count / studio.lane.CHUNK)
    contents = window.logs.contents()
    assert all(f"[build] line {seq}" in contents for seq in (1, 150, count - 1))


def test_the_logs_keep_only_the_newest_lines(qtbot: QtBot) -> None:
    logs = LogsPanel()
    qtbot.addWidget(logs)
    logs.log_lines([f"message {i}" for i in range(MAX_LINES + 700)])
    logs.log("the newest")
    assert logs.line_count() == MAX_LINES
    lines = logs.contents().splitlines()
    assert lines[-1].endswith("the newest")
    assert lines[0].endswith(f"message {701}")
