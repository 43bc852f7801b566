"""The six services together, in-process, over HTTP and Kafka: every path of the order saga.

Each test starts users (on a real socket, for its JWKS), inventory, payments, orders,
notifications and analytics on their own databases and the test's topics, seeds a product
as the admin, and places orders as a customer over HTTP. Then it checks what the shop
promises: the order of each flow's events on the topics, stock that is never negative or
oversold, one charge and at most one refund per order, one email per terminal order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from evp.avro import AvroCodec
from evp.events import EVENT_TYPES
from evp.messaging import MessagingSettings, RegistrySchemaLookup
from evp.messaging.headers import EVENT_TYPE, header, headers_of
from evp.service import ServiceSettings
from evp.service.inprocess import RunningService, running_service
from shop.analytics.app import service as analytics
from shop.inventory.app import service as inventory
from shop.notifications.app import service as notifications
from shop.orders.app import service as orders
from shop.payments.app import service as payments
from shop.users.app import service as users
from tests.messaging.probes import topic_messages

ADMIN = {"email": "admin@shop.test", "password": "correct horse battery staple"}
TERMINAL = {"CONFIRMED", "CANCELLED"}


@dataclass
class Shop:
    """The six running services, an admin token and a customer's."""

    users: RunningService
    inventory: RunningService
    payments: RunningService
    orders: RunningService
    notifications: RunningService
    analytics: RunningService
    admin: dict[str, str]
    customer: dict[str, str]
    customer_email: str
    messaging: MessagingSettings

    async def add_product(self, sku: str, stock: int, price: str = "10.00") -> None:
        """Create a product as the admin (orders learns its price from ProductAdded)."""
        body = {"sku": sku, "name": sku.title(), "price": price, "currency": "EUR", "stock": stock}
        response = await self.inventory.http.post("/products", json=body, headers=self.admin)
        assert response.status_code == 201, response.text

    async def place(
        self,
        lines: list[tuple[str, int]],
        *,
        token: str = "tok_ok",
        headers: dict[str, str] | None = None,
        expect: int | None = 202,
    ) -> Any:
        """POST /orders as the customer."""
        body = {
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
            "payment": {"token": token},
        }
        response = await self.orders.http.post(
            "/orders", json=body, headers={**self.customer, **(headers or {})}
        )
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    async def order_once_priced(self, lines: list[tuple[str, int]], **kw: Any) -> str:
        """Place an order, retrying while orders has not yet seen the product's price."""
        async with asyncio.timeout(30):
            while True:
                response = await self.place(lines, expect=None, **kw)
                if response.status_code == 202:
                    return str(response.json()["order_id"])
                assert response.status_code == 422, response.text
                await asyncio.sleep(0.1)

    async def terminal(self, order_id: str, timeout: float = 60) -> dict[str, Any]:
        """The order once it reached CONFIRMED or CANCELLED."""
        async with asyncio.timeout(timeout):
            while True:
                response = await self.orders.http.get(f"/orders/{order_id}", headers=self.customer)
                body: dict[str, Any] = response.json()
                if body.get("status") in TERMINAL:
                    return body
                await asyncio.sleep(0.1)

    async def product(self, sku: str) -> dict[str, Any]:
        """The product as inventory answers it."""
        body: dict[str, Any] = (await self.inventory.http.get(f"/products/{sku}")).json()
        return body

    def flow(self, order_id: str) -> list[str]:
        """The types of the events about ``order_id`` on the shop's topics, in the order
        they happened (their envelopes' timestamps)."""
        bootstrap = self.messaging.bootstrap_servers
        assert bootstrap is not None
        found: list[tuple[Any, str]] = []
        with RegistrySchemaLookup.from_settings(self.messaging) as lookup:
            codec = AvroCodec(lookup)
            for topic in ("orders", "inventory", "payments"):
                name = self.messaging.topic_prefix + topic
                for message in topic_messages(bootstrap, name):
                    kind = (header(headers_of(message), EVENT_TYPE) or b"").decode()
                    event = codec.decode(message.value() or b"", EVENT_TYPES[kind])
                    if str(getattr(event, "order_id", "")) == order_id:
                        found.append((event.envelope.timestamp, kind.rsplit(".", 1)[-1]))
        return [kind for _, kind in sorted(found, key=lambda item: item[0])]


