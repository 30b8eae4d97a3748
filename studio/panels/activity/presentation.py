"""How Activity rows look: texts, icons and the inline bar, computed once per change.

The model stores these in Qt items, so painting never calls back into Python (under a flood,
every call from Qt into Python waits for the GIL; see docs/benchmarks.md, "Event lane"). The
inline progress bar is the cell's background brush: a gradient with a hard stop at the fraction
(determinate) or a hatch pattern (indeterminate).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QGradient,
    QIcon,
    QLinearGradient,
    QPainter,
    QPixmap,
)

from studio.panels.activity.failures import problems
from studio.panels.activity.records import (
    BurstNode,
    EventNode,
    GroupNode,
    OperationRecord,
    OperationStatus,
)

# Status is an icon column (its words are the tooltip and the accessible text); Operation
# stretches and carries the tree; the others have fixed widths so rows never make it jump.
COLUMNS = ("", "Operation", "Progress", "Elapsed", "Counts")
COLUMN_TITLES = ("Status", "Operation", "Progress", "Elapsed", "Counts")
REPLAY_MARK = "⟲ "  # prefixes a replayed operation's text; the tooltip says from where
COL_STATUS, COL_OPERATION, COL_PROGRESS, COL_ELAPSED, COL_COUNTS = range(5)
NODE_ROLE = Qt.ItemDataRole.UserRole + 1  # the record / group / event node behind a row
BAR_ROLE = Qt.ItemDataRole.UserRole + 2  # float fraction, -1.0 when indeterminate, None: no bar
INDETERMINATE = -1.0
BAR_COLOUR = QColor(70, 130, 200, 150)

# Drawn by severity, the same in every style: failed red, blocked amber, cancelled and
# incomplete neutral (a user's cancel is no alarm), succeeded green, running blue.
STATUS_COLOURS = {
    OperationStatus.RUNNING: QColor("#1565c0"),
    OperationStatus.SUCCEEDED: QColor("#2e7d32"),
    OperationStatus.FAILED: QColor("#c62828"),
    OperationStatus.BLOCKED: QColor("#e08600"),
    OperationStatus.CANCELLED: QColor("#757575"),
    OperationStatus.INCOMPLETE: QColor("#9e9e9e"),
}
_GLYPHS = {
    OperationStatus.RUNNING: "…", OperationStatus.SUCCEEDED: "✓", OperationStatus.FAILED: "✕",
    OperationStatus.BLOCKED: "!", OperationStatus.CANCELLED: "–", OperationStatus.INCOMPLETE: "?",
}
ICON_SIZE = 32


@cache
def status_icon(status: OperationStatus) -> QIcon:
    """A filled disc in the status's colour with its glyph (drawn once per status)."""
    pixmap = QPixmap(ICON_SIZE, ICON_SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(STATUS_COLOURS[status])
    painter.drawEllipse(1, 1, ICON_SIZE - 2, ICON_SIZE - 2)
    font = QFont()
    font.setPixelSize(20)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, _GLYPHS[status])
    painter.end()
    return QIcon(pixmap)


@cache
def row_font(pinned: bool, replayed: bool) -> QFont:
    """Bold: a failure nobody has acknowledged. Italic: replayed from a log, not lived here."""
    font = QFont()
    font.setBold(pinned)
    font.setItalic(replayed)
    return font


@cache
def bar_brush(percent: int) -> QBrush:
    """A determinate bar filling `percent` of the cell (one brush per percent, shared)."""
    gradient = QLinearGradient(0, 0, 1, 0)
    gradient.setCoordinateMode(QGradient.CoordinateMode.ObjectBoundingMode)
    stop = max(0.0, min(1.0, percent / 100))
    clear = QColor(0, 0, 0, 0)
    gradient.setColorAt(0.0, BAR_COLOUR)
    gradient.setColorAt(stop, BAR_COLOUR)
    gradient.setColorAt(min(1.0, stop + 0.001), clear)
    gradient.setColorAt(1.0, clear if percent < 100 else BAR_COLOUR)
    return QBrush(gradient)


@cache
def busy_brush() -> QBrush:
    return QBrush(BAR_COLOUR, Qt.BrushStyle.BDiagPattern)


