"""The main window's utility tabs for the open project: the Activity timeline (with the status
bar's progress and the Assets workspace's inline bar) and the Problems view.

Both are made fresh for each project opened, from its history, and fed the lane's events by
`apply`; the selected asset's History section follows the timeline. A link in either panel
asks the composition root to show an asset (`asset_link_activated`, `problem_root_activated`).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QLabel

from packer.lane.events import AffectedAsset, PackerEvent
from studio.panels.activity import ActivityJournal, ActivityModel, ActivityPanel, JournalEntry
from studio.panels.activity import tab_title as activity_tab_title
from studio.panels.activity.journal_writer import JournalWriter
from studio.panels.activity.progress import GlobalProgressWidget, OperationProgressBar
from studio.panels.activity.records import PINNED_STATUSES, OperationRecord, OperationStatus
from studio.panels.problems import ProblemsPanel
from studio.panels.problems.panel import counts_text as problem_counts_text
from studio.panels.problems.panel import tab_title as problems_tab_title
from studio.services.asset_key import AssetKey
from studio.services.event_lane import EventLane
from studio.services.lane_items import LaneEvent
from studio.services.workers import WorkerPool
from studio.shell.main_window import MainWindow

JOURNAL_CLOSE_WAIT_S = 30.0


def _assets_operation(record: OperationRecord) -> bool:
    return record.operation not in ("build", "details")


class UtilityPanels(QObject):
    """The open project's Activity and Problems tabs, and what shows their state elsewhere."""

    asset_link_activated = Signal(object)  # AffectedAsset: an Activity row's asset link
    problem_root_activated = Signal(str)  # the root of the asset a Problems row names

    def __init__(self, lane: EventLane, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self.pool = pool
        self.window: MainWindow | None = None
        self.model: ActivityModel | None = None
        self.panel: ActivityPanel | None = None
        self.progress: GlobalProgressWidget | None = None
        self.problems: ProblemsPanel | None = None
        self.problem_counts: QLabel | None = None  # the status bar's "✖ 1 error · ⚠ 2 warnings"
        self._history_shown: tuple[AssetKey | None, int, object] = (None, -1, None)

    def install(self, window: MainWindow, journal: ActivityJournal,
                history: list[JournalEntry], project_id: str) -> None:
        """Fresh tabs for a project just opened, restored from its history."""
        self.window = window
        self._install_activity(window, journal, history, project_id)
        self._install_problems(window, history)
        self.show_asset_history()  # the new project's history for what is selected

    def apply(self, items: Sequence[LaneEvent]) -> None:
        """The lane's events: into the timeline and the Problems view."""
        if self.model is not None:
            self.model.apply(items)
        if self.problems is not None:
            self.problems.apply(items)
        self.show_asset_history()

    def is_foreign(self, event: PackerEvent) -> bool:
        """An event of another project than the open one (a replayed log's, say)."""
        return self.model is not None and self.model.is_foreign(event.project_id)

    def _install_activity(self, window: MainWindow, journal: ActivityJournal,
                          history: list[JournalEntry], project_id: str) -> None:
        old_panel, old_progress = self.panel, self.progress
        self.retire_journal()
        model = ActivityModel(JournalWriter(journal), self, project_id=project_id)
        model.restore(history)
        # The Assets workspace's inline bar: its own operations (scans, doctor, mutations);
        # builds show in the run surface and the status bar, details reads are too short.
        window.assets.set_operation_bar(OperationProgressBar(model, _assets_operation))
        window.run_surface.project_id = project_id
        _show_last_build(window, model)
        panel = ActivityPanel(model)
        panel.asset_link_activated.connect(self._on_asset_link_activated)
        panel.unacknowledged_failures_changed.connect(self._on_failures_changed)
        progress = GlobalProgressWidget(model, self.lane)
        if old_panel is not None:
            window.utility.removeTab(window.utility.indexOf(old_panel))
            old_panel.deleteLater()
        if old_progress is not None:
            window.statusBar().removeWidget(old_progress)
            old_progress.deleteLater()
        if self.model is not None:
            self.model.deleteLater()
        window.utility.insertTab(0, panel, panel.title())
        window.utility.setCurrentIndex(0)
        window.statusBar().addPermanentWidget(progress)
        self.model, self.panel, self.progress = model, panel, progress

    def _install_problems(self, window: MainWindow, history: list[JournalEntry]) -> None:
        """A fresh Problems view, seeded with what the project's history reported."""
        old = self.problems
        if old is not None:
            window.utility.removeTab(window.utility.indexOf(old))
            old.deleteLater()
        problems = ProblemsPanel()
        problems.apply([LaneEvent(e.event, 1, e.made_by_lane) for e in history])
        problems.refresh_now()
        problems.asset_selected.connect(self._on_problem_root)
        problems.counts_changed.connect(self._on_problem_counts)
        window.utility.insertTab(1, problems, problems_tab_title(*problems.counts))
        if self.problem_counts is None:
            self.problem_counts = QLabel()
            self.problem_counts.setAccessibleName("Problem counts")
            self.problem_counts.setToolTip("Errors and warnings the packer reported "
                                           "(the Problems tab lists them)")
            window.statusBar().addPermanentWidget(self.problem_counts)
        self.problems = problems
        self._on_problem_counts(*problems.counts)

    @Slot(int, int)
    def _on_problem_counts(self, errors: int, warnings: int) -> None:
        if self.problem_counts is not None:
            self.problem_counts.setText(problem_counts_text(errors, warnings))
        if self.window is not None and self.problems is not None:
            self.window.set_utility_tab_title(self.problems, problems_tab_title(errors, warnings))

    @Slot(int)
    def _on_failures_changed(self, count: int) -> None:
        if self.window is not None and self.panel is not None:
            self.window.set_utility_tab_title(self.panel, activity_tab_title(count))

    @Slot(object)
    def _on_asset_link_activated(self, asset: AffectedAsset) -> None:
        self.asset_link_activated.emit(asset)

    @Slot(str)
    def _on_problem_root(self, root: str) -> None:
        self.problem_root_activated.emit(root)

    # -- the selected asset's History section --

    @Slot(object)
    def on_asset_selected(self, key: AssetKey | None) -> None:
        self._history_shown = (key, -1, None)
        self.show_asset_history()

    def show_asset_history(self) -> None:
        """The selected asset's History section, rewritten only when it got new entries."""
        model, window = self.model, self.window
        if model is None or window is None:
            return
        key = self._history_shown[0]
        version = model.asset_history.version(key) if key is not None else 0
        if (key, version, model) == self._history_shown:
            return
        self._history_shown = (key, version, model)
        window.assets.details.history.show_entries(
            model.asset_history.entries(key) if key is not None else ())

    @Slot(str)
    def show_operation(self, operation_id: str) -> None:
        """A History entry's operation, selected in the Activity tab (shown if hidden)."""
        panel, window = self.panel, self.window
        if panel is None or window is None:
            return
        window.utility_toggle.setChecked(True)  # shows the utility panel if it was hidden
        window.utility.setCurrentWidget(panel)
        panel.select_operation(operation_id)

    # -- the history file --

    def close_journal(self) -> None:
        """Exit: write the pending history and join its writer (waits for the disk, does no
        I/O itself; the writer thread has at most a quarter second of entries pending)."""
        if self.model is not None and self.model.journal is not None:
            self.model.journal.close(JOURNAL_CLOSE_WAIT_S)

    def retire_journal(self) -> None:
        """Project switch: the old history's writer finishes on a worker, off the GUI thread."""
        writer = self.model.journal if self.model is not None else None
        if writer is not None:
            self.pool.submit("Save activity history",
                             lambda sink, token: writer.close(JOURNAL_CLOSE_WAIT_S))


def _show_last_build(window: MainWindow, model: ActivityModel) -> None:
    """The run surface says the opened project's own last build, from its history."""
    last = model.last_build()
    if last is None:
        window.run_surface.show_no_build()
    else:
        window.run_surface.show_finished(
            last.summary, ok=last.status not in PINNED_STATUSES,
            blocked=last.status is OperationStatus.BLOCKED)
