"""Idempotent consumers: each (group, event id) is processed once."""

from __future__ import annotations

import asyncio
from unittest.mock import Mock

import pytest

from evp.avro.record import Event
from evp.messaging import InMemoryProcessedEvents, MessageContext, idempotent

from .samples import order_placed


async def test_first_claim_is_new_and_a_second_is_not() -> None:
    """An event is new until a claim on it completed."""
    store = InMemoryProcessedEvents()
    event_id = order_placed().envelope.event_id
    async with store.claim("g", event_id) as new:
        assert new
    async with store.claim("g", event_id) as new:
        assert not new


async def test_a_failed_claim_records_nothing() -> None:
    """A claim left with an exception leaves the event to be processed again."""
    store = InMemoryProcessedEvents()
    event_id = order_placed().envelope.event_id
    with pytest.raises(RuntimeError):
        async with store.claim("g", event_id):
            raise RuntimeError("handler failed")
    async with store.claim("g", event_id) as new:
        assert new


async def test_groups_are_independent() -> None:
    """An event processed by one group is still new to another."""
    store = InMemoryProcessedEvents()
    event_id = order_placed().envelope.event_id
    async with store.claim("a", event_id):
        pass
    async with store.claim("b", event_id) as new:
        assert new


async def test_concurrent_claims_of_one_event_let_one_through() -> None:
    """Two deliveries of one event handled at once run the body once."""
    store = InMemoryProcessedEvents()
    event_id = order_placed().envelope.event_id
    entered: list[bool] = []

    async def deliver() -> None:
        async with store.claim("g", event_id) as new:
            entered.append(new)
            await asyncio.sleep(0)

    await asyncio.gather(deliver(), deliver())
    assert sorted(entered) == [False, True]


async def test_idempotent_handler_skips_a_duplicate() -> None:
    """A wrapped handler runs once for two deliveries of the same event."""
    calls: list[Event] = []

    @idempotent(InMemoryProcessedEvents())
    async def handle(event: Event, context: MessageContext) -> None:
        calls.append(event)

    event = order_placed()
    context = Mock(spec=MessageContext, group="orders")
    await handle(event, context)
    await handle(event, context)
    assert calls == [event]
