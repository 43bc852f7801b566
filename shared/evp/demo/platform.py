"""The demo's second half, live: the registry server, Kafka, two services on the kit.

Everything starts embedded in temporary directories (a real Postgres, librdkafka's mock
Kafka cluster over TCP, our registry over HTTP) and is gone when the demo ends. The two
services are :mod:`evp.demo.services`, run in this process as ``evp serve`` runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import tempfile
import uuid
from pathlib import Path
from typing import Any, ClassVar, cast

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient

from evp.avro import AvroError
from evp.contract.catalog import Catalog
from evp.contract.registration import plan_registration
from evp.demo.contract import step
from evp.demo.services import orders, payments
from evp.events import OrderConfirmed, OrderPlaced, PaymentProcessed
from evp.eventstore.database import ServiceDatabase
from evp.messaging import DeadLettered, EmbeddedKafka, MessagingError, MessagingSettings
from evp.postgres.database import create_database
from evp.postgres.embedded import EmbeddedPostgres
from evp.registry.testing import running_registry
from evp.service import ServiceSettings
from evp.service.inprocess import RunningService, running_service
from evp.testing.samples import order_placed

__all__ = ["run_platform"]

_ORDER = {
    "user_id": "6c1f6e0e-7d0a-4a59-9f5f-0d5e4c9f2a11",
    "currency": "EUR",
    "lines": [{"sku": "BOOK-42", "quantity": 2, "unit_price": "19.99"}],
}


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
        running_service(orders, _settings("orders", orders_url, settings)) as shop,
        running_service(payments, _settings("payments", payments_url, settings)) as bank,
    ):
        bank.runtime.bus.on_dead_letter(dead_letters.append)
        await saga_slice(shop, bank)
        await strict_refusal(shop)
        await dead_letter(settings, bank, dead_letters)


def _new_order() -> OrderPlaced:
    return order_placed(source="orders")


def _settings(service: str, database_url: str, messaging: MessagingSettings) -> ServiceSettings:
    return ServiceSettings(
        service=service,
        database=ServiceDatabase(service, database_url, Path(".evp") / service),
        messaging=messaging,
    )


@step("9. Two services on the kit, two event stores, one flow: order -> payment -> confirmation")
async def saga_slice(shop: RunningService, bank: RunningService) -> None:
    order_ids = []
    for _ in range(2):
        # One transaction appends the event and, the events table being the outbox,
        # schedules it for publication: no dual write.
        response = await shop.http.post("/orders", json=_ORDER)
        order_ids.append(response.json()["order_id"])

    async def confirmed() -> bool:
        answers = [await shop.http.get(f"/orders/{order_id}") for order_id in order_ids]
        return all(a.json()["status"] == "confirmed" for a in answers)

    await shop.wait_for(confirmed, timeout=60)
    placed = {e.order_id: e for e in await _of(shop, OrderPlaced)}
    paid = {e.order_id: e for e in await _of(bank, PaymentProcessed)}
    confirmations = {e.order_id: e for e in await _of(shop, OrderConfirmed)}
    for order_id, order in placed.items():
        payment, confirmation = paid[order_id], confirmations[order_id]
        print(
            f"order {_short(order.order_id)} (correlation {_short(order.envelope.correlation_id)})"
        )
        for event in (order, payment, confirmation):
            cause = event.envelope.causation_id
            by = _short(cause) if cause else "(a user request)"
            name, source = type(event).__name__, event.envelope.source
            print(f"  {name:17} {_short(event.envelope.event_id)} from {source:8} caused by {by}")
    ready = (await bank.http.get("/health/ready")).json()
    print(f"payments /health/ready: {ready['status']} ({', '.join(ready['checks'])})")


@step("10. Strict mode: a schema the registry does not hold is refused before any byte is sent")
async def strict_refusal(shop: RunningService) -> None:
    order = _new_order()
    rogue = _UnregisteredOrderPlaced(
        **{f.name: getattr(order, f.name) for f in dataclasses.fields(order)}
    )
    try:
        await shop.runtime.bus.publish(cast(OrderPlaced, rogue))
    except (AvroError, MessagingError) as error:
        print(f"{type(error).__name__}: {error}")


@step("11. Unreadable bytes on a topic are dead-lettered with their reason; the consumer goes on")
async def dead_letter(
    settings: MessagingSettings, bank: RunningService, dead_letters: list[DeadLettered]
) -> None:
    topic = bank.runtime.bus.topics.of(OrderPlaced)
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


async def _of(service: RunningService, kind: type[Any]) -> list[Any]:
    return [r.event for r in await service.runtime.store.read_all(0) if isinstance(r.event, kind)]


def _short(value: uuid.UUID) -> str:
    return str(value)[:8]
