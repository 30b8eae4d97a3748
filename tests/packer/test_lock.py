"""One writer at a time across threads and processes; readers wait for a writer and never see a
half-applied change. Processes are synchronised through their pipes, never by sleeping."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from packer.files.lock import LockHeldError, LockHolder, read_holder, read_lock, write_lock
from packer.files.project import Project, create_project, open_project
from packer.mutations import MutationAction, MutationOutcome, apply_mutation
from packer.workspace.scan import AssetState, build_snapshot
from tests.packer.mutation_support import make_project, mutate, preview_of, write_raw_asset

REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys
from packer.files.lock import write_lock
from packer.files.project import open_project
project = open_project(sys.argv[1])
with write_lock(project, command="holder-test"):
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""

WAITER = """
import sys
from packer.files.lock import LockHeldError, write_lock
from packer.files.project import open_project
project = open_project(sys.argv[1])
try:
    with write_lock(project, timeout=0):
        print("unexpected: acquired at once", flush=True)
except LockHeldError as exc:
    print("refused", exc, flush=True)
print("waiting", flush=True)
with write_lock(project, timeout=120, command="waiter"):
    print("acquired", flush=True)
"""

RELOCATOR = """
import sys
from packer.mutations import MutationAction, MutationRequest, apply_mutation, preview_mutation
from packer.files.project import open_project
project = open_project(sys.argv[1])
rounds = int(sys.argv[2])
sys.stdin.readline()  # start signal
done = 0
while done < rounds:
    to = "b/hero" if done % 2 == 0 else "a/hero"
    request = MutationRequest(action=MutationAction.RELOCATE, asset=1, to=to)
    result = apply_mutation(project, preview_mutation(project, request), consent=True,
                            lock_timeout=120)
    if result.applied:
        done += 1
        print("moved", to, flush=True)
    elif result.error_type != "StalePreview":
        print("error", result.message, flush=True)
        sys.exit(1)
"""

REGISTRAR = """
import sys
from packer.mutations import MutationAction, MutationRequest, apply_mutation, preview_mutation
from packer.files.project import open_project
project = open_project(sys.argv[1])
roots = sys.argv[2:]
sys.stdin.readline()  # start signal
for root in roots:
    while True:
        request = MutationRequest(action=MutationAction.REGISTER, asset=root)
        result = apply_mutation(project, preview_mutation(project, request), lock_timeout=120)
        if result.applied:
            print("registered", root, result.target.asset_id, flush=True)
            break
        if result.error_type != "StalePreview":
            print("error", result.message, flush=True)
            sys.exit(1)
