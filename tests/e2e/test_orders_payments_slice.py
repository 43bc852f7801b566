"""Two services over Kafka, each with its own event store and outbox: the saga's first step.

The orders component appends OrderPlaced; its outbox relay publishes it; the payments
component consumes it idempotently, appends PaymentProcessed in its own store, whose relay
publishes it; orders consumes that and confirms the order. Correlation and causation run
through all three events, and redelivery or a relay restart duplicates nothing anywhere.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import decimal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from evp.avro import Event
from evp.events import (
    EVENT_TYPES,
    Currency,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    PaymentProcessed,
)
from evp.eventstore.outbox import OutboxRelay
from evp.eventstore.postgres import PostgresRecorder, PostgresTransaction
from evp.eventstore.store import EventStore
from evp.messaging import EventBus, MessageContext, MessagingSettings
from evp.messaging.dead_letter import DeadLettered

from .payments import take_payment

ORDERS = 3
# How often each handler ran, duplicates included: redelivery is observable, not assumed.
Calls = collections.Counter[str]
Store = EventStore[PostgresTransaction]


@dataclass
class Component:
    """One service's moving parts: its store, its bus and its outbox relay."""

    store: Store
    bus: EventBus
    relay: OutboxRelay
    dead_letters: list[DeadLettered]

    async def drain(self) -> None:
        """Publish everything the store holds that the relay has not published yet."""
        await self.relay.drain()


def _order(order_id: uuid.UUID) -> OrderPlaced:
    return OrderPlaced.new(
        order_id=order_id,
        user_id=uuid.uuid4(),
        lines=[OrderLine(sku="BOOK-1", quantity=2, unit_price=decimal.Decimal("10.00"))],
        total=decimal.Decimal("20.00"),
        currency=Currency.EUR,
        source="orders",
    )


@contextlib.asynccontextmanager
async def _component(
    service: str,
    database_url: str,
    settings: MessagingSettings,
    *,
    publishes: tuple[type[Event], ...],
    subscribe: Callable[[EventBus, Store, Calls], None],
    calls: Calls,
) -> AsyncIterator[Component]:
    recorder = await PostgresRecorder.connect(database_url)
    bus = EventBus(settings, service=service, publishes=publishes)
    store: Store = EventStore(recorder, bus.codec)
    subscribe(bus, store, calls)
    dead_letters: list[DeadLettered] = []
    bus.on_dead_letter(dead_letters.append)
    try:
        async with bus:
            await bus.wait_assigned()
            relay = OutboxRelay(
                recorder,
                bus.publisher,
                name=f"{service}-relay",
                topic_of=lambda event_type: bus.topics.of(EVENT_TYPES[event_type]),
            )
            yield Component(store, bus, relay, dead_letters)
    finally:
        await recorder.close()


def _payments(bus: EventBus, store: Store, calls: Calls) -> None:
    @bus.subscriber(group="payments", events=(OrderPlaced,))
    async def pay(event: OrderPlaced, context: MessageContext) -> None:
        calls["payments"] += 1
        await take_payment(store, event)


def _orders(bus: EventBus, store: Store, calls: Calls) -> None:
    @bus.subscriber(group="orders", events=(PaymentProcessed,))
    async def confirm(event: PaymentProcessed, context: MessageContext) -> None:
        calls["orders"] += 1
        async with store.transaction() as transaction:
            if not await transaction.mark_processed("orders", event.envelope.event_id):
                return
            confirmed = OrderConfirmed.new(
                order_id=event.order_id,
                reservation_id=uuid.uuid4(),
                payment_id=event.payment_id,
                source="orders",
                caused_by=event,
            )
            await store.append(
                f"order-{event.order_id}", [confirmed], expected_version=1, transaction=transaction
            )


async def _until(
    condition: Callable[[], Awaitable[bool]], pump: Callable[[], Awaitable[None]]
) -> None:
    """Pump the relays until ``condition`` holds (bounded: fails after 30 s)."""
    async with asyncio.timeout(30):
        while not await condition():
            await pump()
            await asyncio.sleep(0.02)


async def _events(store: Store) -> list[Event]:
    return [recorded.event for recorded in await store.read_all(0)]


