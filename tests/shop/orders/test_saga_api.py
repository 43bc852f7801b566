"""The admin's saga API behind the console: timelines with ids, causation, steps and decoded
events; search by order id. Real Kafka, registry and Postgres."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from evp.avro import Event
from evp.events import (
    Currency,
    OrderPlaced,
    ProductAdded,
    StockHeld,
    StockReleased,
    StockReservationFailed,
)
from evp.messaging import EventBus, MessagingSettings
from evp.service import ServiceSettings
from evp.service.testing import RunningService, running_service
from evp.web import KeySet, Role, TokenIssuer, TokenVerifier
from shop.orders.app import service
from tests.shop.orders import replies

Settings = Callable[[str], ServiceSettings]

KEYS = KeySet.generate()
VERIFIER = TokenVerifier.local(KEYS, issuer="evp-users", audience="evp")
ISSUER = TokenIssuer(KEYS, issuer="evp-users", audience="evp")
ORDER = {"lines": [{"sku": "BOOK-1", "quantity": 2}], "payment": {"token": "tok_ok"}}


def _auth(role: Role = Role.CUSTOMER) -> dict[str, str]:
    user_id = uuid.uuid4()
    token = ISSUER.issue(user_id, f"{user_id.hex[:8]}@example.com", role).access_token
    return {"Authorization": f"Bearer {token}"}


ADMIN = _auth(Role.ADMIN)


@pytest.fixture
async def bus(messaging_settings: MessagingSettings) -> AsyncIterator[EventBus]:
    """A bus playing inventory."""
    published = (ProductAdded, StockHeld, StockReleased, StockReservationFailed)
    async with EventBus(messaging_settings, service="test", publishes=published) as test_bus:
        yield test_bus


@pytest.fixture
async def shop(settings_for: Settings, bus: EventBus) -> AsyncIterator[RunningService]:
    """The orders service, with BOOK-1 (10.00 EUR) in its catalogue."""
    async with running_service(service, settings_for("orders"), verifier=VERIFIER) as running:
        book = ProductAdded.new(
            sku="BOOK-1", name="Book", price=Decimal("10.00"), currency=Currency.EUR, source="x"
        )
        await bus.publish(book)

        async def known() -> bool:
            async with running.runtime.recorder.pool.acquire() as connection:
                return bool(await connection.fetchval("SELECT count(*) FROM catalogue"))

        await running.wait_for(known)
        yield running


async def _place(shop: RunningService) -> uuid.UUID:
    response = await shop.http.post("/orders", json=ORDER, headers=_auth())
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["order_id"])


async def _stream(shop: RunningService, order_id: uuid.UUID) -> list[Event]:
    return list(await shop.runtime.store.load(f"order-{order_id}"))


async def _until(shop: RunningService, order_id: uuid.UUID, event_type: str) -> list[Event]:
    async def there() -> bool:
        return any(type(e).__name__ == event_type for e in await _stream(shop, order_id))

    await shop.wait_for(there)
    return await _stream(shop, order_id)


async def _held(shop: RunningService, bus: EventBus, order_id: uuid.UUID) -> list[Event]:
    """Inventory holds the stock in answer to OrderPlaced, as a participant does."""
    (placed,) = await _stream(shop, order_id)
    assert isinstance(placed, OrderPlaced)
    await bus.publish(
        StockHeld.new(
            hold_id=uuid.uuid4(),
            order_id=order_id,
            lines=replies.LINES,
            expires_at=placed.envelope.timestamp,
            source="inventory",
            caused_by=placed,
        )
    )
    return await _until(shop, order_id, "PaymentRequested")


async def _timeline(shop: RunningService, order_id: uuid.UUID) -> list[dict[str, Any]]:
    response = await shop.http.get(f"/sagas/{order_id}", headers=ADMIN)
    assert response.status_code == 200, response.text
    timeline: list[dict[str, Any]] = response.json()["timeline"]
    return timeline


async def _listed(shop: RunningService, **query: str) -> list[str]:
    response = await shop.http.get("/sagas", params=query, headers=ADMIN)
    assert response.status_code == 200, response.text
    return [saga["order_id"] for saga in response.json()]


# -- the timeline ---------------------------------------------------------------------------


async def test_the_timeline_carries_each_events_ids(shop: RunningService, bus: EventBus) -> None:
    """Each entry has its event's id, and every entry the saga's one correlation id."""
    order_id = await _place(shop)
    stream = await _held(shop, bus, order_id)
    timeline = await _timeline(shop, order_id)
    assert [e["event_id"] for e in timeline] == [str(e.envelope.event_id) for e in stream]
    assert {e["correlation_id"] for e in timeline} == {str(stream[0].envelope.event_id)}


async def test_a_reply_is_caused_by_the_command_it_answers(
    shop: RunningService, bus: EventBus
) -> None:
    """StockHeld's causation is OrderPlaced; PaymentRequested's is StockHeld; the first none."""
    order_id = await _place(shop)
    await _held(shop, bus, order_id)
    placed, held, requested = await _timeline(shop, order_id)
    assert placed["causation_id"] is None
    assert held["causation_id"] == placed["event_id"]
    assert requested["causation_id"] == held["event_id"]


async def test_the_timeline_decodes_each_event(shop: RunningService) -> None:
    """OrderPlaced's fields as JSON: ids and amounts as strings, its envelope left out."""
    order_id = await _place(shop)
    data = (await _timeline(shop, order_id))[0]["data"]
    assert data["order_id"] == str(order_id)
    assert data["lines"] == [{"sku": "BOOK-1", "quantity": 2, "unit_price": "10.00"}]
    assert (data["total"], data["currency"]) == ("20.00", "EUR")
    assert data["shipping_address"] is None
    assert "envelope" not in data


