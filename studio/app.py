"""The composition root: builds the lane, the bus, the worker pool, the windows and wires them.

Nothing else in the Studio constructs long-lived services or connects panels to each other;
the open project's Activity and Problems tabs are made, per project, by the root's
`UtilityPanels` (studio.shell.utility_panels), whose links the root answers.
Every disk access (recent list, state file, project files, the sample copy) runs as a job on the
worker pool, and the Activity history is written by its own thread (studio.panels.activity.
journal_writer); the GUI thread only shows results. At exit it waits (joins) for both to finish.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QPoint, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel

from packer.files.initialise import init_project
from packer.files.project import Project, is_project_dir, open_project
from packer.lane.cancellation import CancellationToken
from packer.lane.events import AffectedAsset, EventKind, PackerEvent
from packer.lane.sinks import EventSink, ListSink
from studio.panels.activity import (
    ActivityJournal,
    ActivityModel,
    ActivityPanel,
    JournalEntry,
    journal_path,
)
from studio.panels.activity.presentation import COL_OPERATION
from studio.panels.activity.replay import ReplayError, ReplayReport, replay_through_lane
from studio.panels.problems import ProblemsPanel
from studio.panels.prompts import Prompter
from studio.services.asset_key import AssetKey, asset_key
from studio.services.bus import PackerEventsDelivered, StudioBus
from studio.services.collector import CollectorPolicy
from studio.services.event_lane import EventLane
from studio.services.lane_items import LaneEvent
from studio.services.session import AssetsListed, ProjectSession
from studio.services.workers import JobFailed, WorkerPool
from studio.shell.drop import (
    DropDecision,
    DropKind,
    ProjectDropFilter,
    classify_drop,
    project_name_for,
)
from studio.shell.focus_rescan import FocusRescan
from studio.shell.launcher import LauncherWindow
from studio.shell.main_window import MainWindow
from studio.shell.recent import load_recent, remember, save_recent
from studio.shell.sample import writable_sample_copy
from studio.shell.settings import StudioSettings, load_settings, save_settings
from studio.shell.state import StudioState, load_state, save_state
from studio.shell.utility_panels import UtilityPanels

REPORT_ENV = "PROMETEU_STUDIO_REPORT"  # "1": print one status line per milestone to stdout
CLOSE_WAIT_MS = 30_000
# A termination signal waits less for work to answer its cancel: a session manager sends SIGKILL
# soon after SIGTERM, and a worker blocked in a system call never answers (see __main__).
TERMINATE_WAIT_MS = 5_000
REPORT_SETTLE_MS = 600
SETTLE_DRAINS = 1000


@dataclass(frozen=True, slots=True)
class OpenedProject:
    project: Project
    state: StudioState
    journal: ActivityJournal
    history: list[JournalEntry]
    project_id: str  # read here, on the worker: it may read the registry


class StudioApp(QObject):
    """Owns the services and the windows of one Studio process."""

    project_opened = Signal(object)  # Project
    drop_decided = Signal(object)  # DropDecision
    build_ended = Signal(object)  # the build's terminal PackerEvent
    replay_reported = Signal(object)  # ReplayReport, once a replay has been read whole

    def __init__(self, prompter: Prompter | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.prompter = prompter or Prompter()
        self.report = os.environ.get(REPORT_ENV) == "1"
        self.bus = StudioBus()
        self.assets_bus = self.bus.workspace_bus("assets")  # the Assets workspace's own bus
        self.lane = EventLane(self.bus, self)
        self.pool = WorkerPool(self.lane, self)
        self.collector = CollectorPolicy(self)  # no full collection while packer work runs
        self.pool.busy_changed.connect(self.collector.on_busy_changed)
        self.recent: list[Path] = []
        self.settings = StudioSettings()  # replaced by the saved ones once read (start)
        self.session: ProjectSession | None = None
        self.focus_rescan = FocusRescan(self.pool, lambda: self.session,
                                        lambda: self.settings.rescan_on_focus, self._say, self)
        self.window: MainWindow | None = None
        self.launcher: LauncherWindow | None = None
        self._deferred_open: Path | None = None
        self.utility = UtilityPanels(self.lane, self.pool, self)  # Activity and Problems tabs
        self.utility.asset_link_activated.connect(self._on_asset_link_activated)
        self.utility.problem_root_activated.connect(self._on_problem_asset)
        self._pending_replay: Path | None = None  # --replay, waiting for a project to open
        self._terminating = False  # SIGTERM/SIGINT: close without asking
        self._drop_filter = ProjectDropFilter(self)
        self._drop_filter.dropped.connect(self._on_dropped)
        self.pool.job_failed.connect(self._on_job_failed)
        self.pool.job_refused.connect(self._on_job_refused)
        self.pool.busy_changed.connect(self._on_busy_changed)
        self.bus.subscribe(AssetsListed, self._on_assets_listed)

    @property
    def activity_model(self) -> ActivityModel | None:
        """The open project's Activity timeline."""
        return self.utility.model

    @property
    def activity_panel(self) -> ActivityPanel | None:
        return self.utility.panel

    @property
    def problems_panel(self) -> ProblemsPanel | None:
        return self.utility.problems

    @property
    def problem_counts(self) -> QLabel | None:
        return self.utility.problem_counts

    # ---- start-up ------------------------------------------------------------------------

    def start(self, project_path: Path | None = None) -> None:
        """With a path: open it. Else the launcher when there are recent projects, else the
        sample project's writable copy."""

        def job(sink: EventSink, token: CancellationToken) -> list[Path]:
            return load_recent()

        self.pool.submit("Read settings", lambda sink, token: load_settings(),
                         on_result=self._on_settings_loaded)
        self.pool.submit(
            "Read recent projects", job,
            on_result=lambda recent: self._on_recent_loaded(recent, project_path),
        )

    def _on_settings_loaded(self, settings: StudioSettings) -> None:
        self.settings = settings
        if self.window is not None:
            self.window.rescan_on_focus_action.setChecked(settings.rescan_on_focus)

    def _on_recent_loaded(self, recent: list[Path], project_path: Path | None) -> None:
        self.recent = recent
        if project_path is not None:
            self.open_path(project_path)
        elif recent:
            self.show_launcher()
        else:
            self.open_sample()

    def open_sample(self) -> None:
        def job(sink: EventSink, token: CancellationToken) -> Path:
            return writable_sample_copy()

        self.pool.submit("Copy the sample project", job, on_result=self.open_path,
                         on_failure=self._on_open_failed)

    def show_launcher(self) -> LauncherWindow:
        if self.launcher is None:
            launcher = LauncherWindow()
            launcher.installEventFilter(self._drop_filter)
            launcher.open_requested.connect(self._on_open_requested)
            launcher.create_requested.connect(self._on_create_requested)
            launcher.sample_requested.connect(self.open_sample)
            launcher.recent_requested.connect(self.open_path)
            self.launcher = launcher
        self.launcher.set_recent(self.recent)
        self.launcher.show()
        return self.launcher

    # ---- opening projects --------------------------------------------------------------------

    def open_path(self, path: Path) -> None:
        """Open a project folder; asks first when work is running on the current project."""
        if self.pool.busy and self.session is not None:
            running = ", ".join(i.label for i in self.pool.running() if not i.background)
            if self.pool.busy_for_user and not self.prompter.confirm(
                self._dialog_parent(), "Work is running",
                f"{running} is still running on {self.session.project.name}.\n"
                f"Cancel it and open {path.name}?", action="Cancel Work and Open",
            ):
                return
            self._deferred_open = path
            self.pool.cancel_all()
            return  # opened once the pool is idle (_on_busy_changed)
        self._open_now(path)

    def _open_now(self, path: Path) -> None:
        def job(sink: EventSink, token: CancellationToken) -> OpenedProject:
            project = open_project(path)
            journal = ActivityJournal(journal_path(project.root))
            return OpenedProject(project, load_state(project.root), journal, journal.load(),
                                 project.project_id)

        self.pool.submit(f"Open {path.name}", job, on_result=self._on_opened,
                         on_failure=self._on_open_failed)

    def _on_opened(self, opened: OpenedProject) -> None:
        project = opened.project
        if self.session is not None and self.window is not None:
            self._save_state(self.session.project, self.window.capture_state())
        window = self._ensure_window()
        self.utility.install(window, opened.journal, opened.history, opened.project_id)
        self._start_pending_replay()
        if self.session is not None:
            self.session.retire()  # its late results belong to the project no longer shown
        self.session = ProjectSession(project, self.pool, self.assets_bus, self)
        window.assets.set_session(self.session)
        window.show()  # splitters keep exact sizes only once the window has its real size
        window.restore_state(opened.state)
        selected = opened.state.selected_asset
        if selected is not None and (selected.asset_id is not None or selected.root):
            window.assets.restore_selection(asset_key(selected.asset_id, selected.root or ""))
        window.setWindowTitle(f"{project.name} — Prometeu Studio")
        window.show_status(f"Opened {project.name} ({project.root})")
        window.logs.log(f"Opened project {project.name} at {project.root}")
        window.show()
        if self.launcher is not None:
            self.launcher.hide()
        self.recent = remember(project.root, self.recent)
        window.set_recent(self.recent)
        recent = list(self.recent)
        self.pool.submit("Remember recent projects",
                         lambda sink, token: save_recent(recent))
        self._say(f"opened {project.root}")
        self.session.refresh()
        self.session.start_background_work()  # baseline scan, then validation
        self.project_opened.emit(project)

    def _on_open_failed(self, failure: JobFailed) -> None:
        text = failure.message if failure.expected else failure.title
        if self.window is None:
            self.show_launcher().show_message(text, error=True)
        else:
            self.prompter.refuse(self.window, "Cannot open the project", text)

    def _ensure_window(self) -> MainWindow:
        if self.window is None:
            window = MainWindow(self.prompter)
            window.installEventFilter(self._drop_filter)
            window.close_guard = self._may_close
            window.open_requested.connect(self._on_open_requested)
            window.create_requested.connect(self._on_create_requested)
            window.recent_requested.connect(self.open_path)
            window.rescan_requested.connect(self._on_rescan_requested)
            window.rescan_on_focus_action.setChecked(self.settings.rescan_on_focus)
            window.rescan_on_focus_toggled.connect(self._on_rescan_on_focus_toggled)
            window.activated.connect(self.focus_rescan.on_window_activated)
            window.deactivated.connect(self.focus_rescan.on_window_deactivated)
            window.build_requested.connect(self._on_build_requested)
            window.cancel_requested.connect(self._on_cancel_requested)
            window.assets.selection_changed.connect(self.utility.on_asset_selected)
            window.assets.details.history.operation_activated.connect(
                self.utility.show_operation)
            window.follow(self.bus, self.assets_bus)
            # After the panels' subscriptions: build_ended goes out once they show the build.
            self.bus.subscribe(PackerEventsDelivered, self._on_packer_events)
            self.window = window
        return self.window

    @Slot(str)
    def _on_problem_asset(self, root: str) -> None:
        listing = self.session.listing if self.session is not None else None
        asset_id = next((a.asset_id for a in getattr(listing, "assets", ())
                         if a.root == root), None)
        self.select_asset(asset_key(asset_id, root))

    def replay_when_open(self, log: Path) -> None:
        """`--replay`: feed a JSON-lines event log through the lane into the Activity panel
        (now if a project is open, else as soon as one is)."""
        self._pending_replay = log
        if self.utility.model is not None:
            self._start_pending_replay()

    def _start_pending_replay(self) -> None:
        log, self._pending_replay = self._pending_replay, None
        if log is None:
            return
        lane = self.lane

        def job(sink: EventSink, token: CancellationToken) -> ReplayReport | ReplayError:
            try:
                return replay_through_lane(log, lane, token)
            except ReplayError as exc:  # one clear message, no failure rows
                return exc

        self.pool.submit(f"Replay {log.name}", job, on_result=self._on_replayed)

    def _on_replayed(self, result: ReplayReport | ReplayError) -> None:
        if isinstance(result, ReplayError):
            self._status(f"Nothing replayed: {result}")
            self.prompter.refuse(self._dialog_parent(), "Cannot replay the event log",
                                 str(result))
            return
        text = f"Replayed {result.events} events from {result.path.name}"
        if result.skipped_lines:
            lines = ", ".join(str(n) for n in result.skipped_lines[:10])
            more = "…" if len(result.skipped_lines) > 10 else ""
            count = len(result.skipped_lines)
            text += (f"; {count} line{'s' if count != 1 else ''} skipped, not events "
                     f"(line {lines}{more})")
        self._status(text)
        self.replay_reported.emit(result)

    @Slot(object)
    def _on_asset_link_activated(self, asset: AffectedAsset) -> None:
        self.select_asset(asset_key(asset.asset_id, asset.root))

    @Slot()
    def _on_open_requested(self) -> None:
        folder = self.prompter.choose_folder(self._dialog_parent(), "Open a project folder")
        if folder is not None:
            self.open_path(folder)

    @Slot()
    def _on_create_requested(self) -> None:
        parent = self._dialog_parent()
        folder = self.prompter.choose_folder(parent, "Choose a folder for the new project")
        if folder is None:
            return
        name = self.prompter.ask_text(parent, "Create Project", "Project name:",
                                      project_name_for(folder))
        if name is not None:
            self._create_and_open(folder, name)

    def _create_and_open(self, folder: Path, name: str) -> None:
        def job(sink: EventSink, token: CancellationToken) -> Path:
            # The packer's `init`, with its events; they belong to the new project, so they
            # go into its history (opened next), not into the open project's timeline.
            events = ListSink()
            try:
                root = init_project(folder, events, create_name=name).project.root
            finally:
                if events.events and is_project_dir(folder):
                    journal = ActivityJournal(journal_path(folder.expanduser()))
                    journal.append(JournalEntry(e) for e in events.events)
                    journal.flush()
            return root

        self.pool.submit(f"Create project {name}", job, on_result=self.open_path,
                         on_failure=self._on_open_failed)

    # ---- drops -----------------------------------------------------------------------------

    @Slot(list, list)
    def _on_dropped(self, local: list[str], remote: list[str]) -> None:
        assets_dir = self.session.project.assets_dir if self.session is not None else None

        def job(sink: EventSink, token: CancellationToken) -> DropDecision:
            return classify_drop(local, remote, assets_dir)

        self.pool.submit("Look at the dropped item", job, on_result=self._on_drop_decision)

    def _on_drop_decision(self, decision: DropDecision) -> None:
        self.drop_decided.emit(decision)
        parent = self._dialog_parent()
        if decision.kind is DropKind.PROJECT and decision.path is not None:
            self.open_path(decision.path)
        elif decision.kind is DropKind.ASSET_FILES and self.window is not None:
            self.window.assets.propose_new_asset(list(decision.paths))
        elif decision.kind is DropKind.NOT_A_PROJECT and decision.path is not None:
            if self.prompter.confirm(
                parent, "Not a project",
                f"{decision.message}\n\nInitialise it as a new project? This creates "
                "prometeu.json and an empty asset registry in that folder.",
                action="Initialise Project",
            ):
                self._create_and_open(decision.path, project_name_for(decision.path))
        else:
            self.prompter.refuse(parent, "Cannot open this", decision.message)
            self._status(decision.message)

    # ---- project commands ----------------------------------------------------------------

    @Slot()
    def _on_rescan_requested(self) -> None:
        if self.session is not None:
            self.session.rescan()

    @Slot(bool)
    def _on_rescan_on_focus_toggled(self, on: bool) -> None:
        if on == self.settings.rescan_on_focus:
            return
        self.settings = self.settings.model_copy(update={"rescan_on_focus": on})
        settings = self.settings
        self.pool.submit("Save settings", lambda sink, token: save_settings(settings))
        self._status("Rescan when the Studio is focused: " + ("on" if on else "off"))

    @Slot()
    def _on_build_requested(self) -> None:
        if self.session is not None:
            self._say("build requested")
            self.session.build()

    @Slot()
    def _on_cancel_requested(self) -> None:
        self.pool.cancel_all()

    # ---- results and failures ---------------------------------------------------------------

    def _on_packer_events(self, delivered: PackerEventsDelivered) -> None:
        """The composition root's own subscription: the Activity timeline and the Problems
        panel are fed here (they are models the app owns), then `build_ended` goes out."""
        items = list(delivered.items)
        self.utility.apply(items)
        for item in items:
            event = item.event
            if self.report and event.operation == "rescan" and self._own(item):
                self._report_rescan(event)
            if event.terminal and event.operation == "build" and self._own(item):
                self._say(f"build finished {event.outcome} {event.summary}")
                self.build_ended.emit(event)
                if self.report:
                    # For the real-window check: once the panels have had time to repaint.
                    QTimer.singleShot(REPORT_SETTLE_MS, self, self._report_settled)

    def _report_rescan(self, event: PackerEvent) -> None:
        """For the real-window check: what a rescan found, one line per root, then its end."""
        if event.kind in (EventKind.ASSET_CHANGED, EventKind.ASSET_DISCOVERED):
            roots = " ".join(a.root for a in event.affected_assets)
            self._say(f"{event.kind.value} {roots}")
        elif event.terminal:
            self._say(f"rescanned {event.outcome} {event.summary}")

    def _own(self, item: LaneEvent) -> bool:
        """The open project's own work: not a replay, not another project's events."""
        return item.origin is None and not self.utility.is_foreign(item.event)

    def _on_assets_listed(self, listed: AssetsListed) -> None:
        self._say(f"listed {len(listed.listing.assets)} assets")

    @Slot(object)
    def _on_job_failed(self, failure: JobFailed) -> None:
        if failure.cancelled and (failure.job.interactive or failure.job.background):
            # A read superseded by the user's next click, or the Studio's own background work
            # giving way to the user: nothing went wrong.
            return
        if self.window is None and self.launcher is not None and not failure.cancelled:
            # No main window yet: the launcher is all the user sees, so it says what failed.
            self.launcher.show_message(failure.message if failure.expected else failure.title,
                                       error=True)
        if self.window is not None:
            self.window.logs.log_failure(failure)
            self.window.show_status(failure.title)
        self._say(f"failed {failure.title}")

    @Slot(str)
    def _on_job_refused(self, message: str) -> None:
        self._status(message)

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if not busy and self._deferred_open is not None:
            path, self._deferred_open = self._deferred_open, None
            self._open_now(path)

    # ---- closing ---------------------------------------------------------------------------

    def _may_close(self) -> bool:
        """Asked by the main window: with work running, ask; then cancel and wait cleanly."""
        if self.pool.busy:
            pool = self.pool
            live = ([pool.job_succeeded, pool.job_failed, pool.busy_changed],
                    self._close_question)
            # The Studio's own background work is simply cancelled: nothing to ask.
            if pool.busy_for_user and not self._terminating and not self.prompter.confirm(
                self.window, "Work is running", self._close_question(),
                action="Cancel Work and Close", live=live,
            ):
                return False
            self.pool.cancel_all()
        if self.session is not None:
            self.session.retire()  # closing: no background work starts from a late result
        if self.session is not None and self.window is not None:
            self._save_state(self.session.project, self.window.capture_state())
        self.pool.wait_for_threads(self._wait_ms())
        self._settle_lane()  # the cancelled work's terminals reach the timeline and its history
        self.utility.close_journal()
        if self.launcher is not None:
            self.launcher.close()
        self._say("closed")
        return True

    def _close_question(self) -> str:
        """The close-while-busy question, as things are now (the dialog follows it live)."""
        running = ", ".join(i.label for i in self.pool.running() if not i.background)
        if running:
            return f"{running} is still running. Cancel it and close?"
        return "The work has finished; nothing is running now. Close?"

    @Slot(str)
    def terminate(self, reason: str) -> None:
        """A termination signal: close as the user would (state saved, work cancelled and
        waited for, history written), without asking."""
        self._terminating = True
        self._say(f"terminating ({reason})")
        shown = [w for w in (self.window, self.launcher) if w is not None and w.isVisible()]
        for window in shown:
            window.close()  # the last window closed ends the event loop
        app = QCoreApplication.instance()
        if not shown and app is not None:
            app.quit()

    @Slot()
    def shutdown(self) -> None:
        """Cancel everything and wait for the workers (the process is about to end)."""
        if self.session is not None:
            self.session.retire()
        self.pool.cancel_all()
        self.pool.wait_for_threads(self._wait_ms())
        self._settle_lane()
        self.utility.close_journal()
        self.collector.release()

    def _wait_ms(self) -> int:
        return TERMINATE_WAIT_MS if self._terminating else CLOSE_WAIT_MS

    def stuck_jobs(self) -> list[str]:
        """Labels of the work still running after close (it ignored its cancel)."""
        return [info.label for info in self.pool.running()] if self.pool.busy else []

    def _settle_lane(self) -> None:
        """Deliver what finished workers published (they have all returned by now)."""
        for _ in range(SETTLE_DRAINS):  # bounded: a worker that ignored cancel may still publish
            if self.lane.is_idle():
                return
            self.lane.drain_now()

    def _save_state(self, project: Project, state: StudioState) -> None:
        root = project.root
        self.pool.submit("Save window state", lambda sink, token: save_state(root, state))

    # ---- helpers ---------------------------------------------------------------------------

    def select_asset(self, key: AssetKey) -> None:
        if self.window is not None:
            self.window.selector.setCurrentRow(0)
            self.window.assets.select_asset(key)

    def _dialog_parent(self) -> MainWindow | LauncherWindow | None:
        if self.window is not None and self.window.isVisible():
            return self.window
        return self.launcher

    def _status(self, text: str) -> None:
        if self.window is not None:
            self.window.show_status(text)
            self.window.logs.log(text)
        elif self.launcher is not None:
            self.launcher.show_message(text, error=True)

    @Slot()
    def _report_settled(self) -> None:
        model = self.utility.model
        build = model.last_build() if model is not None else None
        if model is not None and build is not None:
            # What the newest build's row says (the real-window check reads the code in it).
            self._say(f"activity-row {model.index_of(build, COL_OPERATION).data()}")
        if self.utility.problems is not None:
            rows = self.utility.problems.rows()
            self._say("problems " + " | ".join(f"{r[0]} {r[1]} {r[2]}" for r in rows))
        panel = self.utility.panel
        if panel is not None and panel.isVisible():
            origin = panel.mapToGlobal(QPoint(0, 0))
            self._say(f"activity-panel {origin.x()} {origin.y()} {panel.width()} {panel.height()}")
        if self.window is not None:
            frame = self.window.frameGeometry()
            self._say(f"window {frame.x()} {frame.y()} {frame.width()} {frame.height()}")
        self._say("settled")

    def _say(self, line: str) -> None:
        if self.report:
            print(f"studio: {line}", file=sys.stdout, flush=True)
