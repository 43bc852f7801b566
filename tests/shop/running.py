"""The six shop services running together in-process, for the tests that need all of them.

:func:`shop` starts users (on a real socket, for its JWKS), inventory, payments, orders,
notifications and analytics on their own databases and the test's topics, with an admin
and a registered, logged-in customer. Import it into a ``conftest.py`` to use it (the
end-to-end and the security tests do).
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

__all__ = ["ADMIN", "CUSTOMER_PASSWORD", "TERMINAL", "Shop", "shop", "sign_up", "token_for"]

ADMIN = {"email": "admin@shop.test", "password": "correct horse battery staple"}
CUSTOMER_PASSWORD = "a long password"
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

    @property
    def services(self) -> dict[str, RunningService]:
        """Every running service by its name."""
        return {
            "users": self.users,
            "inventory": self.inventory,
            "payments": self.payments,
            "orders": self.orders,
            "notifications": self.notifications,
            "analytics": self.analytics,
        }

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
        """POST /orders as the customer (or as whoever ``headers`` authorize)."""
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

    async def terminal(
        self, order_id: str, timeout: float = 60, *, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """The order once it reached CONFIRMED or CANCELLED (read as the customer, or as
        whoever ``headers`` authorize)."""
        async with asyncio.timeout(timeout):
            while True:
                response = await self.orders.http.get(
                    f"/orders/{order_id}", headers=headers or self.customer
                )
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
            admin = await token_for(user_service, ADMIN["email"], ADMIN["password"])
            email, customer = await sign_up(user_service, "Ada")
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


async def sign_up(
    users_service: RunningService, name: str, password: str = CUSTOMER_PASSWORD
) -> tuple[str, dict[str, str]]:
    """Register a customer with a fresh email and log them in: the email and the
    Authorization header carrying their token."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    created = await users_service.http.post(
        "/users", json={"email": email, "password": password, "name": name}
    )
    assert created.status_code == 201, created.text
    return email, await token_for(users_service, email, password)


async def token_for(service: RunningService, email: str, password: str) -> dict[str, str]:
    """The Authorization header carrying a token from POST /auth/token."""
    response = await service.http.post("/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
