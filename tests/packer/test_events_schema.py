"""The committed JSON Schema of the event envelope is the one the model generates, and
docs/events.md documents every kind."""

from __future__ import annotations

from pathlib import Path

from packer.files.schema import main, render_event_schema
from packer.lane.events import EventKind, PackerEvent

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_schema_is_up_to_date() -> None:
    assert (DOCS / "events.schema.json").read_bytes() == render_event_schema(), (
        "run `python -m packer.files.schema docs/events.schema.json`"
    )


def test_schema_check_mode(tmp_path: Path) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text("{}")
    assert main(["--check", str(stale)]) == 1
    assert main([str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0
    assert stale.read_bytes() == render_event_schema()


def test_events_doc_lists_every_kind_and_envelope_field() -> None:
    text = (DOCS / "events.md").read_text(encoding="utf-8")
    for kind in EventKind:
        assert f"| `{kind.value}` |" in text, kind
    for field in PackerEvent.model_fields:
        assert f"| `{field}` |" in text, field