"""


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
    )


def _line(stream: IO[str] | None) -> str:
    assert stream is not None
    return stream.readline().strip()


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path)


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_second_process_is_refused_and_told_who_holds_the_lock(project: Project) -> None:
    preview = preview_of(project, MutationAction.EXCLUDE, 1)
    holder = _spawn(HOLDER, str(project.root))
    try:
        assert _line(holder.stdout) == "held"
        found = read_holder(project.lock_path)
        assert found is not None and found.pid == holder.pid and found.command == "holder-test"
        result = apply_mutation(project, preview, lock_timeout=0)
        assert result.outcome is MutationOutcome.REFUSED and result.error_type == "LockHeld"
        assert f"pid {holder.pid}" in result.message and "holder-test" in result.message
        assert project.load_registry().by_id(1).included_in_build  # type: ignore[union-attr]
        with pytest.raises(LockHeldError, match="cannot read"), read_lock(project, timeout=0):
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        _finish(holder)
    assert read_holder(project.lock_path) is None  # the holder cleared its name
    assert mutate(project, MutationAction.EXCLUDE, 1).applied


def test_a_waiting_writer_gets_the_lock_when_the_holder_finishes(project: Project) -> None:
    holder = _spawn(HOLDER, str(project.root))
    assert _line(holder.stdout) == "held"
    waiter = _spawn(WAITER, str(project.root))
    refused = _line(waiter.stdout)
    assert refused.startswith("refused") and f"pid {holder.pid}" in refused
    assert _line(waiter.stdout) == "waiting"
    assert holder.stdin is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert _line(holder.stdout) == "released"
    _finish(holder)
    assert _line(waiter.stdout) == "acquired"
    _finish(waiter)


def test_two_processes_racing_to_register_get_distinct_ids(tmp_path: Path) -> None:
    project = create_project(tmp_path / "race", "race")
    mine = [f"one/a{i}" for i in range(6)]
    theirs = [f"two/b{i}" for i in range(6)]
    for root in mine + theirs:
        write_raw_asset(project, root, root.replace("/", "_"))
    racers = [_spawn(REGISTRAR, str(project.root), *mine),
              _spawn(REGISTRAR, str(project.root), *theirs)]
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outputs = [_finish(r) for r in racers]
    registry = open_project(project.root).load_registry()
    assert sorted(e.asset_id for e in registry.assets) == list(range(1, 13))
    assert sorted(e.root for e in registry.assets) == sorted(mine + theirs)
    assert registry.next_asset_id == 13
    reported = {line.split()[1]: int(line.split()[2])
                for out in outputs for line in out.splitlines()}
    assert reported == {e.root: e.asset_id for e in registry.assets}


def test_readers_never_see_a_relocation_half_done(tmp_path: Path) -> None:
    project = create_project(tmp_path / "move", "move")
    write_raw_asset(project, "a/hero", "hero")
    assert mutate(project, MutationAction.REGISTER, "a/hero").applied
    mover = _spawn(RELOCATOR, str(project.root), "16")
    seen: list[tuple[str, str]] = []
    torn: list[str] = []
    stop = threading.Event()

    def scan_until_stopped() -> None:
        while not stop.is_set():
            snapshot = build_snapshot(project)
            for record in snapshot.assets:
                seen.append((record.root, record.state.value))
                if record.state is not AssetState.REGISTERED:
                    torn.append(f"{record.root} {record.state.value}")

    reader = threading.Thread(target=scan_until_stopped)
    reader.start()
    try:
        assert mover.stdin is not None
        mover.stdin.write("go\n")
        mover.stdin.flush()
        out = _finish(mover)
    finally:
        stop.set()
        reader.join()
    assert out.count("moved") == 16
    assert seen and not torn, torn[:5]
    final = build_snapshot(project).by_id(1)
    assert final is not None and final.root == "a/hero"


def test_threads_of_one_process_exclude_each_other(project: Project) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with write_lock(project, command="thread-holder"):
            held.set()
            release.wait()

    preview = preview_of(project, MutationAction.EXCLUDE, 1)
    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(30)
        result = apply_mutation(project, preview, lock_timeout=0)
        assert result.error_type == "LockHeld" and "thread-holder" in result.message
        with pytest.raises(LockHeldError), read_lock(project, timeout=0):
            pass
    finally:
        release.set()
        thread.join()
    assert mutate(project, MutationAction.EXCLUDE, 1).applied


def test_the_writer_thread_may_read_while_it_writes(project: Project) -> None:
    with write_lock(project):
        snapshot = build_snapshot(project)  # would deadlock if the read lock were not shared
    assert snapshot.by_id(1) is not None
    with (
        write_lock(project),
        pytest.raises(RuntimeError, match="already holds"),
        write_lock(project),
    ):
        pass


def test_scanning_an_uninitialised_workspace_creates_nothing(tmp_path: Path) -> None:
    project = create_project(tmp_path / "p", "p")
    (project.packer_dir / "index.json").unlink()
    project.packer_dir.rmdir()
    snapshot = build_snapshot(open_project(project.root))
    assert snapshot.registry is None
    assert not project.packer_dir.exists()


def test_a_read_only_workspace_is_still_readable(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.lock_path.unlink(missing_ok=True)
    real_open = os.open

    def read_only_open(path: str | Path, flags: int, mode: int = 0o777) -> int:
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR):
            raise PermissionError(30, "Read-only file system")
        return real_open(path, flags, mode)

    monkeypatch.setattr("packer.files.lock.os.open", read_only_open)
    snapshot = build_snapshot(project)
    assert snapshot.by_id(1) is not None
    assert not project.lock_path.exists()


def test_writing_needs_an_initialised_workspace(tmp_path: Path) -> None:
    project = create_project(tmp_path / "p", "p")
    (project.packer_dir / "index.json").unlink()
    project.packer_dir.rmdir()
    with pytest.raises(Exception, match="run `prometeu-packer init`"), write_lock(project):
        pass


def test_an_unusable_lock_file_fails_the_apply_cleanly(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    preview = preview_of(project, MutationAction.EXCLUDE, 1)
    registry_before = project.registry_path.read_bytes()

    def refuse(path: str | Path, flags: int, mode: int = 0o777) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("packer.files.lock.os.open", refuse)
    result = apply_mutation(project, preview)
    assert result.outcome is MutationOutcome.FAILED
    assert "cannot exclude: cannot open the project lock" in result.message
    assert "Permission denied" in result.message
    assert project.registry_path.read_bytes() == registry_before


def _refusal(work: object) -> LockHeldError:
    """The LockHeldError `work` raises on another thread (the locks are per thread and file)."""
    caught: list[LockHeldError] = []

    def run() -> None:
        try:
            work()  # type: ignore[operator]
        except LockHeldError as exc:
            caught.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert len(caught) == 1
    return caught[0]


def test_a_refused_writer_is_told_exactly_who_holds_the_lock(project: Project) -> None:
    with write_lock(project, command="prometeu-packer relocate") as handle:
        holder = handle.holder
        assert read_holder(project.lock_path) == holder
        assert (holder.pid, holder.command) == (os.getpid(), "prometeu-packer relocate")
        refused = _refusal(lambda: write_lock(project, timeout=0).__enter__())
        assert refused.holder == holder
        assert str(refused) == (
            f"cannot change {project.root.name}: its lock ({project.lock_path}) is held by "
            f"pid {holder.pid} on {holder.host} (prometeu-packer relocate) since "
            f"{holder.started_at}. Try again when that operation has finished.")
        waited = _refusal(lambda: write_lock(project, timeout=0.05).__enter__())
        assert " after waiting 0.05 s. " in str(waited)
        reader = _refusal(lambda: read_lock(project, timeout=0).__enter__())
        assert str(reader).startswith(f"cannot read {project.root.name}: ")


def test_a_writer_refused_by_a_reader_is_told_so(project: Project) -> None:
    with read_lock(project):
        refused = _refusal(lambda: write_lock(project, timeout=0).__enter__())
    assert refused.holder is None
    assert "is held by another reader or writer of this project. Try again" in str(refused)


def test_the_holder_is_read_from_the_lock_file_never_through_a_link(
    project: Project, tmp_path: Path
) -> None:
    text = json.dumps({"pid": 7, "host": "studio-pc", "command": "prometeu-packer relocate",
                       "started_at": "2026-12-06T08:00:00+00:00"})
    project.lock_path.write_text(text)
    assert read_holder(project.lock_path) == LockHolder(
        pid=7, host="studio-pc", command="prometeu-packer relocate",
        started_at="2026-12-06T08:00:00+00:00")
    elsewhere = tmp_path / "holder.json"
    elsewhere.write_text(text)
    project.lock_path.unlink()
    os.symlink(elsewhere, project.lock_path)
    assert read_holder(project.lock_path) is None


def test_two_projects_are_locked_independently(tmp_path: Path) -> None:
    first = make_project(tmp_path / "one")
    second = make_project(tmp_path / "two")
    with write_lock(first):
        taken: list[bool] = []

        def take_the_other() -> None:
            with write_lock(second, timeout=0):
                taken.append(True)

        thread = threading.Thread(target=take_the_other)
        thread.start()
        thread.join()
        assert taken == [True]


def test_without_flock_the_in_process_lock_is_all_there_is(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows has no flock: a flock held elsewhere is then not seen at all, and a writer of this
    # process is still excluded by the in-process lock.
    fcntl = pytest.importorskip("fcntl")
    other = os.open(project.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        monkeypatch.setattr("packer.files.lock.sys.platform", "win32")
        with write_lock(project, timeout=0, command="windows-writer"):
            refused = _refusal(lambda: write_lock(project, timeout=0).__enter__())
            assert refused.holder is not None and refused.holder.command == "windows-writer"
    finally:
        os.close(other)


def test_a_huge_lock_file_is_not_read_for_its_holder(project: Project) -> None:
    # Bounded (64 KiB): a junk lock file is never loaded whole to name a holder (this one, of
    # about 100 KB, would parse).
    holder = {"pid": 7, "host": "studio-pc", "command": "x" * 100_000,
              "started_at": "2026-12-06T08:00:00+00:00"}
    project.lock_path.write_text(json.dumps(holder))
    assert read_holder(project.lock_path) is None


@pytest.mark.parametrize(("argv", "command"), [
    (["/usr/local/bin/prometeu-packer", "relocate", "7", "--to", "x"],
     "prometeu-packer relocate 7"),
    (["/usr/local/bin/prometeu-packer"], "prometeu-packer"),
    (["", "relocate"], "python"),  # an interactive interpreter
    ([], "python"),
])
def test_the_holder_names_the_command_that_took_the_lock(
    project: Project, monkeypatch: pytest.MonkeyPatch, argv: list[str], command: str
) -> None:
    monkeypatch.setattr("packer.files.lock.sys.argv", argv)
    with write_lock(project) as handle:
        assert handle.holder.command == command
        assert read_holder(project.lock_path) == handle.holder


class _PollClock:
    """Stands in for `time` in packer.files.lock: a clock that only the poll's sleeps move."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps = 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


