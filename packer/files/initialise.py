"""`init` as a library call: create or initialise a project, as one operation with its events.

The same operation `prometeu-packer init` runs (docs/events.md, "init"): its terminal is
`action_applied` (`action: "init"`) listing what was created. The Studio uses it to create and
initialise projects, so that work shows in its Activity like any other operation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from packer.files.project import (
    PROJECT_FILE,
    Project,
    create_project,
    init_workspace,
    open_project,
)
from packer.files.registry import Registry
from packer.lane.events import ActionAppliedDetail, EventKind, Outcome
from packer.lane.operation import Operation
from packer.lane.sinks import EventSink


@dataclass(frozen=True, slots=True)
class InitResult:
    project: Project
    registry: Registry
    created_project: bool
    created_registry: bool


def init_project(path: Path | str, sink: EventSink, *, create_name: str | None = None
                 ) -> InitResult:
    """With `create_name`: a new project (prometeu.json, then the registry); without: an
    existing project's registry, if it has none (idempotent). Raises ProjectFileError when
    creating over a project, NotAProjectError when initialising a folder that is not one;
    an OSError ends the operation with `action_failed` and propagates."""
    root = Path(path).expanduser()
    if create_name is not None:
        project = create_project(root, create_name)
        return _publish(project, sink, created_project=True, had_registry=False)
    project = open_project(root)
    return _publish(project, sink, created_project=False,
                    had_registry=project.registry_path.exists())


def publish_init(project: Project, sink: EventSink, *, created_project: bool,
                 had_registry: bool) -> Registry:
    """The `init` operation on an opened project: ensure its registry, publish the terminal."""
    return _publish(project, sink, created_project=created_project,
                    had_registry=had_registry).registry


def _publish(project: Project, sink: EventSink, *, created_project: bool,
             had_registry: bool) -> InitResult:
    # The id the registry will hold, so the init's own events carry the project's lasting id.
    project_id = project.project_id if had_registry or project.file.project_id else str(
        uuid.uuid4())
    with Operation(sink, project_id=project_id, operation="init") as op:
        registry = init_workspace(project, new_project_id=project_id)
        changes = [c for c, done in (
            (f"created {PROJECT_FILE}", created_project),
            ("created assets/.prometeu/index.json", not had_registry),
        ) if done]
        op.finish(
            EventKind.ACTION_APPLIED, Outcome.SUCCEEDED,
            f"Initialised {project.name}: " + ("; ".join(changes) or "already initialised"),
            detail=ActionAppliedDetail(action="init", changes=tuple(changes)),
        )
    return InitResult(project, registry, created_project, not had_registry)
