"""The Problems view: every finding reported, by asset; a click selects the asset; counts."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from packer.diagnostics import CATALOGUE
from packer.lane.events import (
    AffectedAsset,
    BuildFinishedDetail,
    DiagnosticSummary,
    DiagnosticsUpdatedDetail,
    EventKind,
    Outcome,
)
from studio.panels.problems.panel import ProblemsPanel
from studio.services.lane_items import LaneEvent
from tests.studio.helpers import ScriptedPrompter, open_and_list, running_studio
from tests.studio.lane_events import event
from tests.studio.synthetic import add_glyph_bank, make_raw_project

HERO = AffectedAsset(asset_id=3, root="gfx/hero", name="hero")
BAD_TILE = DiagnosticSummary(code="PK128", severity="error", root="gfx/hero",
                             file="001_tile.png", message="tile cannot be decoded")
LOOSE = DiagnosticSummary(code="PK201", severity="warning", root="wip/loose",
                          file="asset.json", message="wip/loose is not registered")


def report(op: str, operation: str, *found: DiagnosticSummary, terminal: bool = True,
           assets: tuple[AffectedAsset, ...] = ()) -> LaneEvent:
    errors = sum(d.severity == "error" for d in found)
    return LaneEvent(event(op, 1, EventKind.DIAGNOSTICS_UPDATED, operation=operation,
                           terminal=terminal, outcome=Outcome.SUCCEEDED if terminal else None,
                           assets=assets).model_copy(update={"detail": DiagnosticsUpdatedDetail(
                               errors=errors, warnings=len(found) - errors,
                               diagnostics=found)}))


def build_end(op: str, *blocking: DiagnosticSummary) -> LaneEvent:
    return LaneEvent(event(op, 2, EventKind.BUILD_FINISHED, operation="build", terminal=True,
                           outcome=Outcome.BLOCKED if blocking else Outcome.SUCCEEDED
                           ).model_copy(update={"detail": BuildFinishedDetail(
                               blocking=blocking)}))


def test_each_report_replaces_its_own_and_the_view_shows_their_union(qtbot: QtBot) -> None:
    panel = ProblemsPanel()
    qtbot.addWidget(panel)
    counts: list[tuple[int, int]] = []
    panel.counts_changed.connect(lambda e, w: counts.append((e, w)))
    def apply(*items: LaneEvent) -> None:
        panel.apply(list(items))
        panel.refresh_now()  # the timer's work, now

    apply(report("l1", "list", LOOSE))
    apply(build_end("b1", BAD_TILE))
    assert panel.rows() == [
        ("gfx/hero", "PK128", "error", "tile cannot be decoded", "001_tile.png",
         CATALOGUE["PK128"].fix),
        ("wip/loose", "PK201", "warning", "wip/loose is not registered", "asset.json",
         CATALOGUE["PK201"].fix),
    ]
    apply(report("l2", "list", LOOSE))  # a listing does not clear the build's finding
    assert [r[1] for r in panel.rows()] == ["PK128", "PK201"]
    apply(report("d1", "doctor", BAD_TILE, terminal=False, assets=(HERO,)))
    assert [r[1] for r in panel.rows()] == ["PK128", "PK201"]  # the same finding shows once
    apply(build_end("b2"))  # the next build found nothing
    apply(report("d2", "doctor"))  # nor did the doctor
    assert [r[1] for r in panel.rows()] == ["PK201"]
    apply(report("x", "details", assets=(AffectedAsset(asset_id=None, root="wip/loose",
                                                       name="loose"),)))
    assert panel.rows() == [] and panel.summary.text() == "No problems reported"
    assert counts == [(0, 1), (1, 1), (0, 1), (0, 0)]


def test_replayed_reports_are_not_this_project_s_problems(qtbot: QtBot) -> None:
    panel = ProblemsPanel()
    qtbot.addWidget(panel)
    replayed = report("l1", "list", LOOSE)._replace(origin="replayed from ci.jsonl")
    panel.apply([replayed])
    panel.refresh_now()
    assert panel.rows() == []


def test_a_blocked_build_lists_its_finding_and_a_click_selects_the_asset(
    qtbot: QtBot, tmp_path: Path
) -> None:
    project = make_raw_project(tmp_path / "game", registered=2, unregistered=0, name="game")
    hero_id = add_glyph_bank(project, "gfx/hero")
    (project.assets_dir / "gfx" / "hero" / "001_tile.png").write_bytes(b"not a png")
    with running_studio(ScriptedPrompter()) as studio:
        window = open_and_list(qtbot, studio, project.root)
        assert studio.session is not None and studio.problems_panel is not None
        problems = studio.problems_panel
        with qtbot.waitSignal(studio.build_ended, timeout=20_000):
            studio.session.build()
        qtbot.waitUntil(lambda: any(r[1] == "PK128" for r in problems.rows()), timeout=10_000)
        [row] = [r for r in problems.rows() if r[1] == "PK128"]
        assert row[0] == "gfx/hero" and row[2] == "error" and row[4] == "001_tile.png"
        assert studio.problem_counts is not None
        assert studio.problem_counts.text().startswith("✖ 1 error")
        assert window.utility.tabText(window.utility.indexOf(problems)).startswith("Problems (")
        top = problems.tree.topLevelItem(0)
        assert top is not None and top.text(0) == "gfx/hero"
        problems.tree.itemClicked.emit(top.child(0), 0)
        assert window.assets.navigator.selected_key() == ("id", hero_id)
        qtbot.waitUntil(lambda: not studio.pool.busy, timeout=10_000)  # its details read


def test_a_flood_of_reports_is_shown_once_per_tick_and_capped(qtbot: QtBot) -> None:
    from studio.panels.problems import panel as panel_module

    panel = ProblemsPanel()
    qtbot.addWidget(panel)
    shows: list[int] = []
    real_show = panel._show

    def counting_show() -> None:
        shows.append(1)
        real_show()

    panel._show = counting_show  # type: ignore[method-assign]
    for n in range(panel_module.MAX_SHOWN + 10):  # a doctor run: one report per asset
        asset = AffectedAsset(asset_id=n, root=f"raw/a{n:05d}", name=None)
        found = DiagnosticSummary(code="PK203", severity="info", root=asset.root,
                                  file="x.txt", message="not an input")
        panel.apply([report(f"d{n}", "doctor", found, terminal=False, assets=(asset,))])
    assert shows == []  # nothing rebuilt per batch
    qtbot.waitUntil(lambda: len(shows) == 1)
    assert len(panel.rows()) == panel_module.MAX_SHOWN
    assert "10 more not shown" in panel.summary.text()


def test_a_report_that_changes_nothing_shown_keeps_the_items(qtbot: QtBot) -> None:
    """The tree is made again only when what it shows changed (a 10k listing's findings, made
    again after every build that reported nothing new, stalled the GUI thread)."""
    panel = ProblemsPanel()
    qtbot.addWidget(panel)
    panel.apply([report("l1", "list", LOOSE)])
    panel.refresh_now()
    first = panel.tree.topLevelItem(0)
    panel.apply([build_end("b1")])  # a clean build: nothing new to show
    panel.refresh_now()
    assert panel.tree.topLevelItem(0) is first
    panel.apply([build_end("b2", BAD_TILE)])
    panel.refresh_now()
    assert [r[1] for r in panel.rows()] == ["PK128", "PK201"]
    assert panel.summary.text() == "✖ 1 error · ⚠ 1 warning"
