"""`prometeu-studio [PROJECT]` and `python -m studio [PROJECT]`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# A pure-Python worker holds the GIL for up to the switch interval (5 ms by default), which shows
# as GUI lateness; 1 ms keeps timers and input prompt (docs/benchmarks.md, "GUI smoothness").
GUI_SWITCH_INTERVAL_S = 0.001


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="prometeu-studio",
        description="Prometeu Studio. With no PROJECT: the launcher (recent projects), or on a "
        "first start a writable copy of the bundled sample project.",
    )
    parser.add_argument("project", nargs="?", type=Path, help="a project folder to open")
    parser.add_argument(
        "--replay", type=Path, metavar="EVENTS.jsonl",
        help="feed a JSON-lines event log (prometeu-packer ... --events jsonl) into the Activity "
        "panel once a project is open",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)

    from PySide6.QtWidgets import QApplication

    from studio.app import StudioApp
    from studio.shell.termination import TerminationSignals

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("Prometeu Studio")
    qapp.setOrganizationName("PROMETEU")
    studio = StudioApp()
    qapp.aboutToQuit.connect(studio.shutdown)
    if args.replay is not None:
        studio.replay_when_open(args.replay.expanduser().resolve())
    termination = TerminationSignals()
    termination.requested.connect(studio.terminate)
    studio.start(args.project.expanduser().resolve() if args.project else None)
    try:
        code = int(qapp.exec())
    finally:
        termination.uninstall()
    if studio.pool.active_thread_count():
        # Work that did not answer its cancel (a thread blocked in a system call cannot be
        # interrupted) would keep the process alive for ever: Qt's thread pool joins its threads
        # at exit. State and history are written by now, so leave without it.
        stuck = ", ".join(studio.stuck_jobs()) or "a worker"
        print(f"prometeu-studio: {stuck} did not stop when cancelled; exiting without it",
              file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
