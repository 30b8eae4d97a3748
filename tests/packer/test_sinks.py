"""The packer's own event sinks: fan-out to several consumers, and the list kept for tests."""

from __future__ import annotations

import io

from packer.lane.events import EventKind, Outcome, read_event_lines
from packer.lane.operation import Operation
from packer.lane.sinks import FanOutSink, JsonLinesSink, ListSink, NullSink, sink_wants_events


def test_fan_out_gives_every_event_to_every_sink_in_order() -> None:
    first, second = ListSink(), ListSink()
    op = Operation(FanOutSink(first, NullSink(), second), project_id="p", operation="scan")
    op.emit(EventKind.ASSET_DISCOVERED, "found")
    op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    assert first.events == second.events
    assert [e.sequence for e in first.events] == [1, 2]


def test_fan_out_wants_events_when_any_of_its_sinks_does() -> None:
    assert sink_wants_events(FanOutSink(NullSink(), ListSink()))
    assert not sink_wants_events(FanOutSink(NullSink(), NullSink()))


def test_kinds_can_be_read_for_one_operation() -> None:
    sink = ListSink()
    scan = Operation(sink, project_id="p", operation="scan", operation_id="scan-1")
    build = Operation(sink, project_id="p", operation="build", operation_id="build-1")
    scan.emit(EventKind.ASSET_DISCOVERED, "found")
    build.finish(EventKind.BUILD_FINISHED, Outcome.SUCCEEDED, "built")
    scan.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    assert sink.kinds("scan-1") == ["asset_discovered", "diagnostics_updated"]
    assert sink.kinds("build-1") == ["build_finished"]
    assert sink.kinds() == ["asset_discovered", "build_finished", "diagnostics_updated"]


def test_json_lines_reach_the_reader_one_by_one() -> None:
    # A reader at the other end of a pipe (the Studio's build process) must see each event
    # as it is published, not when a buffer fills or the operation ends.
    class Stream(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.flushed: list[int] = []

        def flush(self) -> None:
            self.flushed.append(self.getvalue().count("\n"))

    stream = Stream()
    op = Operation(JsonLinesSink(stream), project_id="p", operation="scan")
    op.emit(EventKind.ASSET_DISCOVERED, "found")
    op.emit(EventKind.ASSET_DISCOVERED, "found again")
    op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    assert stream.flushed == [1, 2, 3]
    assert [e.summary for e in read_event_lines(stream.getvalue().splitlines())] == [
        "found", "found again", "done"]