async def _settled(shop: Shop, order_id: str, last: str) -> list[str]:
    """The order's flow once ``last`` reached the topics (an outbox may still be relaying)."""
    try:
        async with asyncio.timeout(30):
            while last not in (flow := shop.flow(order_id)):
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"{last} never reached the topics: {shop.flow(order_id)}") from None
    return flow


def _in_order(flow: list[str], expected: list[str]) -> bool:
    """Whether ``expected`` appears in ``flow`` in this order (other events between)."""
    position = 0
    for kind in flow:
        if position < len(expected) and kind == expected[position]:
            position += 1
    return position == len(expected)


@pytest.fixture
async def shop(
    settings_for: Callable[[str], ServiceSettings],
    messaging_settings: MessagingSettings,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Shop]:
    """The six services running, an admin and a registered, logged-in customer; a test may
    pass settings of its own (``indirect`` parametrization) as environment variables."""
    monkeypatch.setenv("USERS_ADMIN_EMAIL", ADMIN["email"])
    monkeypatch.setenv("USERS_ADMIN_PASSWORD", ADMIN["password"])
    # The payment deadline leaves room for a loaded CI machine; tok_slow answers after it.
    monkeypatch.setenv("ORDERS_PAYMENT_TIMEOUT_S", "5")
    monkeypatch.setenv("PAYMENTS_SLOW_APPROVAL_S", "8")
    for name, value in getattr(request, "param", {}).items():
        monkeypatch.setenv(name, value)
    async with running_service(users, settings_for("users"), serve_http=True) as user_service:
        assert user_service.url is not None
        jwks = f"{user_service.url}/.well-known/jwks.json"

        def settings(name: str) -> ServiceSettings:
            return settings_for(name).replace(jwks_url=jwks)

        async with (
            running_service(inventory, settings("inventory")) as stock,
            running_service(payments, settings("payments")) as bank,
            running_service(orders, settings("orders")) as shop_orders,
            running_service(notifications, settings("notifications")) as mail,
            running_service(analytics, settings("analytics")) as figures,
        ):
            admin = await _token(user_service, ADMIN["email"], ADMIN["password"])
            email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
            created = await user_service.http.post(
                "/users", json={"email": email, "password": "a long password", "name": "Ada"}
            )
            assert created.status_code == 201, created.text
            customer = await _token(user_service, email, "a long password")
            yield Shop(
                user_service,
                stock,
                bank,
                shop_orders,
                mail,
                figures,
                admin,
                customer,
                email,
                messaging_settings,
            )


