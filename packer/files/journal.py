"""The undo journal: written before the disk is touched, so any interrupted apply can be undone.

`assets/.prometeu/journal/<operation_id>/journal.json` lists the apply's steps, how many were
started, and whether the apply committed; the old content of every file it rewrites sits beside it.
An apply that fails is undone in-process; one that crashed is undone (or, past its commit point,
finished) by `recover_pending`, which the next holder of the project's write lock runs first.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packer.errors import PackerError
from packer.files.atomic import atomic_write_bytes, pretty_json_bytes
from packer.files.lock import JOURNAL_DIR
from packer.files.project import Project
from packer.files.safe_read import read_regular
from packer.files.steps import (
    Step,
    WriteFileStep,
    step_from_json,
    step_to_json,
    undo_step,
)

JOURNAL_FILE = "journal.json"
JOURNAL_VERSION = 1
APPLYING = "applying"
COMMITTED = "committed"


class RecoveryError(PackerError):
    """A journal could not be undone; the project stays as the crash left it until it can be."""


@dataclass
class Journal:
    project: Project
    operation_id: str
    action: str
    steps: tuple[Step, ...]
    cleanup: tuple[str, ...]  # paths (relative to assets/) deleted once committed
    state: str = APPLYING
    started: int = 0  # steps[:started] may have run

    @property
    def folder(self) -> Path:
        return journals_dir(self.project) / self.operation_id

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JOURNAL_VERSION, "operation_id": self.operation_id,
            "action": self.action, "state": self.state, "started": self.started,
            "steps": [step_to_json(s) for s in self.steps], "cleanup": list(self.cleanup),
        }

    def save(self) -> None:
        atomic_write_bytes(self.folder / JOURNAL_FILE, pretty_json_bytes(self.to_json()))

    def begin(self) -> None:
        """Create the journal with a backup of every file a step rewrites (nothing started)."""
        self.folder.mkdir(parents=True)
        steps: list[Step] = []
        for index, planned in enumerate(self.steps):
            step = planned
            if isinstance(planned, WriteFileStep):
                target = self.project.assets_dir.joinpath(*planned.path.split("/"))
                backup = None
                if target.exists():
                    backup = f"backup-{index}"
                    atomic_write_bytes(self.folder / backup,
                                       read_regular(target, follow_symlinks=False))
                step = replace(planned, backup=backup)
            steps.append(step)
        self.steps = tuple(steps)
        self.save()

    def mark_started(self, count: int) -> None:
        self.started = count
        self.save()

    def mark_committed(self) -> None:
        self.state = COMMITTED
        self.save()

    def undo(self, completed: int | None = None) -> None:
        """Undo the first `completed` steps (default: every started one), last first."""
        count = self.started if completed is None else completed
        for step in reversed(self.steps[:count]):
            undo_step(self.project.assets_dir, step, self.folder)

    def run_cleanup(self) -> None:
        for rel in self.cleanup:
            path = self.project.assets_dir.joinpath(*rel.split("/"))
            if path.exists() or path.is_symlink():
                shutil.rmtree(path)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # e.g. `.prometeu/trash/` once its last item is gone

    def close(self) -> None:
        """Forget the journal: the apply is complete (or fully undone)."""
        if self.folder.exists():
            shutil.rmtree(self.folder)
        with contextlib.suppress(OSError):
            self.folder.parent.rmdir()


def journals_dir(project: Project) -> Path:
    return project.packer_dir / JOURNAL_DIR


def load_journal(project: Project, folder: Path) -> Journal | None:
    """None when the journal file was never written (the apply had not started)."""
    path = folder / JOURNAL_FILE
    try:
        data = json.loads(read_regular(path, follow_symlinks=False).decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RecoveryError(
            f"the journal {path} cannot be read ({exc}); inspect it by hand"
        ) from exc
    try:
        if data["version"] != JOURNAL_VERSION:
            raise RecoveryError(f"the journal {path} has an unknown version {data['version']}")
        return Journal(
            project=project, operation_id=str(data["operation_id"]), action=str(data["action"]),
            steps=tuple(step_from_json(s) for s in data["steps"]),
            cleanup=tuple(str(c) for c in data["cleanup"]), state=str(data["state"]),
            started=int(data["started"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RecoveryError(f"the journal {path} is malformed ({exc}); inspect it by hand") from exc


def recover_pending(project: Project) -> list[str]:
    """Finish every journal a crashed apply left: roll back, or clean up past the commit point.

    Runs under the write lock. Returns one sentence per journal for the caller to report.
    """
    root = journals_dir(project)
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise RecoveryError(f"cannot list {root}: {exc.strerror or exc}") from exc
    done: list[str] = []
    for folder in folders:
        journal = load_journal(project, folder)
        try:
            if journal is None:
                shutil.rmtree(folder)
                continue
            if journal.state == COMMITTED:
                journal.run_cleanup()
                done.append(f"finished the interrupted {journal.action} (it had committed)")
            else:
                journal.undo()
                done.append(f"rolled back the interrupted {journal.action}")
            journal.close()
        except OSError as exc:
            raise RecoveryError(
                f"cannot recover the interrupted apply in {folder}: {exc.strerror or exc}"
            ) from exc
    with contextlib.suppress(OSError):
        root.rmdir()
    return done
