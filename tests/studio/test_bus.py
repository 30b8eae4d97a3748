"""The Studio bus: typed delivery, workspace → global propagation (never back), unsubscribe."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from studio.services.bus import StudioBus, StudioEvent, Subscription


@dataclass(frozen=True, slots=True)
class AssetSelected(StudioEvent):
    root: str


@dataclass(frozen=True, slots=True)
class ProjectOpened(StudioEvent):
    path: str


@dataclass(frozen=True, slots=True)
class SpecialSelection(AssetSelected):
    why: str


def test_subscribers_get_only_their_event_type_and_subclasses() -> None:
    bus = StudioBus()
    selected: list[AssetSelected] = []
    opened: list[ProjectOpened] = []
    bus.subscribe(AssetSelected, selected.append)
    bus.subscribe(ProjectOpened, opened.append)
    bus.publish(AssetSelected("a"))
    bus.publish(SpecialSelection("b", "test"))
    bus.publish(ProjectOpened("/p"))
    assert selected == [AssetSelected("a"), SpecialSelection("b", "test")]
    assert opened == [ProjectOpened("/p")]


def test_workspace_events_are_republished_on_the_global_bus() -> None:
    global_bus = StudioBus()
    assets = global_bus.workspace_bus("assets")
    order: list[str] = []
    assets.subscribe(AssetSelected, lambda e: order.append(f"assets:{e.root}"))
    global_bus.subscribe(AssetSelected, lambda e: order.append(f"global:{e.root}"))
    assets.publish(AssetSelected("x"))
    assert order == ["assets:x", "global:x"]


def test_global_events_never_reach_workspace_buses() -> None:
    global_bus = StudioBus()
    assets = global_bus.workspace_bus("assets")
    build = global_bus.workspace_bus("build")
    seen: list[str] = []
    assets.subscribe(StudioEvent, lambda e: seen.append("assets"))
    build.subscribe(StudioEvent, lambda e: seen.append("build"))
    global_bus.publish(ProjectOpened("/p"))
    assert seen == []
    build.publish(ProjectOpened("/p"))  # nor does one workspace's event reach a sibling
    assert seen == ["build"]


def test_unsubscribe_stops_delivery_and_is_idempotent() -> None:
    bus = StudioBus()
    got: list[StudioEvent] = []
    first = bus.subscribe(AssetSelected, got.append)
    second = bus.subscribe(AssetSelected, got.append)  # the same handler twice: two handles
    bus.publish(AssetSelected("1"))
    first.unsubscribe()
    first.unsubscribe()
    assert not first.active and second.active
    bus.publish(AssetSelected("2"))
    second.unsubscribe()
    bus.publish(AssetSelected("3"))
    assert got == [AssetSelected("1"), AssetSelected("1"), AssetSelected("2")]
    assert bus.subscriber_count(AssetSelected) == 0


def test_unsubscribing_during_delivery_skips_the_removed_handler() -> None:
    bus = StudioBus()
    got: list[str] = []
    handles: list[Subscription] = []

    def first(event: AssetSelected) -> None:
        got.append("first")
        handles[1].unsubscribe()

    handles.append(bus.subscribe(AssetSelected, first))
    handles.append(bus.subscribe(AssetSelected, lambda e: got.append("second")))
    bus.publish(AssetSelected("x"))
    assert got == ["first"]


def test_a_failing_handler_does_not_starve_the_others(caplog: pytest.LogCaptureFixture) -> None:
    bus = StudioBus()
    got: list[str] = []

    def broken(event: AssetSelected) -> None:
        raise ValueError("bug")

    bus.subscribe(AssetSelected, broken)
    bus.subscribe(AssetSelected, lambda e: got.append(e.root))
    bus.publish(AssetSelected("x"))
    assert got == ["x"]
    assert "handler" in caplog.text


def test_publishing_from_another_thread_is_refused() -> None:
    bus = StudioBus()
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            bus.publish(AssetSelected("x"))
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=publish)
    thread.start()
    thread.join()
    assert errors and "event_lane" in str(errors[0])


def test_workspace_buses_hang_off_the_global_bus_only() -> None:
    with pytest.raises(ValueError):
        StudioBus().workspace_bus("a").workspace_bus("b")
