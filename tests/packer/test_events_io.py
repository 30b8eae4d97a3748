"""Events as JSON lines: one per line, read back skipping blank lines; and as plain dicts."""

from __future__ import annotations

import io

from packer.lane.events import (
    EventKind,
    Outcome,
    PackerEvent,
    dump_events_jsonl,
    event_to_dict,
    read_event_lines,
)
from packer.lane.operation import Operation
from packer.lane.sinks import ListSink


def two_events() -> list[PackerEvent]:
    sink = ListSink()
    op = Operation(sink, project_id="p", operation="scan", operation_id="op-1")
    op.emit(EventKind.ASSET_DISCOVERED, "found")
    op.finish(EventKind.DIAGNOSTICS_UPDATED, Outcome.SUCCEEDED, "done")
    return sink.events


def test_events_written_as_json_lines_read_back_the_same_blank_lines_skipped() -> None:
    events = two_events()
    stream = io.StringIO()
    dump_events_jsonl(events, stream)
    text = stream.getvalue()
    assert text.count("\n") == 2 and text.endswith("\n")
    lines = text.splitlines(keepends=True)
    assert list(read_event_lines(["\n", lines[0], "   \n", lines[1]])) == events


def test_an_event_as_a_dict_is_its_json() -> None:
    first = two_events()[0]
    as_dict = event_to_dict(first)
    assert as_dict["kind"] == "asset_discovered" and as_dict["sequence"] == 1
    assert as_dict["operation_id"] == "op-1" and as_dict["summary"] == "found"
    assert isinstance(as_dict["timestamp"], str)