def format_seconds(seconds: float) -> str:
    if seconds < 0.0005:
        return "<1 ms"  # "0 ms" read as "did not run"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s"


def _about(seconds: float) -> str:
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def live_note(rec: OperationRecord, now: float) -> str:
    """For a running operation: "no progress for 7 s", or its rate and smoothed time left
    ("120 assets/s, about 8 s left"; "120 assets/s · 1.5 MB/s, about 8 s left" when its progress
    carries input bytes); empty otherwise. Time-dependent: made per refresh."""
    stalled = rec.stalled_for(now)
    if stalled is not None:
        return f"no progress for {int(stalled)} s"
    left = rec.time_left()
    if left is None or rec.rate is None or rec.progress is None:
        return ""
    rate = f"{_rate(rec.rate)} {rec.progress.unit}/s"
    if rec.byte_rate is not None and rec.progress.bytes_done is not None:
        rate += f" · {_rate(rec.byte_rate / 1_000_000)} MB/s"
    return f"{rate}, {_about(left)}"


def bar_value(rec: OperationRecord, now: float) -> float | None:
    if not rec.bar_visible(now):
        return None
    fraction = rec.progress.fraction if rec.progress is not None else None
    return INDETERMINATE if fraction is None else fraction


def status_text(rec: OperationRecord) -> str:
    """The status in words: the icon's tooltip and accessible text."""
    return rec.status.value + (" — not acknowledged" if rec.pinned else "")


def operation_label(operation: str) -> str:
    """The event's `operation` field in words: "adopt_asset.preview" → "Preview · adopt",
    "adopt_asset" → "Adopt", "build" → "Build". A mapping of the name, nothing more."""
    name, _, stage = operation.partition(".")
    words = name.removesuffix("_asset").replace("_", " ").strip() or operation
    if stage == "preview":
        return f"Preview · {words}"
    label = words[:1].upper() + words[1:]
    return f"{label} · {stage.replace('_', ' ')}" if stage else label


def _first_word(text: str) -> str:
    return text.split(maxsplit=1)[0].strip(":·,").casefold() if text.strip() else ""


def operation_text(rec: OperationRecord) -> str:
    """The label, then the packer's own summary. When the summary already opens with the
    label's word ("Build succeeded", "Preview of adopt …", "Listed 5 assets") the label would
    say it twice, so the summary stands alone (tooltip and inspection show both)."""
    label = operation_label(rec.operation)
    word = _first_word(label)
    text = (rec.summary if word and _first_word(rec.summary).startswith(word)
            else f"{label} · {rec.summary}")
    found = problems(rec)
    if found and found[0].line() not in text:
        # A failure's row says what went wrong: code, file, message (the fix: its tooltip).
        text += f" — {found[0].line()}"
        if len(found) > 1:
            text += f" (+{len(found) - 1} more)"
    return REPLAY_MARK + text if rec.origin is not None else text


def started_at(rec: OperationRecord) -> str:
    """When the operation started, local time of day (the stream carries UTC timestamps)."""
    return local_time(rec.first_timestamp)


def local_time(stamp: datetime) -> str:
    local = stamp.astimezone()
    today = datetime.now().astimezone().date()
    clock = local.strftime("%H:%M:%S")
    return clock if local.date() == today else f"{local.date().isoformat()} {clock}"


def compact_counts(rec: OperationRecord) -> str:
    """The Counts column: findings first (they matter most), then assets and the cache, short
    enough for a narrow fixed column; the tooltip and inspection spell them out. When the build
    looked each of its assets up once, "4 assets, 3 cached" says what "4 assets · 3/4 cached"
    does (the denominator is the asset count) in less room."""
    parts: list[str] = []
    if rec.diagnostics is not None:
        errors, warnings = rec.diagnostics
        found = " ".join(f"{mark}{n}" for mark, n in (("✖", errors), ("⚠", warnings)) if n)
        if found:
            parts.append(found)
    looked_up = rec.cache_hits + rec.cache_misses
    assets = f"{rec.asset_count} asset{'' if rec.asset_count == 1 else 's'}"
    if looked_up and looked_up == rec.asset_count:
        parts.append(f"{assets}, {rec.cache_hits} cached")
        return " · ".join(parts)
    if rec.asset_count:
        parts.append(assets)
    if looked_up:
        parts.append(f"{rec.cache_hits}/{looked_up} cached")
    return " · ".join(parts)


