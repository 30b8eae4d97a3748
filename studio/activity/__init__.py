"""The Activity panel: a structured timeline of what the packer did, fed by the event lane.

Public pieces: ActivityModel (the timeline), ActivityPanel (the widget), ActivityJournal (history
in `<project>/.studio/activity.jsonl`, written by a JournalWriter thread), and
studio.activity.replay (JSON-lines logs).
"""

from studio.activity.journal import ActivityJournal, JournalEntry, journal_path
from studio.activity.journal_writer import JournalWriter
from studio.activity.model import ActivityModel
from studio.activity.panel import ActivityPanel, tab_title
from studio.activity.records import OperationRecord, OperationStatus

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
