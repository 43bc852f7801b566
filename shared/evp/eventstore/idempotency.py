"""Idempotent consumers: a handler's body runs once per (consumer group, event id).

Delivery is at-least-once, so a handler can see an event again (a crash between its work
and the offset commit, a rebalance, a replay). The record that an event was processed
must commit in the same transaction as the handler's own writes, or a crash between the
two would lose one of them. So there is one mechanism, the event store's tracking:
:meth:`ProcessedEvents.claim` opens a recorder transaction, marks the event processed in
it (:meth:`~evp.eventstore.Transaction.mark_processed`, which makes a concurrent claim of
the same event wait and lose) and hands the handler that transaction; events the handler
appends to the same store join it without being passed it
(:mod:`evp.eventstore.unit_of_work`). :class:`TrackedProcessedEvents` does this over any
tracking recorder -- Postgres in services, :class:`InMemoryProcessedEvents` over the
in-memory recorder in tests, the same code either way.

Use :func:`idempotent` on a handler, or claim explicitly when the handler needs the
transaction (its own SQL on ``claim.transaction.connection``)::

    async with processed.claim("payments", event.envelope.event_id) as claim:
        if claim.new:
            await store.append(stream, [payment], expected_version=0)  # joins the claim
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import wraps
from typing import Any, Generic, Protocol, TypeVar

from evp.avro.record import Event
from evp.eventstore.memory import MemoryRecorder, MemoryTransaction
from evp.eventstore.recorder import TrackingRecorder, Transaction
from evp.eventstore.unit_of_work import joined
from evp.messaging.message import MessageContext

__all__ = [
    "Claim",
    "InMemoryProcessedEvents",
    "ProcessedEvents",
    "TrackedProcessedEvents",
    "idempotent",
]

H = TypeVar("H", bound=Callable[[Any, MessageContext], Awaitable[None]])
T = TypeVar("T", bound=Transaction)
T_co = TypeVar("T_co", bound=Transaction, covariant=True)


@dataclasses.dataclass(frozen=True, slots=True)
class Claim(Generic[T_co]):
    """The answer of a claim: whether the event is new, and the transaction to work in."""

    new: bool
    """``True``: process the event; ``False``: it was processed already, do nothing."""
    transaction: T_co
    """Commits the processed mark with the handler's writes when the claim's block ends."""


class ProcessedEvents(Protocol):
    """Remembers which events each consumer group has processed."""

    def claim(
        self, consumer: str, event_id: uuid.UUID
    ) -> AbstractAsyncContextManager[Claim[Transaction]]:
        """Enter to learn whether ``event_id`` is new to ``consumer`` (``claim.new``).

        Leaving the block normally commits the processed mark together with whatever the
        handler wrote in ``claim.transaction``; leaving it with an exception records
        nothing, so the retried or redelivered event is processed again. A concurrent
        claim of the same event waits for this one to end, and then is not new.
        """
        ...


class TrackedProcessedEvents(Generic[T]):
    """:class:`ProcessedEvents` kept by an event store's tracking recorder."""

    def __init__(self, recorder: TrackingRecorder[T]) -> None:
        self.recorder = recorder

    @asynccontextmanager
    async def claim(self, consumer: str, event_id: uuid.UUID) -> AsyncIterator[Claim[T]]:
        """Whether ``event_id`` is new to ``consumer``, in the transaction that records it."""
        async with self.recorder.transaction() as transaction:
            new = await transaction.mark_processed(consumer, event_id)
            if not new:
                yield Claim(new, transaction)
                return
            with joined(self.recorder, transaction):
                yield Claim(new, transaction)


class InMemoryProcessedEvents(TrackedProcessedEvents[MemoryTransaction]):
    """:class:`TrackedProcessedEvents` over an in-memory recorder (a new one by default)."""

    def __init__(self, recorder: MemoryRecorder | None = None) -> None:
        super().__init__(recorder if recorder is not None else MemoryRecorder())


def idempotent(store: ProcessedEvents) -> Callable[[H], H]:
    """Wrap a handler so that its body runs once per (consumer group, event id).

    Put it under ``@bus.subscriber(...)``; a duplicate delivery then returns without
    calling the handler, and its offset is committed as usual. What the handler appends
    to the claim's event store commits with the processed mark.
    """

    def decorate(handler: H) -> H:
        @wraps(handler)
        async def once(event: Event, context: MessageContext) -> None:
            async with store.claim(context.group, event.envelope.event_id) as claim:
                if claim.new:
                    await handler(event, context)

        return once  # type: ignore[return-value]

    return decorate
