"""The Logs panel under a stream of packer events: one append per delivery, a bounded length."""

from __future__ import annotations

import math
from pathlib import Path

from pytestqt.qtbot import QtBot

from packer.lane.cancellation import CancellationToken
from packer.lane.events import EventKind
from studio.app import StudioApp
from studio.shell.logs_panel import FLUSH_MS, MAX_LINES, LogsPanel
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


def test_a_hidden_logs_panel_appends_when_shown_and_in_order(qtbot: QtBot) -> None:
    logs = LogsPanel()
    qtbot.addWidget(logs)
    appended: list[str] = []
    real_append = logs.text.appendPlainText

    def spy(text: str) -> None:
        appended.append(text)
        real_append(text)

    logs.text.appendPlainText = spy  # type: ignore[method-assign]
    logs.log_lines(["first", "second"])
    logs.log("third")
    assert logs._flush_timer.isActive()
    logs._flush_timer.timeout.emit()  # the flush is due: a hidden panel lets the lines wait
    assert appended == []
    logs.show()
    qtbot.waitUntil(lambda: bool(appended))
    assert len(appended) == 1  # the three lines in one append
    assert [line.split("  ", 1)[1] for line in logs.contents().splitlines()] == [
        "first", "second", "third"]


def test_a_visible_logs_panel_appends_within_the_flush_interval(qtbot: QtBot) -> None:
    logs = LogsPanel()
    qtbot.addWidget(logs)
    logs.show()
    logs.log("now")
    qtbot.waitUntil(lambda: logs.text.blockCount() == 1 and "now" in logs.text.toPlainText(),
                    timeout=FLUSH_MS * 8)
