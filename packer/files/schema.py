"""Write (or check) the JSON Schema of the event envelope: `python -m packer.files.schema PATH`.

The schema is generated from packer.lane.events.PackerEvent, so it cannot drift from the model; the
committed copy is docs/events.schema.json, and a test fails when it is out of date.
`--check` exits 1 (and writes nothing) when PATH differs from what the model generates.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from packer.files.atomic import atomic_write_bytes
from packer.lane.events import event_json_schema


def render_event_schema() -> bytes:
    """The schema as stable, diffable bytes (sorted keys, two-space indent, final newline)."""
    text = json.dumps(event_json_schema(), indent=2, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m packer.files.schema", description=__doc__)
    parser.add_argument("path", type=Path, help="where the schema goes, e.g. "
                        "docs/events.schema.json; `-` prints it")
    parser.add_argument("--check", action="store_true",
                        help="only compare: exit 1 when PATH is out of date")
    args = parser.parse_args(argv)
    wanted = render_event_schema()
    if str(args.path) == "-":
        sys.stdout.write(wanted.decode("utf-8"))
        return 0
    if args.check:
        try:
            current = args.path.read_bytes()
        except OSError:
            current = b""
        if current != wanted:
            print(f"{args.path} is out of date: run `python -m packer.files.schema {args.path}`",
                  file=sys.stderr)
            return 1
        return 0
    atomic_write_bytes(args.path, wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
