"""The schema registry down under load: what the services have cached keeps flowing; only
a type not yet seen fails, saying so, and goes through once the registry is back.

The registry holds the catalog on a database of its own and is stopped and served again
on the same port, as a restarted registry process would be. An outage lasts 6 s here
rather than tens of seconds: nothing in the runtime changes its behaviour with the length
of an outage (a consumer retries the registry with a capped backoff, 50 ms in these tests
and 5 s by default, holding the message meanwhile; a publisher fails at once; the lookup's
10 s HTTP timeout only bites on a registry that accepts connections and never answers,
not on a stopped one), so a longer one only means more of the same retries.

Inventory and payments run in-process; a bus plays the orders service, sending orders
and payment requests at a steady pace and recording the answers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from evp.events import (
    OrderPlaced,
    PaymentProcessed,
    PaymentRefunded,
    PaymentRequested,
    RefundRequested,
    ReleaseRequestReason,
    StockHeld,
    StockReleaseRequested,
)
from evp.messaging import EventBus, MessagingSettings, RegistryUnavailable
from evp.postgres.supply import DatabaseSupply
from evp.registry.app import create_app
from evp.registry.server import BackgroundServer
from evp.service import ServiceSettings
from evp.service.inprocess import RunningService, running_service
from evp.testing.kafka import BOOTSTRAP_VARIABLE, messaging_settings_for, register_catalog
from shop.inventory.app import service as inventory
from shop.payments.app import service as payments
from tests.faults.traffic import (
    VERIFIER,
    admin_headers,
    dead_lettered,
    order_placed,
    payment_request,
    recording,
)
from tests.messaging.probes import EventRecorder

SKU = "OUTAGE-MUG"
OUTAGE_S = 6.0
PAIRS = 50
"""Orders and payment requests sent while the registry is down, each."""
SEND_OVER_S = 5.0
ANSWER_BOUND_S = 5.0
"""Every request is answered within this after the last was sent, registry down or not."""
RECOVERY_BOUND_S = 10.0
"""A waiting message goes through within this once the registry is back."""


class RestartableRegistry:
    """A registry served on one port, which the test stops and serves again."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._server: BackgroundServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        server = BackgroundServer(create_app(self._database_url), port=self.port)
        server.start()
        self._server, self.port = server, server.port

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()


@pytest.fixture
def registry(
    evp_database_supply: DatabaseSupply, pytestconfig: pytest.Config
) -> Iterator[RestartableRegistry]:
    """A registry of this test's own holding the catalog."""
    name, url = evp_database_supply.take()
    registry = RestartableRegistry(url)
    registry.start()
    try:
        register_catalog(registry.url, pytestconfig.rootpath / "schemas")
        yield registry
    finally:
        registry.stop()
        evp_database_supply.release(name)


@pytest.fixture
def messaging_settings(
    kafka_bootstrap_servers: str, registry: RestartableRegistry, topic_prefix: str
) -> MessagingSettings:
    """The test's messaging, on the restartable registry."""
    return messaging_settings_for(
        kafka_bootstrap_servers,
        registry.url,
        topic_prefix,
        embedded=not os.environ.get(BOOTSTRAP_VARIABLE),
    )


