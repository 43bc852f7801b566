"""Two services on the kit, over Kafka, each with its own event store: the saga's first step.

``orders`` takes an order over HTTP and stores OrderPlaced; its outbox relay publishes it.
``payments`` handles it once and stores PaymentProcessed, whose relay publishes it;
``orders`` handles that and confirms the order. Correlation and causation run through all
three events, and a relay that lost its progress duplicates nothing anywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from evp.demo.services import orders, payments
from evp.events import OrderConfirmed, OrderPlaced, PaymentProcessed
from evp.service import ServiceSettings
from evp.service.testing import RunningService, running_service

ORDERS = 3
ORDER = {
    "user_id": "6c1f6e0e-7d0a-4a59-9f5f-0d5e4c9f2a11",
    "currency": "EUR",
    "lines": [{"sku": "BOOK-1", "quantity": 2, "unit_price": "10.00"}],
}


@dataclass
class Slice:
    """The two running services."""

    orders: RunningService
    payments: RunningService


@pytest.fixture
async def slice_(settings_for: Callable[[str], ServiceSettings]) -> AsyncIterator[Slice]:
    """orders and payments, running on their own databases and the test's topics."""
    async with (
        running_service(orders, settings_for("orders")) as shop,
        running_service(payments, settings_for("payments")) as bank,
    ):
        yield Slice(shop, bank)
        # Duplicates must be recognised by tracking, not fail into the dead-letter topic.
        for service in (shop, bank):
            assert _total(service, "evp_events_dead_lettered") == 0


async def _events(service: RunningService, kind: type[Any]) -> list[Any]:
    return [r.event for r in await service.runtime.store.read_all(0) if isinstance(r.event, kind)]


def _total(service: RunningService, counter: str, **labels: str) -> float:
    """The sum of ``counter`` over the series matching ``labels``."""
    return sum(
        sample.value
        for metric in service.runtime.metrics.registry.collect()
        if metric.name == counter
        for sample in metric.samples
        if sample.name == f"{counter}_total"
        and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def _handled(service: RunningService, outcome: str) -> float:
    return _total(service, "evp_events_handled", outcome=outcome)


async def _run_saga(slice_: Slice) -> list[uuid.UUID]:
    placed = []
    for _ in range(ORDERS):
        response = await slice_.orders.http.post("/orders", json=ORDER)
        assert response.status_code == 201
        placed.append(uuid.UUID(response.json()["order_id"]))

    async def all_confirmed() -> bool:
        return len(await _events(slice_.orders, OrderConfirmed)) == ORDERS

    await slice_.orders.wait_for(all_confirmed, timeout=30)
    return placed


async def test_orders_are_paid_and_confirmed_across_two_stores(slice_: Slice) -> None:
    """Each order yields one PaymentProcessed in payments and one OrderConfirmed in orders."""
    placed = await _run_saga(slice_)
    paid = await _events(slice_.payments, PaymentProcessed)
    confirmed = await _events(slice_.orders, OrderConfirmed)
    assert sorted(p.order_id for p in paid) == sorted(placed)
    assert sorted(c.order_id for c in confirmed) == sorted(placed)


async def test_correlation_and_causation_run_through_the_chain(slice_: Slice) -> None:
    """PaymentProcessed is caused by OrderPlaced, OrderConfirmed by PaymentProcessed, one flow."""
    await _run_saga(slice_)
    placed = {e.order_id: e for e in await _events(slice_.orders, OrderPlaced)}
    paid = {e.order_id: e for e in await _events(slice_.payments, PaymentProcessed)}
    confirmed = {e.order_id: e for e in await _events(slice_.orders, OrderConfirmed)}
    for order_id, order in placed.items():
        payment, confirmation = paid[order_id], confirmed[order_id]
        assert payment.envelope.causation_id == order.envelope.event_id
        assert confirmation.envelope.causation_id == payment.envelope.event_id
        correlations = {e.envelope.correlation_id for e in (order, payment, confirmation)}
        assert correlations == {order.envelope.correlation_id}


async def test_relay_restart_and_redelivery_duplicate_nothing(slice_: Slice) -> None:
    """Relays that lost their progress republish everything; consumers see it all again,
    acknowledge it as duplicates, and no store gains an event."""
    await _run_saga(slice_)
    before = [len(await s.runtime.store.read_all(0)) for s in (slice_.orders, slice_.payments)]
    for service in (slice_.orders, slice_.payments):
        async with service.runtime.store.transaction() as transaction:
            await transaction.reset_consumer(service.runtime.relay.name)  # as if it crashed

    async def redelivered() -> bool:
        return _handled(slice_.payments, "duplicate") == ORDERS and (
            _handled(slice_.orders, "duplicate") == ORDERS
        )

    await slice_.orders.wait_for(redelivered, timeout=30)
    after = [len(await s.runtime.store.read_all(0)) for s in (slice_.orders, slice_.payments)]
    assert after == before
    assert _handled(slice_.payments, "handled") == ORDERS