async def test_the_timeline_decodes_times_as_iso_8601(shop: RunningService, bus: EventBus) -> None:
    """StockHeld's expires_at is an ISO 8601 time, its lines objects."""
    order_id = await _place(shop)
    stream = await _held(shop, bus, order_id)
    held = (await _timeline(shop, order_id))[1]["data"]
    assert held["expires_at"] == stream[0].envelope.timestamp.isoformat()
    assert held["lines"] == [{"sku": "BOOK-1", "quantity": 2}]


async def test_a_payment_token_is_not_shown(shop: RunningService, bus: EventBus) -> None:
    """PaymentRequested's payment_token is redacted; its other fields are shown."""
    order_id = await _place(shop)
    await _held(shop, bus, order_id)
    requested = (await _timeline(shop, order_id))[2]["data"]
    assert requested["payment_token"] == "[redacted]"
    assert requested["amount"] == "20.00"


async def test_each_event_names_the_step_it_started_or_answered(
    shop: RunningService, bus: EventBus
) -> None:
    """Commands name the step they start, replies the step that waits; the end names none."""
    order_id = await _place(shop)
    stream = await _held(shop, bus, order_id)
    cancelled = await shop.http.post(f"/orders/{order_id}/cancel", headers=ADMIN)
    assert cancelled.status_code == 202
    hold_id = next(e.hold_id for e in stream if isinstance(e, StockHeld))
    await bus.publish(replies.released(order_id, hold_id))
    await _until(shop, order_id, "OrderCancelled")
    timeline = await _timeline(shop, order_id)
    assert [(e["event_type"], e["step"]) for e in timeline] == [
        ("OrderPlaced", "hold"),
        ("StockHeld", "hold"),
        ("PaymentRequested", "payment"),
        ("StockReleaseRequested", "release"),
        ("StockReleased", "release"),
        ("OrderCancelled", None),
    ]


async def test_the_customers_timeline_keeps_its_three_fields(shop: RunningService) -> None:
    """GET /orders/{id} shows the customer each event's type, time and source only."""
    user = _auth()
    placed = await shop.http.post("/orders", json=ORDER, headers=user)
    order = await shop.http.get(f"/orders/{placed.json()['order_id']}", headers=user)
    (entry,) = order.json()["timeline"]
    assert set(entry) == {"event_type", "at", "source"}


# -- search -----------------------------------------------------------------------------------


async def test_a_saga_is_found_by_the_start_of_its_order_id(shop: RunningService) -> None:
    """Any case, with or without hyphens, finds that saga only; another prefix finds none."""
    order_id, other = await _place(shop), await _place(shop)
    await shop.wait_for(lambda: _count_listed(shop, 2))
    assert not other.hex.startswith(order_id.hex[:12])
    assert await _listed(shop, order_id=str(order_id)[:13].upper()) == [str(order_id)]
    assert await _listed(shop, order_id=order_id.hex[:12]) == [str(order_id)]
    assert await _listed(shop, order_id=str(uuid.uuid4())[:13]) == []


async def test_the_search_combines_with_the_state(shop: RunningService) -> None:
    """A cancelled order's saga is found among the done, not the running."""
    order_id = await _place(shop)
    cancelled = await shop.http.post(f"/orders/{order_id}/cancel", headers=ADMIN)
    assert cancelled.status_code == 202

    async def done() -> bool:
        return await _listed(shop, state="done") == [str(order_id)]

    await shop.wait_for(done)
    prefix = order_id.hex[:8]
    assert await _listed(shop, order_id=prefix, state="running") == []
    assert await _listed(shop, order_id=prefix, state="done") == [str(order_id)]


async def test_an_order_id_that_is_not_hex_is_a_422_naming_it(shop: RunningService) -> None:
    """Only hex digits and hyphens are searched for (no LIKE wildcards)."""
    response = await shop.http.get("/sagas", params={"order_id": "ab%"}, headers=ADMIN)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.order_id"]


async def _count_listed(shop: RunningService, count: int) -> bool:
    return len(await _listed(shop)) == count