@pytest.fixture
async def shop(
    settings_for: Callable[[str], ServiceSettings],
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    """Inventory, with a product in stock, and payments."""
    async with (
        running_service(inventory, settings_for("inventory"), verifier=VERIFIER) as stock,
        running_service(payments, settings_for("payments"), verifier=VERIFIER) as bank,
    ):
        body = {"sku": SKU, "name": "Mug", "price": "10.00", "currency": "EUR", "stock": 1000}
        created = await stock.http.post("/products", json=body, headers=admin_headers())
        assert created.status_code == 201, created.text
        yield stock, bank


@pytest.fixture
async def orders(
    messaging_settings: MessagingSettings,
) -> AsyncIterator[tuple[EventBus, EventRecorder]]:
    """A bus playing orders: it may publish orders, payment requests and refund requests
    (their schema ids resolved at start), and records inventory's and payments' answers."""
    answers = (StockHeld, PaymentProcessed, PaymentRefunded)
    requests = (OrderPlaced, PaymentRequested, RefundRequested)
    async with recording(messaging_settings, answers, group="orders", publishes=requests) as pair:
        yield pair


async def _send_load(bus: EventBus) -> set[uuid.UUID]:
    """Send :data:`PAIRS` orders and payment requests over :data:`SEND_OVER_S`; their ids."""
    sent: set[uuid.UUID] = set()
    started = time.monotonic()
    for n in range(PAIRS):
        order, payment = order_placed(SKU), payment_request()
        await bus.publish(order)
        await bus.publish(payment)
        sent |= {order.order_id, payment.order_id}
        await asyncio.sleep(max(0.0, started + SEND_OVER_S * (n + 1) / PAIRS - time.monotonic()))
    return sent


def _answered(recorder: EventRecorder) -> set[uuid.UUID]:
    return {getattr(event, "order_id") for event in recorder.events}  # noqa: B009


async def test_cached_types_keep_flowing_while_the_registry_is_down(
    registry: RestartableRegistry,
    shop: tuple[RunningService, RunningService],
    orders: tuple[EventBus, EventRecorder],
) -> None:
    """During a 6 s registry outage, 50 orders and 50 payment requests sent over 5 s are
    all held and charged (inventory and payments consuming, storing and relaying types
    they have cached) within 5 s of the last, before the registry is back."""
    bus, recorder = orders
    await _warm_up(bus, recorder)
    stock, _ = shop

    await asyncio.to_thread(registry.stop)
    down_since = time.monotonic()
    try:
        ready = await stock.http.get("/health/ready")
        assert ready.status_code == 503
        assert not ready.json()["checks"]["registry"]["ok"]
        sent = await _send_load(bus)
        async with asyncio.timeout(ANSWER_BOUND_S):
            while not sent <= _answered(recorder):
                await asyncio.sleep(0.05)
        assert (await stock.http.get(f"/products/{SKU}")).json()["available"] == 1000 - 1 - PAIRS
        assert time.monotonic() - down_since < OUTAGE_S, "answered before the registry is back"
        await asyncio.sleep(OUTAGE_S - (time.monotonic() - down_since))
    finally:
        await asyncio.to_thread(registry.start)
    assert dead_lettered(stock) == dead_lettered(shop[1]) == 0


async def test_publishing_a_type_not_yet_seen_fails_naming_the_registry_until_it_is_back(
    registry: RestartableRegistry, orders: tuple[EventBus, EventRecorder]
) -> None:
    """While the registry is down, publishing a type whose schema id the bus never looked
    up raises RegistryUnavailable naming the registry; once it is back, the same event is
    published."""
    bus, _ = orders
    request = StockReleaseRequested.new(
        order_id=uuid.uuid4(),
        hold_id=uuid.uuid4(),
        reason=ReleaseRequestReason.PAYMENT_FAILED,
        source="orders",
    )
    await asyncio.to_thread(registry.stop)
    try:
        with pytest.raises(RegistryUnavailable) as raised:
            await bus.publish(request)
    finally:
        await asyncio.to_thread(registry.start)
    assert raised.value.registry == registry.url
    assert registry.url in str(raised.value)
    published = await bus.publish(request)
    assert published.delivery.offset >= 0


async def test_a_consumer_meeting_a_type_not_yet_seen_waits_for_the_registry_saying_why(
    registry: RestartableRegistry,
    shop: tuple[RunningService, RunningService],
    orders: tuple[EventBus, EventRecorder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refund request, the first payments ever sees, sent during a 6 s registry outage
    is neither handled nor dead-lettered: payments logs that the registry is unavailable
    and retries; once the registry is back the refund goes through within 10 s."""
    bus, recorder = orders
    await _warm_up(bus, recorder)
    _, bank = shop
    charged = next(e for e in recorder.events if isinstance(e, PaymentProcessed))
    refund = RefundRequested.new(
        order_id=charged.order_id,
        payment_id=charged.payment_id,
        amount=charged.amount,
        currency=charged.currency,
        reason="the customer cancelled",
        source="orders",
    )

    caplog.set_level(logging.WARNING, logger="evp.messaging.consumer")
    await asyncio.to_thread(registry.stop)
    try:
        await bus.publish(refund)
        await asyncio.sleep(OUTAGE_S)
        assert not any(isinstance(e, PaymentRefunded) for e in recorder.events)
        waiting = [
            record.getMessage()
            for record in caplog.records
            if record.name == "evp.messaging.consumer"
            and "schema registry request failed" in record.getMessage()
        ]
        assert waiting, "payments says why the refund waits"
        assert registry.url in waiting[-1]
    finally:
        await asyncio.to_thread(registry.start)
    async with asyncio.timeout(RECOVERY_BOUND_S):
        while not any(isinstance(e, PaymentRefunded) for e in recorder.events):
            await asyncio.sleep(0.05)
    assert dead_lettered(bank) == 0


async def _warm_up(bus: EventBus, recorder: EventRecorder) -> None:
    """One order and one payment through, so every type of the load is cached."""
    order, payment = order_placed(SKU), payment_request()
    await bus.publish(order)
    await bus.publish(payment)
    async with asyncio.timeout(ANSWER_BOUND_S):
        while not {order.order_id, payment.order_id} <= _answered(recorder):
            await asyncio.sleep(0.05)
