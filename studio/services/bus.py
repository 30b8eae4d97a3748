"""The typed Studio event bus: one global bus, one bus per workspace.

Subscribers name the event class they want (subclasses are delivered too) and get a
:class:`Subscription` back to unsubscribe explicitly. An event published on a workspace bus is
delivered to that workspace's subscribers and then republished on the global bus; the global bus
never forwards to workspace buses. The bus belongs to the GUI thread: publishing from another
thread raises (events cross threads only through studio.services.event_lane).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from studio.services.lane_items import LaneEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StudioEvent:
    """Base class of everything published on a bus."""


@dataclass(frozen=True, slots=True)
class PackerEventsDelivered(StudioEvent):
    """An ordered chunk of packer events delivered by the event lane (lifecycle + progress)."""

    items: tuple[LaneEvent, ...]


@dataclass(frozen=True, slots=True)
class OperationProgressChanged(StudioEvent):
    """The latest coalesced progress per operation, once per lane drain."""

    latest: Mapping[str, LaneEvent]


E = TypeVar("E", bound=StudioEvent)


class Subscription:
    """A handle; `unsubscribe()` stops delivery (idempotent)."""

    __slots__ = ("_bus", "_entry", "event_type")

    def __init__(self, bus: StudioBus, event_type: type[StudioEvent], entry: object) -> None:
        self._bus: StudioBus | None = bus
        self.event_type = event_type
        self._entry = entry

    @property
    def active(self) -> bool:
        return self._bus is not None

    def unsubscribe(self) -> None:
        if self._bus is not None:
            self._bus._remove(self.event_type, self._entry)
            self._bus = None


class StudioBus:
    """A bus; `parent` is the global bus when this one belongs to a workspace."""

    def __init__(self, name: str = "global", parent: StudioBus | None = None) -> None:
        self.name = name
        self.parent = parent
        self._owner = threading.get_ident()
        self._handlers: dict[type[StudioEvent], list[tuple[Callable[[Any], None]]]] = {}

    def workspace_bus(self, name: str) -> StudioBus:
        """A bus for one workspace; what it publishes is republished here."""
        if self.parent is not None:
            raise ValueError("workspace buses hang off the global bus only")
        return StudioBus(name, parent=self)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Subscription:
        # A 1-tuple per subscription: identity tells apart two subscriptions of one handler.
        entry = (handler,)
        self._handlers.setdefault(event_type, []).append(entry)
        return Subscription(self, event_type, entry)

    def subscriber_count(self, event_type: type[StudioEvent]) -> int:
        return len(self._handlers.get(event_type, ()))

    def publish(self, event: StudioEvent) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError(
                f"bus {self.name!r} published from another thread; use studio.services.event_lane"
            )
        for cls in type(event).__mro__:
            entries = self._handlers.get(cls)
            if not entries:
                continue
            for entry in tuple(entries):  # a handler may unsubscribe while we iterate
                if not any(e is entry for e in entries):
                    continue
                try:
                    entry[0](event)
                except Exception:
                    # One broken subscriber must not starve the others (or the lane's drain).
                    log.exception("bus %r: handler %r failed", self.name, entry[0])
        if self.parent is not None:
            self.parent.publish(event)

    def _remove(self, event_type: type[StudioEvent], entry: object) -> None:
        entries = self._handlers.get(event_type)
        if entries is not None:
            for i, existing in enumerate(entries):
                if existing is entry:
                    del entries[i]
                    break