@dataclass
class Slice:
    """The two running components and how often their handlers ran."""

    orders: Component
    payments: Component
    calls: Calls


@pytest.fixture
async def slice_(
    messaging_settings: MessagingSettings, service_database: Callable[[], str]
) -> AsyncIterator[Slice]:
    """The orders and payments components, running."""
    calls: Calls = collections.Counter()
    orders = _component(
        "orders",
        service_database(),
        messaging_settings,
        publishes=(OrderPlaced, OrderConfirmed),
        subscribe=_orders,
        calls=calls,
    )
    payments = _component(
        "payments",
        service_database(),
        messaging_settings,
        publishes=(PaymentProcessed,),
        subscribe=_payments,
        calls=calls,
    )
    async with orders as orders_running, payments as payments_running:
        yield Slice(orders_running, payments_running, calls)
    # Duplicates must be recognised by tracking, not fail into the dead-letter topic.
    assert orders_running.dead_letters == []
    assert payments_running.dead_letters == []


async def _run_saga(orders: Component, payments: Component) -> list[OrderPlaced]:
    placed = [_order(uuid.uuid4()) for _ in range(ORDERS)]
    for order in placed:
        await orders.store.append(f"order-{order.order_id}", [order], expected_version=0)

    async def pump() -> None:
        await orders.drain()
        await payments.drain()

    async def all_confirmed() -> bool:
        confirmed = [e for e in await _events(orders.store) if isinstance(e, OrderConfirmed)]
        return len(confirmed) == ORDERS

    await _until(all_confirmed, pump)
    return placed


async def test_order_is_paid_and_confirmed_across_two_stores(slice_: Slice) -> None:
    """Each OrderPlaced yields one PaymentProcessed in payments and one OrderConfirmed in orders."""
    placed = await _run_saga(slice_.orders, slice_.payments)
    paid = [e for e in await _events(slice_.payments.store) if isinstance(e, PaymentProcessed)]
    assert sorted(p.order_id for p in paid) == sorted(o.order_id for o in placed)
    order_events = await _events(slice_.orders.store)
    assert sum(isinstance(e, OrderConfirmed) for e in order_events) == ORDERS


async def test_correlation_and_causation_run_through_the_chain(slice_: Slice) -> None:
    """PaymentProcessed is caused by OrderPlaced, OrderConfirmed by PaymentProcessed, one flow."""
    placed = {o.order_id: o for o in await _run_saga(slice_.orders, slice_.payments)}
    payment_events = await _events(slice_.payments.store)
    order_events = await _events(slice_.orders.store)
    paid = {e.order_id: e for e in payment_events if isinstance(e, PaymentProcessed)}
    confirmed = {e.order_id: e for e in order_events if isinstance(e, OrderConfirmed)}
    for order_id, order in placed.items():
        payment, confirmation = paid[order_id], confirmed[order_id]
        assert payment.envelope.causation_id == order.envelope.event_id
        assert confirmation.envelope.causation_id == payment.envelope.event_id
        correlations = {e.envelope.correlation_id for e in (order, payment, confirmation)}
        assert correlations == {order.envelope.correlation_id}


async def test_relay_restart_and_redelivery_duplicate_nothing(slice_: Slice) -> None:
    """Relays that lost their progress republish everything; consumers see it all again and
    no store gains an event."""
    orders, payments = slice_.orders, slice_.payments
    await _run_saga(orders, payments)
    before = (len(await _events(orders.store)), len(await _events(payments.store)))
    assert slice_.calls == {"payments": ORDERS, "orders": ORDERS}
    for component in (orders, payments):
        async with component.store.transaction() as transaction:
            await transaction.reset_consumer(component.relay.name)  # as if it crashed unrecorded
    republished = await orders.relay.drain() + await payments.relay.drain()
    assert republished == before[0] + before[1]

    async def redelivered() -> bool:
        return slice_.calls == {"payments": 2 * ORDERS, "orders": 2 * ORDERS}

    async def wait() -> None:
        return None

    await _until(redelivered, wait)
    after = (len(await _events(orders.store)), len(await _events(payments.store)))
    assert after == before
