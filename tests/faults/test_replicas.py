"""Two instances each of inventory and payments in one consumer group, one of each killed
with SIGKILL under load: nothing is handled twice, nothing is lost.

The instances are real processes (``evp serve``, started as ``evp up`` starts replicas:
:func:`evp.up.specs.service_spec`), two per service on the service's one database, all on
a broker of the test's own. A killed process neither commits its offsets nor leaves its
group: the broker fences it once it has been silent for the group's session timeout (3 s
here; Kafka's default is 45 s), and the survivor takes its partitions and is redelivered
what the dead one had handled but not committed, which the kit's once-per-event claim
(in the service's one database) skips.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from evp.avro import Event
from evp.events import (
    OrderPlaced,
    PaymentFailed,
    PaymentProcessed,
    PaymentRequested,
    StockHeld,
    StockReservationFailed,
)
from evp.postgres.supply import DatabaseSupply
from evp.registry.server import BackgroundServer
from evp.testing.kafka import messaging_settings_for
from evp.up.child import Child
from evp.up.specs import service_spec
from tests.faults.brokers import ControllableKafka
from tests.faults.traffic import KEYS, admin_headers, order_placed, payment_request, recording
from tests.messaging.probes import EventRecorder

SESSION_TIMEOUT_MS = 3000
ORDERS = 60
"""Orders sent to inventory, and payment requests sent to payments, each."""
BURST = 10
"""Of them, sent at once just before the kills."""
SEND_OVER_S = 4.0
"""The requests are spread over this long; the kills come halfway through."""
SETTLE_BOUND_S = 40.0
"""Every request is answered within this after the last was sent."""
SKU = "REPLICA-MUG"
STOCK = 1000


@pytest.fixture
def kafka() -> Iterator[ControllableKafka]:
    """A broker of this test's own, fencing silent group members after 3 s."""
    with ControllableKafka() as broker:
        broker.group_timing(session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=500)
        yield broker


@pytest.fixture
def jwks_url() -> Iterator[str]:
    """The test's public keys, served as the users service serves its JWKS."""

    async def jwks(_: object) -> JSONResponse:
        return JSONResponse(KEYS.jwks_document())

    app = Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
    with BackgroundServer(app) as server:
        yield f"{server.url}/.well-known/jwks.json"


@pytest.fixture
def databases(evp_database_supply: DatabaseSupply) -> Iterator[dict[str, str]]:
    """One database for inventory and one for payments, shared by their instances."""
    taken = {service: evp_database_supply.take() for service in ("inventory", "payments")}
    yield {service: url for service, (_, url) in taken.items()}
    for name, _ in taken.values():
        evp_database_supply.release(name)


@pytest.fixture
def environment(
    kafka: ControllableKafka,
    catalog_registry: str,
    topic_prefix: str,
    jwks_url: str,
    databases: dict[str, str],
) -> dict[str, str]:
    """What the instances read, as `evp up` gives it to them."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "EVP_KAFKA_GROUP_PROTOCOL": "consumer",
        "SCHEMA_REGISTRY_URL": catalog_registry,
        "EVP_TOPIC_PREFIX": topic_prefix,
        "EVP_JWKS_URL": jwks_url,
        "INVENTORY_DATABASE_URL": databases["inventory"],
        "PAYMENTS_DATABASE_URL": databases["payments"],
        "EVP_LOG_LEVEL": "WARNING",
        "EVP_SHUTDOWN_TIMEOUT_S": "2",
    }


@pytest.fixture
async def instances(environment: dict[str, str], tmp_path: Path) -> AsyncIterator[dict[str, Child]]:
    """inventory, inventory.2, payments and payments.2 running as processes."""
    children = [
        Child(service_spec(service, n, environment, tmp_path / "logs"))
        for service in ("inventory", "payments")
        for n in (1, 2)
    ]
    try:
        await asyncio.gather(*(child.start(timeout=90) for child in children))
        yield {child.name: child for child in children}
    finally:
        await asyncio.gather(*(child.stop(grace=5) for child in children))


def _order(order_id: uuid.UUID) -> OrderPlaced:
    return order_placed(SKU, order_id=order_id)


def _payment(order_id: uuid.UUID) -> PaymentRequested:
    return payment_request(order_id=order_id)


def _answers(events: list[Event]) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The distinct answer events (by event id) received for each order."""
    found: dict[uuid.UUID, set[uuid.UUID]] = {}
    for event in events:
        order_id: uuid.UUID = getattr(event, "order_id")  # noqa: B009 - a union of types
        found.setdefault(order_id, set()).add(event.envelope.event_id)
    return found


