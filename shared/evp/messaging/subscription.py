"""What a service declares about consuming: which handler takes which events, in which group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from evp.avro.record import Event
from evp.messaging.errors import InvalidSubscription
from evp.messaging.message import MessageContext

__all__ = ["Handler", "Route", "Subscription"]

Handler = Callable[[Any, MessageContext], Awaitable[None]]
"""An async function taking one of its declared event types and the message context."""


@dataclass(frozen=True)
class Route:
    """One handler's claim on one event type within a group."""

    reader: type[Event]
    handler: Handler
    retries: int
    timeout: float
    """Seconds an attempt may run before it is cut off and counts as failed."""

    @property
    def name(self) -> str:
        """The handler's qualified name, for logs."""
        return getattr(self.handler, "__qualname__", repr(self.handler))


@dataclass
class Subscription:
    """The handlers of one consumer group, by the full name of the event record they take.

    A topic carries several event types; a group's consumer reads every topic its event
    types are published to and passes each event to the one handler declared for its type.
    Events of other types on those topics are skipped.
    """

    group: str
    routes: dict[str, Route] = field(default_factory=dict)

    def add(
        self, events: Iterable[type[Event]], handler: Handler, *, retries: int, timeout: float
    ) -> None:
        """Route ``events`` to ``handler``; an event type may have one handler per group."""
        declared = list(events)
        if not declared:
            raise InvalidSubscription(
                "a subscriber must declare at least one event type", group=self.group
            )
        for event_type in declared:
            taken = self.routes.get(event_type.FULL_NAME)
            if taken is not None:
                raise InvalidSubscription(
                    f"{event_type.FULL_NAME} already goes to {taken.name} in this group; "
                    "a group passes each event to one handler (use another group for a second)",
                    group=self.group,
                )
            if retries < 0:
                raise InvalidSubscription(f"retries must be >= 0, not {retries}", group=self.group)
            if not timeout > 0:
                raise InvalidSubscription(f"timeout must be > 0 s, not {timeout}", group=self.group)
            self.routes[event_type.FULL_NAME] = Route(event_type, handler, retries, timeout)

    def topics(self, topic_of: Callable[[type[Event]], str]) -> list[str]:
        """The topics the group reads, given how event types map to topics."""
        return sorted({topic_of(route.reader) for route in self.routes.values()})

    @property
    def readers(self) -> Mapping[str, type[Event]]:
        """The event class of each routed record name."""
        return {name: route.reader for name, route in self.routes.items()}
