"""The demo's second half, live: the registry server, Kafka, two event-sourced components.

Everything starts embedded in temporary directories (a real Postgres, librdkafka's mock
Kafka cluster over TCP, our registry over HTTP) and is gone when the demo ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import decimal
import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar, cast

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient

from evp.avro import AvroError, Event
from evp.demo.contract import step
from evp.events import (
    EVENT_TYPES,
    Currency,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    PaymentMethod,
    PaymentProcessed,
)
from evp.eventstore.outbox import OutboxRelay
from evp.eventstore.postgres import PostgresRecorder, PostgresTransaction
from evp.eventstore.store import EventStore
from evp.messaging import (
    DeadLettered,
    EmbeddedKafka,
    EventBus,
    MessageContext,
    MessagingError,
    MessagingSettings,
)
from evp.postgres.database import create_database
from evp.postgres.embedded import EmbeddedPostgres
from evp.registry.testing import running_registry
from evp_codegen.catalog import Catalog
from evp_codegen.registration import plan_registration

__all__ = ["run_platform"]

Store = EventStore[PostgresTransaction]


@dataclasses.dataclass
class _Component:
    """One service's store, bus and outbox relay."""

    store: Store
    bus: EventBus
    relay: OutboxRelay


class _UnregisteredOrderPlaced(OrderPlaced):
    """OrderPlaced as a careless v3 would write it: a schema nobody registered."""

    AVRO_SCHEMA: ClassVar[str] = json.dumps(
        {
            **json.loads(OrderPlaced.AVRO_SCHEMA),
            "fields": [
                *json.loads(OrderPlaced.AVRO_SCHEMA)["fields"],
                {"name": "gift_wrap", "type": "boolean", "doc": "Wrap it.", "default": False},
            ],
        }
    )


def run_platform(catalog: Catalog) -> None:
    """Steps 7 onwards: start the infrastructure, then run the live steps."""
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="evp-demo-"))
        postgres = stack.enter_context(EmbeddedPostgres(scratch, durable=False))
        admin = postgres.url()
        urls = {
            name: asyncio.run(create_database(admin, name))
            for name in ("registry", "orders", "payments")
        }
        registry_url = start_registry(stack, catalog, urls["registry"])
        kafka = start_kafka(stack)
        settings = MessagingSettings(
            bootstrap_servers=kafka.bootstrap_servers,
            schema_registry_url=registry_url,
            topic_prefix=f"demo-{uuid.uuid4().hex[:6]}.",
            retry_backoff=0.05,
            shutdown_timeout=2.0,
        )
        asyncio.run(_live(settings, urls["orders"], urls["payments"]))


@step("7. Start our schema registry (Postgres-backed) and register every subject's history")
def start_registry(stack: contextlib.ExitStack, catalog: Catalog, database_url: str) -> str:
    registry = stack.enter_context(running_registry(database_url=database_url))
    with SchemaRegistryClient({"url": registry.url}) as client:
        plan = plan_registration(catalog, client, registry.url)
        plan.apply(client, lambda line: None)
        print(
            f"registry at {registry.url}: {len(plan.registrations)} versions registered, "
            f"{len(plan.levels)} subject levels set"
        )
        placed = client.get_latest_version(OrderPlaced.SUBJECT)
        print(
            f"  {OrderPlaced.SUBJECT}: latest v{placed.version}, schema id {placed.schema_id}, "
            f"level {client.get_compatibility(OrderPlaced.SUBJECT)}"
        )
    return registry.url


@step("8. Start the embedded Kafka broker (librdkafka's mock cluster, real protocol over TCP)")
def start_kafka(stack: contextlib.ExitStack) -> EmbeddedKafka:
    kafka = stack.enter_context(EmbeddedKafka())
    print(f"bootstrap servers: {kafka.bootstrap_servers}")
    return kafka


async def _live(settings: MessagingSettings, orders_url: str, payments_url: str) -> None:
    dead_letters: list[DeadLettered] = []
    async with (
        _component(
            "orders", orders_url, settings, (OrderPlaced, OrderConfirmed), _orders
        ) as orders,
        _component("payments", payments_url, settings, (PaymentProcessed,), _payments) as payments,
    ):
        payments.bus.on_dead_letter(dead_letters.append)
        await saga_slice(orders, payments)
        await strict_refusal(orders)
        await dead_letter(settings, orders, dead_letters)


