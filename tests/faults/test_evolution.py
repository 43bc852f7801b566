"""A schema evolution in flight: producers and consumers of two versions of one event at
once, as during a rolling deployment, and not one dead letter.

``OrderPlaced`` v2 added an optional ``shipping_address`` and ``PaymentRequested`` v2 a
``payment_token`` (default ``""``). The old side is the event library a v1 deployment ran:
generated here by ``evp codegen``'s own generator from each subject's first registered
version (:func:`evp.contract.load_catalog`), so its classes carry the v1 schema texts
exactly as registered. It publishes through the real publisher (registry lookup of the v1
schema id, codec, wire header) and reads through the real consumer (the compatibility
verdict, then Avro schema resolution from the writer's schema to the v1 reader's).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from evp.avro import Event
from evp.avro.wire import read_header
from evp.contract.catalog import Subject, load_catalog
from evp.events import (
    OrderPlaced,
    PaymentFailed,
    PaymentFailureReason,
    PaymentRequested,
    ShippingAddress,
    StockHeld,
)
from evp.messaging import EventBus, MessageContext, MessagingSettings, RegistrySchemaLookup
from evp.service import ServiceSettings
from evp.service.inprocess import RunningService, running_service
from evp_codegen.generate.generator import generate
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
from tests.messaging.probes import DeadLetterRecorder, topic_messages

V1_PACKAGE = "evp_fault_v1_events"
SKU = "EVOLVED-MUG"


class _FirstVersions:
    """A codegen schema source answering each subject's first version, as registered."""

    def latest(self, subject: Subject) -> tuple[int, dict[str, Any]]:
        first = subject.versions[0]
        return first.version, json.loads(first.schema_text)


@pytest.fixture(scope="module")
def v1(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    """The event library generated from the first version of every subject."""
    catalog = load_catalog(pytestconfig.rootpath / "schemas")
    folder = tmp_path_factory.mktemp("v1") / V1_PACKAGE
    generate(catalog, _FirstVersions(), package=V1_PACKAGE).write(folder)
    spec = importlib.util.spec_from_file_location(
        V1_PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[V1_PACKAGE] = module
    try:
        spec.loader.exec_module(module)
        assert module.OrderPlaced.VERSION == 1
        assert module.PaymentRequested.VERSION == 1
        yield module
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == V1_PACKAGE]:
            del sys.modules[name]


def _schema_id(settings: MessagingSettings, event_type: type[Event]) -> int:
    with RegistrySchemaLookup.from_settings(settings) as lookup:
        return lookup.id_for(event_type.SUBJECT, event_type.AVRO_SCHEMA)


def _dead_letters(settings: MessagingSettings, *topics: str) -> int:
    assert settings.bootstrap_servers is not None
    return sum(
        len(topic_messages(settings.bootstrap_servers, f"{settings.topic_prefix}{topic}.dlq"))
        for topic in topics
    )


async def test_v1_consumers_read_what_a_v2_producer_publishes_without_dead_letters(
    messaging_settings: MessagingSettings, v1: ModuleType
) -> None:
    """OrderPlaced v2 with a shipping address and PaymentRequested v2 with a token reach
    consumers built from the v1 schemas as v1 events, every v1 field as sent, and no
    letter is dead."""
    address = ShippingAddress(
        recipient="Ada",
        street="1 Analytical Way",
        city="London",
        postal_code="N1",
        country_code="GB",
    )
    placed = dataclasses.replace(order_placed(SKU), shipping_address=address)
    requested = payment_request("tok_ok")
    dead = DeadLetterRecorder()
    async with (
        recording(messaging_settings, (v1.OrderPlaced, v1.PaymentRequested), group="v1") as (
            v1_bus,
            received,
        ),
        EventBus(
            messaging_settings, service="orders", publishes=(OrderPlaced, PaymentRequested)
        ) as v2_bus,
    ):
        v1_bus.on_dead_letter(dead)
        await v2_bus.publish(placed)
        await v2_bus.publish(requested)
        await received.wait_for(2)

    # The v1 classes are generated at run time: mypy knows them as Any.
    by_type: dict[Any, tuple[Any, MessageContext]] = {
        type(event): (event, context) for event, context in received.calls
    }
    order, order_context = by_type[v1.OrderPlaced]
    assert order_context.schema_id == _schema_id(messaging_settings, OrderPlaced)
    assert order_context.schema_id != _schema_id(messaging_settings, v1.OrderPlaced)
    assert not hasattr(order, "shipping_address")
    assert (order.order_id, order.user_id, order.total) == (
        placed.order_id,
        placed.user_id,
        placed.total,
    )
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        (line.sku, line.quantity, line.unit_price) for line in placed.lines
    ]
    payment, _ = by_type[v1.PaymentRequested]
    assert not hasattr(payment, "payment_token")
    assert (payment.order_id, payment.amount) == (requested.order_id, requested.amount)
    assert dead.notices == []
    assert _dead_letters(messaging_settings, "orders") == 0


