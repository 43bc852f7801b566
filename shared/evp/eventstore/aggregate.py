"""Event-sourced aggregates: commands check invariants and emit events; state is their fold.

A subclass names the events it accepts, folds one event into its state in :meth:`apply`,
and exposes commands that check the rules and call :meth:`trigger`::

    class User(Aggregate[UserRegistered | EmailChanged]):
        EVENTS = (UserRegistered, EmailChanged)

        def __init__(self, aggregate_id: str) -> None:
            super().__init__(aggregate_id)
            self.email = ""

        def change_email(self, new_email: str) -> None:
            if new_email == self.email:
                raise ValueError("the email address is unchanged")
            self.trigger(EmailChanged.new(user_id=..., previous_email=self.email,
                                          new_email=new_email, source="users"))

        def apply(self, event: UserRegistered | EmailChanged) -> None:
            match event:
                case UserRegistered():
                    self.email = event.email
                case EmailChanged():
                    self.email = event.new_email

Loading replays the stream through :meth:`apply`; saving appends the triggered events with
the version the aggregate was loaded at, so history and time travel come for free.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, Self, TypeVar, cast

from evp.avro import Event
from evp.eventstore.errors import EventStoreError

__all__ = ["Aggregate", "UnexpectedEvent"]

E = TypeVar("E", bound=Event)


class UnexpectedEvent(EventStoreError):
    """A stream holds an event its aggregate does not know how to apply."""

    def __init__(self, aggregate_type: str, aggregate_id: str, event_type: str) -> None:
        super().__init__(
            f"{aggregate_type} does not apply {event_type}",
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            event_type=event_type,
        )


class Aggregate(abc.ABC, Generic[E]):
    """An aggregate whose state is the fold of its events ``E``; ``version`` counts them."""

    EVENTS: ClassVar[tuple[type[Any], ...]]
    """The event classes this aggregate applies (checked when replaying a stream)."""

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0
        self._pending: list[E] = []

    @abc.abstractmethod
    def apply(self, event: E) -> None:
        """Fold one event into the state. It must not fail or emit: the event happened."""

    def trigger(self, event: E) -> None:
        """Apply a new event now and keep it for the next save."""
        self.apply(event)
        self.version += 1
        self._pending.append(event)

    @property
    def pending_events(self) -> tuple[E, ...]:
        """Events triggered since the aggregate was loaded or last saved."""
        return tuple(self._pending)

    def mark_saved(self) -> None:
        """Forget the pending events once they are stored."""
        self._pending.clear()

    @classmethod
    def replay(cls, aggregate_id: str, events: Iterable[Event]) -> Self:
        """The aggregate rebuilt from its stored events, oldest first."""
        aggregate = cls(aggregate_id)
        for event in events:
            if not isinstance(event, cls.EVENTS):
                raise UnexpectedEvent(cls.__name__, aggregate_id, event.FULL_NAME)
            aggregate.apply(cast(E, event))
            aggregate.version += 1
        return aggregate