async def _token(service: RunningService, email: str, password: str) -> dict[str, str]:
    response = await service.http.post("/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_a_paid_order_is_confirmed_and_its_stock_reserved(shop: Shop) -> None:
    """Happy path: OrderPlaced, PaymentProcessed, StockReserved, OrderConfirmed, in order."""
    await shop.add_product("MUG", stock=5)
    order_id = await shop.order_once_priced([("MUG", 2)])
    order = await shop.terminal(order_id)
    assert order["status"] == "CONFIRMED"
    assert order["total"] == "20.00"
    flow = await _settled(shop, order_id, "OrderConfirmed")
    assert _in_order(flow, ["OrderPlaced", "PaymentProcessed", "StockReserved", "OrderConfirmed"])
    assert (await shop.product("MUG"))["available"] == 3


async def test_a_declined_payment_releases_the_stock_and_cancels(shop: Shop) -> None:
    """Declined: OrderPlaced, PaymentFailed, StockReleased, OrderCancelled(PAYMENT_FAILED)."""
    await shop.add_product("LAMP", stock=2)
    order_id = await shop.order_once_priced([("LAMP", 1)], token="tok_declined")
    order = await shop.terminal(order_id)
    assert (order["status"], order["cancellation_reason"]) == ("CANCELLED", "PAYMENT_FAILED")
    flow = await _settled(shop, order_id, "OrderCancelled")
    assert _in_order(flow, ["OrderPlaced", "PaymentFailed", "StockReleased", "OrderCancelled"])
    assert (await shop.product("LAMP"))["available"] == 2


async def test_an_order_beyond_the_stock_is_cancelled_without_a_charge(shop: Shop) -> None:
    """Out of stock: cancelled OUT_OF_STOCK, and payments never saw a request."""
    await shop.add_product("DESK", stock=1)
    order_id = await shop.order_once_priced([("DESK", 3)])
    order = await shop.terminal(order_id)
    assert (order["status"], order["cancellation_reason"]) == ("CANCELLED", "OUT_OF_STOCK")
    flow = await _settled(shop, order_id, "OrderCancelled")
    assert "PaymentRequested" not in flow
    assert "PaymentProcessed" not in flow


async def test_a_payment_that_never_answers_times_out_and_is_refunded_later(shop: Shop) -> None:
    """tok_slow: cancelled TIMED_OUT with the stock back; the late payment is refunded."""
    await shop.add_product("SOFA", stock=1)
    order_id = await shop.order_once_priced([("SOFA", 1)], token="tok_slow")
    order = await shop.terminal(order_id)
    assert (order["status"], order["cancellation_reason"]) == ("CANCELLED", "TIMED_OUT")
    flow = await _settled(shop, order_id, "PaymentRefunded")
    assert flow.count("PaymentProcessed") == 1
    assert flow.count("PaymentRefunded") == 1
    assert (await shop.product("SOFA"))["available"] == 1


async def test_concurrent_orders_for_the_last_items_never_oversell(shop: Shop) -> None:
    """Nine orders for three units, eight at once: at most three confirmed, the rest
    cancelled, and the stock left is exactly what the confirmed ones did not take."""
    await shop.add_product("LAST", stock=3)
    first = await shop.order_once_priced([("LAST", 1)])  # waits until orders knows the price
    placed = await asyncio.gather(*(shop.place([("LAST", 1)]) for _ in range(8)))
    order_ids = [first, *(r.json()["order_id"] for r in placed)]
    outcomes = [await shop.terminal(order_id) for order_id in order_ids]
    confirmed = sum(o["status"] == "CONFIRMED" for o in outcomes)
    reasons = {o["cancellation_reason"] for o in outcomes if o["status"] == "CANCELLED"}
    assert confirmed <= 3
    assert len(outcomes) - confirmed >= 6
    # A payment slower than the saga's deadline on a loaded machine cancels as TIMED_OUT.
    assert reasons <= {"OUT_OF_STOCK", "TIMED_OUT"}
    assert (await shop.product("LAST"))["available"] == 3 - confirmed


async def test_each_terminal_order_gets_one_email_and_each_user_one_welcome(shop: Shop) -> None:
    """The sink holds one welcome for the customer and one email per finished order."""
    await shop.add_product("BOOK", stock=4)
    first = await shop.order_once_priced([("BOOK", 1)])
    second = await shop.order_once_priced([("BOOK", 1)], token="tok_declined")
    for order_id in (first, second):
        await shop.terminal(order_id)

    async def mails() -> list[dict[str, Any]]:
        response = await shop.notifications.http.get("/notifications/sink", headers=shop.admin)
        body = response.json()
        items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
        return [m for m in items if shop.customer_email in str(m.get("to"))]

    async with asyncio.timeout(30):
        while len(await mails()) < 3:
            await asyncio.sleep(0.2)
    await asyncio.sleep(1)  # a duplicate would arrive by now
    assert len(await mails()) == 3


async def test_a_customer_cancel_while_paying_releases_the_stock_and_refunds(shop: Shop) -> None:
    """Cancelled while the payment is pending: stock back, and the late charge refunded."""
    await shop.add_product("CHAIR", stock=2)
    order_id = await shop.order_once_priced([("CHAIR", 1)], token="tok_slow")
    await _settled(shop, order_id, "PaymentRequested")
    cancelled = await shop.orders.http.post(f"/orders/{order_id}/cancel", headers=shop.customer)
    assert cancelled.status_code == 202, cancelled.text
    order = await shop.terminal(order_id)
    assert (order["status"], order["cancellation_reason"]) == ("CANCELLED", "CUSTOMER_REQUEST")
    flow = await _settled(shop, order_id, "PaymentRefunded")
    assert _in_order(flow, ["PaymentRequested", "StockReleased", "OrderCancelled"])
    assert _in_order(flow, ["PaymentProcessed", "RefundRequested", "PaymentRefunded"])
    assert (await shop.product("CHAIR"))["available"] == 2
    payment = await shop.payments.http.get(f"/payments/{order_id}", headers=shop.customer)
    assert payment.json()["status"] == "REFUNDED"


async def test_a_customer_cancel_before_the_hold_answers_releases_it_later(shop: Shop) -> None:
    """Cancelled at once: the order ends, the hold that still comes is released, no charge."""
    await shop.add_product("STOOL", stock=2)
    order_id = await shop.order_once_priced([("STOOL", 1)], token="tok_slow")
    cancelled = await shop.orders.http.post(f"/orders/{order_id}/cancel", headers=shop.customer)
    assert cancelled.status_code == 202, cancelled.text
    order = await shop.terminal(order_id)
    assert (order["status"], order["cancellation_reason"]) == ("CANCELLED", "CUSTOMER_REQUEST")
    flow = await _settled(shop, order_id, "StockReleased")
    assert "PaymentRequested" not in flow or "PaymentRefunded" in await _settled(
        shop, order_id, "PaymentRefunded"
    )
    async with asyncio.timeout(30):
        while (await shop.product("STOOL"))["available"] != 2:
            await asyncio.sleep(0.2)


async def test_each_order_is_charged_once_and_only_kept_when_confirmed(shop: Shop) -> None:
    """Charges minus refunds equal the confirmed orders' totals, one charge per order."""
    await shop.add_product("PEN", stock=3, price="2.50")
    placed = [
        await shop.order_once_priced([("PEN", 1)]),
        await shop.order_once_priced([("PEN", 1)], token="tok_declined"),
        await shop.order_once_priced([("PEN", 5)]),
    ]
    orders = [await shop.terminal(order_id) for order_id in placed]
    kept = []
    for order_id in placed:
        response = await shop.payments.http.get(f"/payments/{order_id}", headers=shop.admin)
        if response.status_code == 200 and response.json()["status"] == "PROCESSED":
            kept.append(response.json()["amount"])
    confirmed = [o["total"] for o in orders if o["status"] == "CONFIRMED"]
    assert kept == confirmed == ["2.50"]
    for order_id in placed:
        flow = shop.flow(order_id)
        assert flow.count("PaymentProcessed") + flow.count("PaymentFailed") <= 1


@pytest.mark.parametrize("shop", [{"INVENTORY_HOLD_TTL_S": "1"}], indirect=True)
async def test_a_hold_that_expires_first_cancels_the_order_and_frees_the_stock(
    shop: Shop,
) -> None:
    """A hold shorter than the payment: inventory releases it, the order times out, and the
    payment that comes later is refunded; no unit leaks."""
    await shop.add_product("VASE", stock=1)
    order_id = await shop.order_once_priced([("VASE", 1)], token="tok_slow")
    order = await shop.terminal(order_id)
    assert (order["status"], order["cancellation_reason"]) == ("CANCELLED", "TIMED_OUT")
    flow = await _settled(shop, order_id, "PaymentRefunded")
    assert _in_order(flow, ["StockHeld", "StockReleased", "OrderCancelled", "PaymentRefunded"])
    assert "StockReleaseRequested" not in flow[: flow.index("StockReleased")]
    assert (await shop.product("VASE"))["available"] == 1