def test_a_writer_that_may_not_wait_never_polls(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    with read_lock(project):
        clock = _PollClock()
        monkeypatch.setattr("packer.files.lock.time", clock)
        refused = _refusal(lambda: write_lock(project, timeout=0).__enter__())
        assert "after waiting" not in str(refused)
        assert clock.sleeps == 0
        waited = _refusal(lambda: write_lock(project, timeout=0.05).__enter__())
        assert " after waiting 0.05 s. " in str(waited)
        assert clock.sleeps == 5  # polled every 10 ms until the deadline, never past it


def test_a_reader_creates_a_missing_lock_file_and_holds_it(
    project: Project, umask_022: None
) -> None:
    project.lock_path.unlink(missing_ok=True)
    with read_lock(project):
        assert stat.S_IMODE(project.lock_path.stat().st_mode) == 0o644
        refused = _refusal(lambda: write_lock(project, timeout=0).__enter__())
        assert refused.holder is None


def test_a_reader_runs_recovery_only_when_a_journal_is_pending(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    recovered: list[Path] = []

    def record(of: Project) -> list[str]:
        recovered.append(of.root)
        return []

    monkeypatch.setattr("packer.files.lock.recover_pending", record)
    journal = project.packer_dir / "journal"
    journal.mkdir(exist_ok=True)
    with read_lock(project):  # an empty journal folder: nothing to recover
        pass
    journal.rmdir()
    with read_lock(project):  # no journal folder at all: nothing either
        pass
    assert recovered == []
    journal.mkdir()
    (journal / "pending").mkdir()
    with read_lock(project):
        pass
    assert recovered == [project.root]