@pytest.fixture
async def services(
    settings_for: Callable[[str], ServiceSettings],
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    """Today's inventory (with a product in stock) and payments: v2 readers."""
    async with (
        running_service(inventory, settings_for("inventory"), verifier=VERIFIER) as stock,
        running_service(payments, settings_for("payments"), verifier=VERIFIER) as bank,
    ):
        body = {"sku": SKU, "name": "Mug", "price": "10.00", "currency": "EUR", "stock": 5}
        created = await stock.http.post("/products", json=body, headers=admin_headers())
        assert created.status_code == 201, created.text
        yield stock, bank


async def test_the_running_services_read_what_a_v1_producer_publishes_without_dead_letters(
    messaging_settings: MessagingSettings,
    v1: ModuleType,
    services: tuple[RunningService, RunningService],
) -> None:
    """OrderPlaced v1 (no address) and PaymentRequested v1 (no token) from a v1 producer
    are handled by today's inventory and payments: the stock is held, the token-less
    payment declined as an unknown card, and no letter is dead."""
    stock, bank = services
    order_id, payment_order_id = uuid.uuid4(), uuid.uuid4()
    placed = v1.OrderPlaced.new(
        order_id=order_id,
        user_id=uuid.uuid4(),
        lines=[v1.OrderLine(sku=SKU, quantity=2, unit_price=Decimal("10.00"))],
        total=Decimal("20.00"),
        currency=v1.Currency.EUR,
        source="orders",
    )
    requested = v1.PaymentRequested.new(
        order_id=payment_order_id,
        user_id=uuid.uuid4(),
        reservation_id=uuid.uuid4(),
        amount=Decimal("19.99"),
        currency=v1.Currency.EUR,
        source="orders",
    )
    publishes = (v1.OrderPlaced, v1.PaymentRequested)
    async with (
        recording(messaging_settings, (StockHeld, PaymentFailed)) as (_, answers),
        EventBus(messaging_settings, service="orders-v1", publishes=publishes) as v1_bus,
    ):
        await v1_bus.publish(placed)
        await v1_bus.publish(requested)
        await answers.wait_for(2)

    by_type = {type(event): event for event in answers.events}
    held = by_type[StockHeld]
    assert isinstance(held, StockHeld)
    assert (held.order_id, [(line.sku, line.quantity) for line in held.lines]) == (
        order_id,
        [(SKU, 2)],
    )
    failed = by_type[PaymentFailed]
    assert isinstance(failed, PaymentFailed)
    assert (failed.order_id, failed.reason) == (
        payment_order_id,
        PaymentFailureReason.CARD_DECLINED,
    )
    assert (await stock.http.get(f"/products/{SKU}")).json()["available"] == 3
    v1_ids = {_schema_id(messaging_settings, kind) for kind in publishes}
    assert v1_ids.isdisjoint(
        _schema_id(messaging_settings, kind) for kind in (OrderPlaced, PaymentRequested)
    )
    assert messaging_settings.bootstrap_servers is not None
    sent = topic_messages(
        messaging_settings.bootstrap_servers, f"{messaging_settings.topic_prefix}orders"
    )
    assert {read_header(m.value() or b"") for m in sent} == v1_ids
    assert dead_lettered(stock) == dead_lettered(bank) == 0
    assert _dead_letters(messaging_settings, "orders") == 0
