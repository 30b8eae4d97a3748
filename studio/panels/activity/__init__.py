"""The Activity panel: a structured timeline of what the packer did, fed by the event lane.

Public pieces: ActivityModel (the timeline), ActivityPanel (the widget), ActivityJournal (history
in `<project>/.studio/activity.jsonl`, written by a JournalWriter thread),
studio.panels.activity.replay (JSON-lines logs) and studio.panels.activity.progress (the progress
bars, fed by the ActivityModel).
"""

from studio.panels.activity.journal import ActivityJournal, JournalEntry, journal_path
from studio.panels.activity.journal_writer import JournalWriter
from studio.panels.activity.model import ActivityModel
from studio.panels.activity.panel import ActivityPanel, tab_title
from studio.panels.activity.records import OperationRecord, OperationStatus

__all__ = [
    "ActivityJournal",
    "ActivityModel",
    "ActivityPanel",
    "JournalEntry",
    "JournalWriter",
    "OperationRecord",
    "OperationStatus",
    "journal_path",
    "tab_title",
]
