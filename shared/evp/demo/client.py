"""The shop as a real client sees it: its six services' HTTP APIs, nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from evp.demo.invariants import OrderSeen, PaymentSeen
from evp.demo.mix import PlannedOrder
from evp.errors import EvpError

__all__ = ["ShopClient", "ShopError"]

_RETRY_S = 30.0
"""How long a GET is retried while its service is unreachable or restarting."""
_PRICE_WAIT_S = 30.0
"""How long an order for a new product is retried while orders has not seen its price."""


class ShopError(EvpError):
    """A service answered something the demo did not expect."""

    def __init__(self, what: str, response: httpx.Response) -> None:
        super().__init__(what, status=response.status_code)
        self.what = what
        self.status = response.status_code
        self.body = response.text[:300]

    def __str__(self) -> str:
        return f"{self.what}: HTTP {self.status} {self.body}"


class ShopClient:
    """Calls the services at ``urls`` (``{"users": URL, ...}``) over one connection pool."""

    def __init__(self, urls: Mapping[str, str], *, timeout: float = 15.0) -> None:
        self.urls = dict(urls)
        self.http = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=32))

    async def aclose(self) -> None:
        """Close the connections."""
        await self.http.aclose()

    def _url(self, service: str, path: str) -> str:
        return f"{self.urls[service]}{path}"

    async def _get(self, service: str, path: str, **kw: Any) -> httpx.Response:
        """GET, retried while the service is unreachable or answers 503 (restarting)."""
        async with asyncio.timeout(_RETRY_S):
            while True:
                try:
                    answer = await self.http.get(self._url(service, path), **kw)
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
                    continue
                if answer.status_code != 503:
                    return answer
                await asyncio.sleep(0.2)

    async def ready(self, service: str) -> None:
        """Return once ``service`` answers ``/health/ready`` with 200."""
        async with asyncio.timeout(_RETRY_S):
            while (await self._get(service, "/health/ready")).status_code != 200:
                await asyncio.sleep(0.2)

    async def register(self, email: str, password: str, name: str) -> None:
        """``POST /users``."""
        body = {"email": email, "password": password, "name": name}
        answer = await self.http.post(self._url("users", "/users"), json=body)
        if answer.status_code != 201:
            raise ShopError(f"register {email}", answer)

    async def login(self, email: str, password: str) -> dict[str, str]:
        """``POST /auth/token``; the ``Authorization`` header to send."""
        body = {"email": email, "password": password}
        answer = await self.http.post(self._url("users", "/auth/token"), json=body)
        if answer.status_code != 200:
            raise ShopError(f"log in {email}", answer)
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def products(self) -> dict[str, int]:
        """``GET /products``, every page: available units per SKU."""
        found: dict[str, int] = {}
        cursor: str | None = None
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            answer = await self._get("inventory", "/products", params=params)
            if answer.status_code != 200:
                raise ShopError("GET /products", answer)
            page = answer.json()
            found.update({item["sku"]: int(item["available"]) for item in page["items"]})
            cursor = page.get("next_cursor")
            if not cursor:
                return found

    async def add_product(self, sku: str, stock: int, admin: Mapping[str, str]) -> None:
        """``POST /products`` as the admin."""
        body = {"sku": sku, "name": "The last ones", "price": "9.99", "currency": "EUR"}
        answer = await self.http.post(
            self._url("inventory", "/products"), json={**body, "stock": stock}, headers=admin
        )
        if answer.status_code != 201:
            raise ShopError(f"add {sku}", answer)

    async def place(
        self, order: PlannedOrder, auth: Mapping[str, str], *, idempotency_key: str | None = None
    ) -> str:
        """``POST /orders``: the order id (202). A 422 while orders has not yet learnt a new
        product's price is retried. With ``idempotency_key`` the caller may also retry a
        request whose answer it did not get: orders answers the first order again."""
        body = {
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in order.lines],
            "payment": {"token": order.token},
        }
        headers = {**auth, **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
        async with asyncio.timeout(_PRICE_WAIT_S):
            while True:
                answer = await self.http.post(
                    self._url("orders", "/orders"), json=body, headers=headers
                )
                if answer.status_code == 202:
                    return str(answer.json()["order_id"])
                # 422: orders has not seen the product's price yet; 503: a service it needs
                # is not answering yet (just started, or restarting).
                if answer.status_code not in (422, 503):
                    raise ShopError(f"place a {order.kind} order", answer)
                await asyncio.sleep(0.2)

    async def cancel(self, order_id: str, auth: Mapping[str, str]) -> int:
        """``POST /orders/{id}/cancel``: its status (202 accepted, 409 too late)."""
        answer = await self.http.post(
            self._url("orders", f"/orders/{order_id}/cancel"), headers=auth
        )
        if answer.status_code not in (202, 409):
            raise ShopError(f"cancel {order_id}", answer)
        return answer.status_code

    async def order(self, order_id: str, auth: Mapping[str, str]) -> dict[str, Any]:
        """``GET /orders/{id}``."""
        answer = await self._get("orders", f"/orders/{order_id}", headers=auth)
        if answer.status_code != 200:
            raise ShopError(f"GET /orders/{order_id}", answer)
        body: dict[str, Any] = answer.json()
        return body

    async def payment(self, order_id: str, admin: Mapping[str, str]) -> PaymentSeen | None:
        """``GET /payments/{order_id}`` as the admin; ``None`` when there is none (404)."""
        answer = await self._get("payments", f"/payments/{order_id}", headers=admin)
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise ShopError(f"GET /payments/{order_id}", answer)
        body = answer.json()
        return PaymentSeen(str(body["status"]), Decimal(body["amount"]), bool(body["refunded"]))

    async def summary(self, admin: Mapping[str, str]) -> dict[str, Any]:
        """``GET /analytics/summary`` as the admin (the last 24 hours)."""
        answer = await self._get(
            "analytics", "/analytics/summary", params={"minutes": "1440"}, headers=admin
        )
        if answer.status_code != 200:
            raise ShopError("GET /analytics/summary", answer)
        body: dict[str, Any] = answer.json()
        return body


def seen(order_id: str, planned: PlannedOrder, customer: str, body: dict[str, Any]) -> OrderSeen:
    """An :class:`OrderSeen` from ``GET /orders/{id}``'s answer."""
    lines: dict[str, int] = {}
    for line in body.get("lines", []):
        lines[line["sku"]] = lines.get(line["sku"], 0) + int(line["quantity"])
    return OrderSeen(
        order_id=order_id,
        kind=str(planned.kind),
        customer=customer,
        lines=lines,
        status=body.get("status"),
        reason=body.get("cancellation_reason"),
        total=Decimal(str(body.get("total", "0"))),
        timeline=tuple(str(entry["event_type"]) for entry in body.get("timeline", [])),
    )
