"""Idempotent consumers: skip events a consumer group has already processed.

Delivery is at-least-once, so a handler can see an event again (a crash between its work
and the offset commit, a rebalance, a replay). :func:`idempotent` wraps a handler so that
its body runs once per (group, event id). The record that an event was processed must be
written in the same transaction as the handler's own writes, or a crash between the two
would lose one of them: a :class:`ProcessedEvents` store opens that transaction in
:meth:`~ProcessedEvents.claim` and commits it when the handler returns. The event store
backs it with Postgres; :class:`InMemoryProcessedEvents` is its peer for tests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import wraps
from typing import Any, Protocol, TypeVar

from evp.avro.record import Event
from evp.messaging.message import MessageContext

__all__ = ["InMemoryProcessedEvents", "ProcessedEvents", "idempotent"]

H = TypeVar("H", bound=Callable[[Any, MessageContext], Awaitable[None]])


class ProcessedEvents(Protocol):
    """Remembers which events each consumer group has processed."""

    def claim(self, consumer: str, event_id: uuid.UUID) -> AbstractAsyncContextManager[bool]:
        """Enter to learn whether ``event_id`` is new to ``consumer`` (``True``: process it).

        Leaving the block normally records the event as processed, together with whatever
        the handler wrote inside it; leaving it with an exception records nothing, so the
        retried or redelivered event is processed again.
        """
        ...


class InMemoryProcessedEvents:
    """Processed event ids in memory, per consumer; claims of one id are serialised."""

    def __init__(self) -> None:
        self._processed: dict[str, set[uuid.UUID]] = {}
        self._locks: dict[tuple[str, uuid.UUID], asyncio.Lock] = {}

    @asynccontextmanager
    async def claim(self, consumer: str, event_id: uuid.UUID) -> AsyncIterator[bool]:
        """Whether ``event_id`` is new to ``consumer``; recorded when the block succeeds."""
        key = (consumer, event_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                done = self._processed.setdefault(consumer, set())
                new = event_id not in done
                yield new
                if new:
                    done.add(event_id)
        finally:
            if not lock.locked() and self._locks.get(key) is lock:
                del self._locks[key]

    def processed(self, consumer: str) -> frozenset[uuid.UUID]:
        """The ids ``consumer`` has processed."""
        return frozenset(self._processed.get(consumer, ()))


def idempotent(store: ProcessedEvents) -> Callable[[H], H]:
    """Wrap a handler so that its body runs once per (consumer group, event id).

    Put it under ``@bus.subscriber(...)``; a duplicate delivery then returns without
    calling the handler, and its offset is committed as usual.
    """

    def decorate(handler: H) -> H:
        @wraps(handler)
        async def once(event: Event, context: MessageContext) -> None:
            async with store.claim(context.group, event.envelope.event_id) as new:
                if new:
                    await handler(event, context)

        return once  # type: ignore[return-value]

    return decorate