def operation_tooltip(rec: OperationRecord) -> str:
    lines = [f"{operation_label(rec.operation)} — started {started_at(rec)}",
             rec.summary, f"Operation: {rec.operation}", f"Status: {status_text(rec)}"]
    if rec.counts_text():
        lines.append(f"Counts: {rec.counts_text()}")
    for problem in problems(rec)[:5]:
        lines.append(problem.line() + (f"\n    Fix: {problem.fix}" if problem.fix else ""))
    if rec.origin is not None:
        lines.append(f"{rec.origin.capitalize()} — shown here, not saved in this project's "
                     "history")
    return "\n".join(lines)


def progress_cell(rec: OperationRecord, bar: float | None) -> str:
    """The Progress column, given the row's bar value (see bar_value)."""
    if bar is None and not rec.running and rec.progress is not None:
        # Done: "4/4" is enough in a narrow column (the unit is in the inspection pane).
        p = rec.progress
        return f"{p.done}/{p.total}" if p.total is not None else str(p.done)
    if bar is None:
        return rec.progress_text()
    if bar == INDETERMINATE:
        return rec.progress_text() or "working…"
    return f"{bar:.0%}"


# A fold's icon when its reads ended differently: the one that most needs a look wins.
_FOLD_PRECEDENCE = (OperationStatus.RUNNING, OperationStatus.INCOMPLETE,
                    OperationStatus.CANCELLED, OperationStatus.SUCCEEDED)


def burst_status(burst: BurstNode) -> OperationStatus:
    """The status its reads share, or the first of _FOLD_PRECEDENCE among them."""
    statuses = burst.statuses()
    for status in _FOLD_PRECEDENCE:
        if status in statuses:
            return status
    return next(iter(statuses), OperationStatus.SUCCEEDED)


def burst_status_text(burst: BurstNode) -> str:
    """Each outcome with its count: "3 cancelled", "2 succeeded, 1 cancelled"."""
    return ", ".join(f"{count} {status.value}" for status, count in burst.statuses().items())


def burst_row(burst: BurstNode) -> tuple[str, str, str, str, str]:
    running = sum(1 for op in burst.ops if op.running)
    return (
        "",
        REPLAY_MARK + burst.label if burst.origin is not None else burst.label,
        f"{running} running" if running else "",
        "",
        burst.breakdown(),
    )


FOLD_EXPLANATION = (
    "Consecutive reads (list, details, scan) are folded into one row so builds and changes "
    "stand out. Expand it to see each one; a read that fails or is blocked, or whose findings "
    "differ from the same read's before, gets its own row."
)


def burst_tooltip(burst: BurstNode) -> str:
    span = ""
    if burst.ops:  # newest first
        first, last = started_at(burst.ops[-1]), started_at(burst.ops[0])
        span = f"Started {first}" if first == last else f"Started {first} to {last}"
    lines = [
        f"{burst.label}: {burst.breakdown()}",
        burst_status_text(burst),
        span,
        FOLD_EXPLANATION,
    ]
    if burst.origin is not None:
        lines.append(burst.origin.capitalize())
    return "\n".join(lines)


def group_row(group: GroupNode) -> tuple[str, str]:
    not_kept = group.count - len(group.children)
    return "", group.label + (f" · {not_kept} more not kept" if not_kept > 0 else "")


def event_row(node: EventNode) -> tuple[str, str, str, str, str]:
    event = node.item.event
    progress = ""
    if event.progress is not None:
        p = event.progress
        progress = f"{p.done}/{p.total}" if p.total is not None else str(p.done)
    record = node.parent if isinstance(node.parent, OperationRecord) else node.parent.parent
    offset = max(0.0, (event.timestamp - record.first_timestamp).total_seconds())
    assets = ", ".join(a.name or a.root for a in event.affected_assets[:3]) + (
        "…" if len(event.affected_assets) > 3 else ""
    )
    made = " (made by the Studio)" if node.item.made_by_lane else ""
    return (
        "",
        f"{event.kind.value}{made}: {event.summary}",
        progress,
        "+" + format_seconds(offset),
        assets,
    )
