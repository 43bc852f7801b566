"""The one causation rule: what a handler emits continues the flow of what it handles.

While a subscriber's handler runs, the consumer makes the event it handles current
(:func:`enter_handling`; tasks the handler starts inherit it). Both ways an event leaves a
handler apply :func:`linked_to_handled`: publishing it on the bus, and appending it to the
event store, whose outbox relay publishes it later. So a reaction carries its cause and its
flow's correlation id whichever path it takes.

A leaf module (it imports only the event Protocol), so messaging and the event store both
depend on it and never on each other for this.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from evp.avro.record import Event

__all__ = ["enter_handling", "exit_handling", "handled_event", "handling", "linked_to_handled"]

E = TypeVar("E", bound=Event)

_handled: contextvars.ContextVar[Event | None] = contextvars.ContextVar(
    "evp_handled_event", default=None
)


def handled_event() -> Event | None:
    """The event whose handler is running in this context, if any."""
    return _handled.get()


@contextmanager
def handling(event: Event) -> Iterator[None]:
    """Make ``event`` the handled event for the duration of the ``with`` block."""
    token = _handled.set(event)
    try:
        yield
    finally:
        _handled.reset(token)


def enter_handling(event: Event) -> contextvars.Token[Event | None]:
    """:func:`handling` without the context manager, for the consumer's hot path."""
    return _handled.set(event)


def exit_handling(token: contextvars.Token[Event | None]) -> None:
    """Undo :func:`enter_handling`."""
    _handled.reset(token)


def linked_to_handled(event: E) -> E:
    """``event`` caused by the handled event, when it was built as the start of a new flow.

    An event built without ``caused_by`` or ``correlation_id`` has no causation id and is
    correlated by its own id. Emitted from a handler, it is in fact a reaction: it takes
    the handled event's correlation id, and the handled event becomes its cause. Events
    whose links were set explicitly are returned unchanged.
    """
    cause = _handled.get()
    # Generated events are frozen dataclasses; other Event implementations are left alone.
    if cause is None or not hasattr(event, "__dataclass_fields__"):
        return event
    envelope = event.envelope
    if envelope.causation_id is not None or cause.envelope.event_id == envelope.event_id:
        return event
    correlation_id = envelope.correlation_id
    if correlation_id == envelope.event_id:
        correlation_id = cause.envelope.correlation_id
    linked = dataclasses.replace(
        cast(Any, envelope), correlation_id=correlation_id, causation_id=cause.envelope.event_id
    )
    return cast(E, dataclasses.replace(cast(Any, event), envelope=linked))