@contextlib.asynccontextmanager
async def _component(
    service: str,
    database_url: str,
    settings: MessagingSettings,
    publishes: tuple[type[Event], ...],
    subscribe: Callable[[EventBus, Store], None],
) -> AsyncIterator[_Component]:
    recorder = await PostgresRecorder.connect(database_url)
    bus = EventBus(settings, service=service, publishes=publishes)
    store: Store = EventStore(recorder, bus.codec)
    subscribe(bus, store)
    try:
        async with bus:
            await bus.wait_assigned()
            relay = OutboxRelay(
                recorder,
                bus.publisher,
                name=f"{service}-relay",
                topic_of=lambda event_type: bus.topics.of(EVENT_TYPES[event_type]),
            )
            yield _Component(store, bus, relay)
    finally:
        await recorder.close()


def _payments(bus: EventBus, store: Store) -> None:
    @bus.subscriber(group="payments", events=(OrderPlaced,))
    async def take_payment(event: OrderPlaced, context: MessageContext) -> None:
        async with store.transaction() as transaction:
            if not await transaction.mark_processed("payments", event.envelope.event_id):
                return
            payment = PaymentProcessed.new(
                payment_id=uuid.uuid4(),
                order_id=event.order_id,
                amount=event.total,
                currency=event.currency,
                method=PaymentMethod.CARD,
                provider_reference=f"psp-{event.order_id.hex[:8]}",
                source="payments",
                caused_by=event,
            )
            stream = f"payment-{event.order_id}"
            await store.append(stream, [payment], expected_version=0, transaction=transaction)


def _orders(bus: EventBus, store: Store) -> None:
    @bus.subscriber(group="orders", events=(PaymentProcessed,))
    async def confirm(event: PaymentProcessed, context: MessageContext) -> None:
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
            stream = f"order-{event.order_id}"
            await store.append(stream, [confirmed], expected_version=1, transaction=transaction)


def _new_order() -> OrderPlaced:
    return OrderPlaced.new(
        order_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        lines=[OrderLine(sku="BOOK-42", quantity=2, unit_price=decimal.Decimal("19.99"))],
        total=decimal.Decimal("39.98"),
        currency=Currency.EUR,
        source="orders",
    )


@step("9. Two services, two event stores, one flow: OrderPlaced -> payment -> confirmation")
async def saga_slice(orders: _Component, payments: _Component) -> None:
    placed = [_new_order() for _ in range(2)]
    for order in placed:
        # One transaction appends the event and, the events table being the outbox,
        # schedules it for publication: no dual write.
        await orders.store.append(f"order-{order.order_id}", [order], expected_version=0)
    async with asyncio.timeout(60):
        while len(await _of(orders.store, OrderConfirmed)) < len(placed):
            await orders.relay.drain()
            await payments.relay.drain()
            await asyncio.sleep(0.05)
    paid = {e.order_id: e for e in await _of(payments.store, PaymentProcessed)}
    confirmed = {e.order_id: e for e in await _of(orders.store, OrderConfirmed)}
    for order in placed:
        payment, confirmation = paid[order.order_id], confirmed[order.order_id]
        print(
            f"order {_short(order.order_id)} (correlation {_short(order.envelope.correlation_id)})"
        )
        for event in (order, payment, confirmation):
            cause = event.envelope.causation_id
            by = _short(cause) if cause else "(a user request)"
            name, source = type(event).__name__, event.envelope.source
            print(f"  {name:17} {_short(event.envelope.event_id)} from {source:8} caused by {by}")


@step("10. Strict mode: a schema the registry does not hold is refused before any byte is sent")
async def strict_refusal(orders: _Component) -> None:
    order = _new_order()
    rogue = _UnregisteredOrderPlaced(
        **{f.name: getattr(order, f.name) for f in dataclasses.fields(order)}
    )
    try:
        await orders.bus.publish(cast(OrderPlaced, rogue))
    except (AvroError, MessagingError) as error:
        print(f"{type(error).__name__}: {error}")


@step("11. Unreadable bytes on a topic are dead-lettered with their reason; the consumer goes on")
async def dead_letter(
    settings: MessagingSettings, orders: _Component, dead_letters: list[DeadLettered]
) -> None:
    topic = orders.bus.topics.of(OrderPlaced)
    producer = Producer({"bootstrap.servers": settings.bootstrap_servers})
    producer.produce(topic, key=b"not-avro", value=b'{"order_id": "oops"}')
    producer.flush(10)
    async with asyncio.timeout(30):
        while not dead_letters:
            await asyncio.sleep(0.05)
    letter = dead_letters[0]
    print(
        f"from {letter.topic}[{letter.partition}]@{letter.offset} -> "
        f"{letter.delivery.topic}@{letter.delivery.offset}"
    )
    print(f"  reason: {letter.reason.value}; {type(letter.error).__name__}: {letter.error}")
    print("  inspect it with: evp dlq list --topic", topic)


async def _of(store: Store, kind: type[Any]) -> list[Any]:
    return [r.event for r in await store.read_all(0) if isinstance(r.event, kind)]


def _short(value: uuid.UUID) -> str:
    return str(value)[:8]
