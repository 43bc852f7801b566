"""The orders service over HTTP, on real Kafka, registry and Postgres; replies from a test bus."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from evp.avro import Event
from evp.events import (
    Currency,
    OrderPlaced,
    PaymentFailed,
    PaymentProcessed,
    ProductAdded,
    ReleaseReason,
    StockHeld,
    StockReleased,
    StockReleaseRequested,
    StockReservationFailed,
    StockReserved,
)
from evp.messaging import EventBus, MessageContext, MessagingSettings
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


def _auth(user_id: uuid.UUID, role: Role = Role.CUSTOMER) -> dict[str, str]:
    token = ISSUER.issue(user_id, f"{user_id.hex[:8]}@example.com", role).access_token
    return {"Authorization": f"Bearer {token}"}


ADMIN = _auth(uuid.uuid4(), Role.ADMIN)


@pytest.fixture(autouse=True)
def _quick_saga(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERS_DEADLINE_POLL_INTERVAL_S", "0.05")


@pytest.fixture
async def bus(messaging_settings: MessagingSettings) -> AsyncIterator[EventBus]:
    """A bus playing inventory and payments."""
    published = (
        ProductAdded,
        StockHeld,
        StockReservationFailed,
        StockReserved,
        StockReleased,
        PaymentProcessed,
        PaymentFailed,
    )
    async with EventBus(messaging_settings, service="test", publishes=published) as test_bus:
        yield test_bus


@pytest.fixture
async def shop(settings_for: Settings, bus: EventBus) -> AsyncIterator[RunningService]:
    """The orders service, with BOOK-1 (10.00 EUR) and PEN-1 (2.50 USD) in its catalogue."""
    async with running_service(service, settings_for("orders"), verifier=VERIFIER) as running:
        await _stock(running, bus, "BOOK-1", "10.00", Currency.EUR)
        await _stock(running, bus, "PEN-1", "2.50", Currency.USD)
        yield running


async def _stock(
    shop: RunningService, bus: EventBus, sku: str, price: str, currency: Currency
) -> None:
    await bus.publish(
        ProductAdded.new(
            sku=sku, name=sku.title(), price=Decimal(price), currency=currency, source="inventory"
        )
    )

    async def known() -> bool:
        async with shop.runtime.recorder.pool.acquire() as connection:
            return bool(await connection.fetchval("SELECT 1 FROM catalogue WHERE sku = $1", sku))

    await shop.wait_for(known)


async def _place(shop: RunningService, user: dict[str, str], body: Any = None) -> uuid.UUID:
    response = await shop.http.post("/orders", json=body or ORDER, headers=user)
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["order_id"])


async def _types(shop: RunningService, order_id: uuid.UUID) -> list[str]:
    return [type(e).__name__ for e in await shop.runtime.store.load(f"order-{order_id}")]


async def _until(shop: RunningService, order_id: uuid.UUID, event_type: str) -> list[str]:
    async def there() -> bool:
        return event_type in await _types(shop, order_id)

    await shop.wait_for(there)
    return await _types(shop, order_id)


async def _hold(shop: RunningService, bus: EventBus, order_id: uuid.UUID) -> uuid.UUID:
    hold_id = uuid.uuid4()
    await bus.publish(replies.held(order_id, hold_id))
    await _until(shop, order_id, "PaymentRequested")
    return hold_id


async def _order(shop: RunningService, order_id: uuid.UUID, user: dict[str, str]) -> Any:
    response = await shop.http.get(f"/orders/{order_id}", headers=user)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_order_is_accepted_and_priced_from_the_catalogue(shop: RunningService) -> None:
    """202 PENDING; the order shows the catalogue's price, its total and its first event."""
    user = _auth(uuid.uuid4())
    response = await shop.http.post("/orders", json=ORDER, headers=user)
    assert response.status_code == 202
    assert response.json()["status"] == "PENDING"
    order = await _order(shop, uuid.UUID(response.json()["order_id"]), user)
    assert order["lines"] == [{"sku": "BOOK-1", "quantity": 2, "unit_price": "10.00"}]
    assert (order["total"], order["currency"], order["status"]) == ("20.00", "EUR", "PENDING")
    assert order["cancellation_reason"] is None
    assert [e["event_type"] for e in order["timeline"]] == ["OrderPlaced"]


async def test_an_unknown_sku_or_a_second_currency_is_a_422_naming_the_line(
    shop: RunningService,
) -> None:
    """Each line that cannot be ordered is named by its path."""
    user = _auth(uuid.uuid4())
    unknown = {**ORDER, "lines": [{"sku": "NOPE", "quantity": 1}]}
    mixed = {**ORDER, "lines": [{"sku": "BOOK-1", "quantity": 1}, {"sku": "PEN-1", "quantity": 1}]}
    first = await shop.http.post("/orders", json=unknown, headers=user)
    second = await shop.http.post("/orders", json=mixed, headers=user)
    assert first.status_code == 422
    assert [e["field"] for e in first.json()["errors"]] == ["body.lines.0.sku"]
    assert second.status_code == 422
    assert [e["field"] for e in second.json()["errors"]] == ["body.lines.1.sku"]


