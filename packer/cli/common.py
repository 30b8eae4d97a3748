"""What every `prometeu-packer` subcommand shares: arguments, output channels, exit codes.

A command module (packer/cli/build.py, packer/cli/mutate.py, the core commands in
packer/cli/main.py) exposes `register(subparsers)` and adds its commands through
:func:`add_command`::

    def register(subparsers: argparse._SubParsersAction) -> None:
        parser = add_command(subparsers, "build", "Build build/assets.pa", _run_build)
        parser.add_argument("--full", action="store_true", help="ignore the cache")

    def _run_build(ctx: CommandContext) -> int:
        project = ctx.project                      # opened on first use; exit 2 if not a project
        with ctx.event_sink() as sink:             # jsonl / live progress bar / nothing
            result = build(project, sink=sink)
        if ctx.json_output:
            ctx.write_json(result)                 # a pydantic model or plain JSON value
        else:
            ctx.out.print(f"Built {result.asset_count} assets")
        return EXIT_BLOCKED if result.blocked else EXIT_OK

`add_command(..., project=True)` gives every command the same options and behaviour:

- ``PROJECT`` positional: the project folder, opened with `packer.files.project.open_project` when
  the handler first reads `ctx.project`. A folder that is not a project (or whose prometeu.json is
  invalid) prints the reason on stderr and exits 2.
- ``--json``: the handler writes one machine-readable JSON document on stdout with
  `ctx.write_json`; human text is not printed (`ctx.out` goes to stderr, keep it quiet).
- ``--events jsonl``: `ctx.event_sink()` yields a `packer.lane.sinks.JsonLinesSink` on stdout
  (one JSON object per line, parseable with `packer.lane.events.parse_event_line`), and ALL human
  output (`ctx.out`) moves to stderr. `--json` and `--events` exclude each other (both want stdout).
- Otherwise, when stdout is a terminal, `ctx.event_sink()` yields a sink that draws a live rich
  progress bar from the operation's own `progress_updated` events (latest value per operation;
  rich refreshes ~10 times a second). Elsewhere it yields a `NullSink` (no events are built).

Exit codes: `EXIT_OK` 0 fine, `EXIT_BLOCKED` 1 blocking findings, `EXIT_USAGE` 2 usage error or not
a project (argparse's own usage errors already exit 2). A handler reports a usage problem by
raising :class:`CliError` (message on stderr, exit 2 unless told otherwise); any
`packer.errors.PackerError` that escapes a handler is reported the same way, and an `OSError`
as a message with exit 1 (never a traceback). Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

from packer.cli.interrupts import Interrupts
from packer.errors import PackerError
from packer.lane.cancellation import CancellationToken, OperationCancelled

# rich, pydantic and the packer's models are imported where they are used, so that parsing the
# command line costs little and `--json` output never loads rich's renderers.
if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from packer.files.project import Project
    from packer.lane.events import PackerEvent
    from packer.lane.sinks import EventSink

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a tool the closed pipe ended

Handler = Callable[["CommandContext"], int]


class CliError(Exception):
    """A problem the user can fix by calling the command differently; printed without traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_common_arguments(
    parser: argparse.ArgumentParser, *, project: bool = True, events: bool = True
) -> None:
    """PROJECT (optional for commands that need none), --json and --events (for commands that
    run an operation: one that publishes no events does not offer it)."""
    if project:
        parser.add_argument("project", metavar="PROJECT", type=Path,
                            help="the project folder (the one holding prometeu.json)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", dest="json_output",
                        help="print one machine-readable JSON document on stdout")
    if events:
        output.add_argument("--events", choices=["jsonl"], default=None,
                            help="write the event stream on stdout, one JSON object per line; "
                            "human text goes to stderr")


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    handler: Handler,
    *,
    project: bool = True,
    events: bool = True,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """Add a subcommand with the shared options; `handler(ctx)` returns the exit code."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help_text, description=description or help_text,
    )
    add_common_arguments(parser, project=project, events=events)
    parser.set_defaults(handler=handler)
    return parser


@dataclass
class CommandContext:
    """One invocation: parsed arguments plus the output channels chosen for them."""

    args: argparse.Namespace
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    _project: Project | None = None
    # Cancelled by Ctrl+C or SIGTERM (packer.cli.interrupts): pass it to every operation.
    token: CancellationToken = field(default_factory=CancellationToken)

    def __post_init__(self) -> None:
        self.json_output: bool = bool(getattr(self.args, "json_output", False))
        self.events_jsonl: bool = getattr(self.args, "events", None) == "jsonl"

    @cached_property
    def out(self) -> Console:
        """Human output: tables and sentences. Never mixed with machine output on stdout."""
        human = self.stderr if (self.json_output or self.events_jsonl) else self.stdout
        return _console(human)

    @cached_property
    def err(self) -> Console:
        return _console(self.stderr)

    @property
    def project(self) -> Project:
        """The PROJECT argument, opened once. Not a project → CliError (exit 2)."""
        if self._project is None:
            path = getattr(self.args, "project", None)
            if path is None:
                raise CliError("this command takes no PROJECT")
            from packer.files.project import open_project

            try:
                self._project = open_project(path)
            except PackerError as exc:
                raise CliError(str(exc)) from exc
        return self._project

    @property
    def show_progress(self) -> bool:
        return not (self.json_output or self.events_jsonl) and self.out.is_terminal

    @contextlib.contextmanager
    def event_sink(self) -> Iterator[EventSink]:
        """The sink an operation should publish to for this invocation (see module docstring)."""
        from packer.lane.sinks import JsonLinesSink, NullSink

        if self.events_jsonl:
            sink = JsonLinesSink(self.stdout)
            try:
                yield sink
            finally:
                sink.flush()
        elif self.show_progress:
            with RichProgressSink(self.out) as progress_sink:
                yield progress_sink
        else:
            yield NullSink()

    def write_json(self, value: BaseModel | Any) -> None:
        """One JSON document on stdout (pydantic models are dumped in JSON mode)."""
        from pydantic import BaseModel

        data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        self.stdout.flush()

    def write_model_json(self, value: BaseModel) -> None:
        """`write_json(value)` encoded by pydantic in one call: the same text for a model with
        no float field (pydantic writes some exponents differently), ~8x faster (the asset list
        at 10k: 0.18 s in json's pure-Python indenting encoder)."""
        from pydantic_core import PydanticSerializationError

        try:
            text = value.model_dump_json(indent=2)
        except PydanticSerializationError:  # e.g. a lone surrogate: json's own behaviour
            self.write_json(value)
            return
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def error(self, message: str) -> None:
        """A message on stderr, whatever the output mode."""
        self.err.print(f"error: {message}", markup=False)


def _console(stream: IO[str]) -> Console:
    """A terminal wraps tables to its width; a pipe or a file gets them unwrapped (rich would
    otherwise fold every cell at 80 columns, splitting words like `unregistered`)."""
    escaping_console = _escaping_console_class()
    console = escaping_console(file=stream, highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = escaping_console(file=stream, highlight=False, soft_wrap=True,
                                   width=_UNWRAPPED_WIDTH)
    return console


def escape_controls(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x1b`, `\\u202e`)."""
    from packer.files.declaration import CONTROL_CHARACTERS

    return CONTROL_CHARACTERS.sub(lambda m: ascii(m.group())[1:-1], text)


@functools.cache
def _escaping_console_class() -> type[Console]:
    """A rich Console that escapes control characters in everything it prints (see
    escape_controls); rich's own control sequences (colours, the live progress bar) pass.
    Made on first use, so that a command that prints no text never imports rich."""
    from rich.console import Console
    from rich.segment import Segment

    class EscapingConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit(1) on its own; run_handler ends the command as standard tools do.
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def _render_buffer(self, buffer: Iterable[Segment]) -> str:
            return super()._render_buffer(
                segment if segment.control else Segment(
                    escape_controls(segment.text), segment.style, segment.control)
                for segment in buffer
            )

    return EscapingConsole


_UNWRAPPED_WIDTH = 1000


class RichProgressSink:
    """Draws one progress bar per running operation from its `progress_updated` events.

    Thread-safe: `publish` only stores the latest value in the rich task (rich itself redraws at
    ~10 Hz from its own thread), so a flood of events costs a dict update each, never a redraw.
    A terminal event removes that operation's bar.
    """

    wants_events = True

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            refresh_per_second=10,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def publish(self, event: PackerEvent) -> None:
        from packer.lane.events import EventKind

        with self._lock:
            task = self._tasks.get(event.operation_id)
            if event.terminal:
                if task is not None:
                    self._progress.remove_task(task)
                    del self._tasks[event.operation_id]
                return
            if event.kind is not EventKind.PROGRESS_UPDATED or event.progress is None:
                return
            progress = event.progress
            if task is None:
                self._tasks[event.operation_id] = self._progress.add_task(
                    event.summary, total=progress.total, completed=progress.done,
                )
            else:
                self._progress.update(
                    task, description=event.summary, total=progress.total,
                    completed=progress.done,
                )

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot fail on the closed pipe again
    (Python would print "Exception ignored … BrokenPipeError")."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (tests capture it)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def run_handler(args: argparse.Namespace, *, stdout: IO[str] | None = None,
                stderr: IO[str] | None = None) -> int:
    """Run the handler argparse selected, turning expected errors into messages + exit codes.

    Ctrl+C and SIGTERM cancel the operation (packer.cli.interrupts); the command then exits
    130 or 143 whatever the operation did, after its report says what it did.
    """
    ctx = CommandContext(args, stdout=stdout or sys.stdout, stderr=stderr or sys.stderr)
    with Interrupts(ctx.token) as interrupts:
        code = _run_guarded(ctx)
    return code if interrupts.exit_code is None else interrupts.exit_code


def _run_guarded(ctx: CommandContext) -> int:
    handler: Handler = ctx.args.handler
    try:
        return handler(ctx)
    except CliError as exc:
        ctx.error(str(exc))
        return exc.exit_code
    except PackerError as exc:
        ctx.error(str(exc))
        return EXIT_USAGE
    except OperationCancelled as exc:  # a read cancelled by a signal: nothing was changed
        ctx.error(f"{exc}; nothing was changed")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `... | head -1`: the reader has gone, as it meant to
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # the operations report their own; this is the last line of defence
        where = f" ({exc.filename})" if exc.filename else ""
        ctx.error(f"{exc.strerror or exc}{where}: check that the project's folders exist, are "
                  "folders, and can be read and written")
        return EXIT_BLOCKED
    except KeyboardInterrupt:  # a second signal, or one outside an operation
        ctx.error("interrupted")
        return EXIT_INTERRUPTED