async def test_a_killed_instance_of_inventory_and_of_payments_loses_and_repeats_nothing(
    kafka: ControllableKafka,
    catalog_registry: str,
    topic_prefix: str,
    instances: dict[str, Child],
) -> None:
    """60 orders and 60 payment requests over 4 s, with inventory and payments.2 SIGKILLed
    halfway: within 40 s every order has exactly one hold and every request exactly one
    payment, and the stock held is exactly 60 units."""
    admin = admin_headers()
    survivor = instances["inventory.2"].address
    assert survivor is not None
    async with httpx.AsyncClient(base_url=survivor, timeout=10) as http:
        created = await http.post(
            "/products",
            json={"sku": SKU, "name": "Mug", "price": "10.00", "currency": "EUR", "stock": STOCK},
            headers=admin,
        )
        assert created.status_code == 201, created.text

    settings = messaging_settings_for(
        kafka.bootstrap_servers, catalog_registry, topic_prefix, embedded=True
    )
    answers = (StockHeld, StockReservationFailed, PaymentProcessed, PaymentFailed)
    async with recording(settings, answers) as (bus, recorder):
        orders = [uuid.uuid4() for _ in range(ORDERS)]
        payments = [uuid.uuid4() for _ in range(ORDERS)]
        started = time.monotonic()
        for n, (order_id, payment_id) in enumerate(zip(orders, payments, strict=True)):
            if n == ORDERS // 2:
                # Each instance has a share of the partitions and has been handling them.
                handled = {name: await _handled(child) for name, child in instances.items()}
                # A burst, so that the victims die with work handled but not yet committed.
                burst = slice(n, n + BURST)
                await bus.publish_batch(
                    [*map(_order, orders[burst]), *map(_payment, payments[burst])]
                )
                await asyncio.sleep(0.1)
                await asyncio.gather(instances["inventory"].kill(), instances["payments.2"].kill())
            if ORDERS // 2 <= n < ORDERS // 2 + BURST:
                continue
            await bus.publish(_order(order_id))
            await bus.publish(_payment(payment_id))
            await asyncio.sleep(
                max(0.0, started + SEND_OVER_S * (n + 1) / ORDERS - time.monotonic())
            )
        await _settled(recorder, 2 * ORDERS)
        await asyncio.sleep(1.0)  # room for a second answer to show up

    assert all(handled.values()), f"an instance had nothing to do: {handled}"
    found = _answers(recorder.events)
    assert {k: len(v) for k, v in found.items() if len(v) != 1} == {}
    assert set(found) == {*orders, *payments}
    held = [e for e in recorder.events if isinstance(e, StockHeld)]
    assert {e.order_id for e in held} == set(orders)
    paid = [e for e in recorder.events if isinstance(e, PaymentProcessed)]
    assert {e.order_id for e in paid} == set(payments)
    async with httpx.AsyncClient(base_url=survivor, timeout=10) as http:
        product = (await http.get(f"/products/{SKU}")).json()
    assert product["available"] == STOCK - ORDERS


async def _handled(child: Child, outcome: str = "handled") -> int:
    """How many events ``child`` counts as handled (or with another outcome) so far."""
    assert child.address is not None
    async with httpx.AsyncClient(base_url=child.address, timeout=10) as http:
        text = (await http.get("/metrics")).text
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "evp_events_handled_total" and sample.labels["outcome"] == outcome
        )
    )


async def _settled(recorder: EventRecorder, count: int) -> None:
    async with asyncio.timeout(SETTLE_BOUND_S):
        while len(_answers(recorder.events)) < count:
            await asyncio.sleep(0.1)