async def test_placing_without_a_token_is_a_401(shop: RunningService) -> None:
    """Orders are placed by signed-in customers only."""
    response = await shop.http.post("/orders", json=ORDER)
    assert response.status_code == 401


async def test_an_idempotency_key_returns_the_same_order(shop: RunningService) -> None:
    """The same key and body: the same order; the same key, another body: 409."""
    user = _auth(uuid.uuid4())
    headers = {**user, "Idempotency-Key": "order-attempt-1"}
    first = await shop.http.post("/orders", json=ORDER, headers=headers)
    again = await shop.http.post("/orders", json=ORDER, headers=headers)
    other = {**ORDER, "lines": [{"sku": "BOOK-1", "quantity": 3}]}
    changed = await shop.http.post("/orders", json=other, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["order_id"] == first.json()["order_id"]
    assert changed.status_code == 409
    placed = [r for r in await shop.runtime.store.read_all() if isinstance(r.event, OrderPlaced)]
    assert len(placed) == 1


async def test_an_order_is_seen_by_its_owner_and_admins_only(shop: RunningService) -> None:
    """Another customer gets a 404; an admin a 200."""
    order_id = await _place(shop, _auth(uuid.uuid4()))
    other = await shop.http.get(f"/orders/{order_id}", headers=_auth(uuid.uuid4()))
    admin = await shop.http.get(f"/orders/{order_id}", headers=ADMIN)
    assert other.status_code == 404
    assert admin.status_code == 200


async def test_the_list_is_the_callers_newest_first_in_pages(shop: RunningService) -> None:
    """Three orders, pages of two: newest first, then the oldest, then no cursor."""
    user = _auth(uuid.uuid4())
    placed = [await _place(shop, user) for _ in range(3)]
    await _place(shop, _auth(uuid.uuid4()))

    async def listed() -> bool:
        response = await shop.http.get("/orders?limit=10", headers=user)
        return len(response.json()["items"]) == 3

    await shop.wait_for(listed)
    first = (await shop.http.get("/orders?limit=2", headers=user)).json()
    cursor = first["next_cursor"]
    second = (await shop.http.get(f"/orders?limit=2&cursor={cursor}", headers=user)).json()
    ids = [item["order_id"] for item in first["items"] + second["items"]]
    assert ids == [str(order_id) for order_id in reversed(placed)]
    assert second["next_cursor"] is None


async def test_as_of_answers_the_order_as_it_was(shop: RunningService) -> None:
    """Before its cancel the order was PENDING; a malformed as_of is a 422 naming it."""
    user = _auth(uuid.uuid4())
    order_id = await _place(shop, user)
    await asyncio.sleep(0.05)
    before = datetime.datetime.now(datetime.UTC).isoformat()
    await asyncio.sleep(0.05)
    cancelled = await shop.http.post(f"/orders/{order_id}/cancel", headers=user)
    then = await shop.http.get(f"/orders/{order_id}", params={"as_of": before}, headers=user)
    now = await _order(shop, order_id, user)
    bad = await shop.http.get(f"/orders/{order_id}?as_of=yesterday", headers=user)
    assert cancelled.status_code == 202
    assert then.json()["status"] == "PENDING"
    assert (now["status"], now["cancellation_reason"]) == ("CANCELLED", "CUSTOMER_REQUEST")
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["query.as_of"]


async def test_the_happy_path_confirms_the_order(shop: RunningService, bus: EventBus) -> None:
    """Held, paid, reserved: CONFIRMED, the saga's steps in order in the timeline."""
    user = _auth(uuid.uuid4())
    order_id = await _place(shop, user)
    hold_id = await _hold(shop, bus, order_id)
    await bus.publish(replies.paid(order_id))
    await _until(shop, order_id, "StockReservationRequested")
    await bus.publish(replies.reserved(order_id, hold_id))
    await _until(shop, order_id, "OrderConfirmed")
    order = await _order(shop, order_id, user)
    assert order["status"] == "CONFIRMED"
    assert [e["event_type"] for e in order["timeline"]] == [
        "OrderPlaced",
        "StockHeld",
        "PaymentRequested",
        "PaymentProcessed",
        "StockReservationRequested",
        "StockReserved",
        "OrderConfirmed",
    ]


async def test_a_declined_payment_cancels_the_order(shop: RunningService, bus: EventBus) -> None:
    """PaymentFailed -> StockReleaseRequested -> StockReleased -> CANCELLED PAYMENT_FAILED."""
    user = _auth(uuid.uuid4())
    order_id = await _place(shop, user)
    hold_id = await _hold(shop, bus, order_id)
    await bus.publish(replies.declined(order_id))
    await _until(shop, order_id, "StockReleaseRequested")
    await bus.publish(replies.released(order_id, hold_id, ReleaseReason.PAYMENT_FAILED))
    await _until(shop, order_id, "OrderCancelled")
    order = await _order(shop, order_id, user)
    assert (order["status"], order["cancellation_reason"]) == ("CANCELLED", "PAYMENT_FAILED")


async def test_cancel_is_accepted_while_pending_and_refused_after(
    shop: RunningService, bus: EventBus
) -> None:
    """Waiting for payment: 202 and the hold's release is asked; cancelled: 409."""
    user = _auth(uuid.uuid4())
    order_id = await _place(shop, user)
    hold_id = await _hold(shop, bus, order_id)
    first = await shop.http.post(f"/orders/{order_id}/cancel", headers=user)
    assert first.status_code == 202
    await bus.publish(replies.released(order_id, hold_id))
    await _until(shop, order_id, "OrderCancelled")
    again = await shop.http.post(f"/orders/{order_id}/cancel", headers=user)
    someone = await shop.http.post(f"/orders/{order_id}/cancel", headers=_auth(uuid.uuid4()))
    assert again.status_code == 409
    assert someone.status_code == 404


async def test_sagas_are_for_admins(shop: RunningService) -> None:
    """A customer gets 403 on every /sagas route."""
    user = _auth(uuid.uuid4())
    order_id = await _place(shop, user)
    answers = [
        await shop.http.get("/sagas", headers=user),
        await shop.http.get(f"/sagas/{order_id}", headers=user),
        await shop.http.post(f"/sagas/{order_id}/retry", headers=user),
    ]
    assert [a.status_code for a in answers] == [403, 403, 403]


async def test_a_saga_shows_each_steps_state(shop: RunningService, bus: EventBus) -> None:
    """While payment is pending: hold succeeded, payment running with its deadline."""
    order_id = await _place(shop, _auth(uuid.uuid4()))
    await _hold(shop, bus, order_id)
    saga = (await shop.http.get(f"/sagas/{order_id}", headers=ADMIN)).json()
    states = {step["name"]: step["state"] for step in saga["steps"]}
    assert saga["step"] == "payment"
    assert states == {
        "hold": "succeeded",
        "payment": "running",
        "reservation": "pending",
        "release": "pending",
    }
    (payment,) = [step for step in saga["steps"] if step["name"] == "payment"]
    assert payment["due_at"] is not None


async def test_a_stuck_step_is_listed_and_re_driven(
    settings_for: Settings,
    bus: EventBus,
    messaging_settings: MessagingSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No answer to OrderPlaced: the saga is stuck; retry publishes the same command again."""
    monkeypatch.setenv("ORDERS_STUCK_GRACE_S", "0")
    seen: list[uuid.UUID] = []
    probe = EventBus(messaging_settings, service="probe")

    @probe.subscriber(group="probe", events=(OrderPlaced,))
    async def count(event: Event, context: MessageContext) -> None:
        seen.append(event.envelope.event_id)

    async with (
        probe,
        running_service(service, settings_for("orders"), verifier=VERIFIER) as shop,
    ):
        await probe.wait_assigned()
        await _stock(shop, bus, "BOOK-1", "10.00", Currency.EUR)
        order_id = await _place(shop, _auth(uuid.uuid4()))
        await shop.wait_for(lambda: len(seen) == 1)

        async def listed() -> bool:
            response = await shop.http.get("/sagas?state=stuck", headers=ADMIN)
            return [s["order_id"] for s in response.json()] == [str(order_id)]

        await shop.wait_for(listed)
        done = (await shop.http.get("/sagas?state=done", headers=ADMIN)).json()
        retried = await shop.http.post(f"/sagas/{order_id}/retry", headers=ADMIN)
        await shop.wait_for(lambda: len(seen) == 2)
    assert done == []
    assert retried.status_code == 202
    assert retried.json()["step"] == "hold"
    assert seen[0] == seen[1] == uuid.UUID(retried.json()["event_id"])


async def test_a_deadline_survives_a_restart_and_fires_once(
    settings_for: Settings, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped while payment is pending; started again after the deadline: released once."""
    monkeypatch.setenv("ORDERS_PAYMENT_TIMEOUT_S", "1")
    settings = settings_for("orders")
    user = _auth(uuid.uuid4())
    async with running_service(service, settings, verifier=VERIFIER) as shop:
        await _stock(shop, bus, "BOOK-1", "10.00", Currency.EUR)
        order_id = await _place(shop, user)
        hold_id = await _hold(shop, bus, order_id)
    await asyncio.sleep(1.2)
    async with running_service(service, settings, verifier=VERIFIER) as shop:
        await _until(shop, order_id, "StockReleaseRequested")
        await asyncio.sleep(0.3)
        releases = await shop.runtime.store.load(f"order-{order_id}")
        await bus.publish(replies.released(order_id, hold_id, ReleaseReason.TIMED_OUT))
        await _until(shop, order_id, "OrderCancelled")
        order = await _order(shop, order_id, user)
        async with shop.runtime.recorder.pool.acquire() as connection:
            left = await connection.fetchval("SELECT count(*) FROM saga_deadlines")
    (release,) = [e for e in releases if isinstance(e, StockReleaseRequested)]
    assert release.hold_id == hold_id
    assert (order["status"], order["cancellation_reason"]) == ("CANCELLED", "TIMED_OUT")
    assert left == 0
