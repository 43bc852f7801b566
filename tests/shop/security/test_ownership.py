"""A customer reaches only their own orders, payments, notifications and history.

Customer A is the shop fixture's customer; B signs up beside them. Everything of A's
that B asks for by id is a 404, answered exactly as an id that names nothing is (so B
cannot even learn that it exists), and B's lists hold nothing of A's. Each test first
shows that A does reach the thing, so B's 404 is about B.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.shop.running import Shop, sign_up


async def _a_order(shop: Shop, *, token: str = "tok_ok") -> str:
    """An order of A's for a product added for it."""
    sku = f"SKU-{uuid.uuid4().hex[:6]}"
    await shop.add_product(sku, stock=5)
    return await shop.order_once_priced([(sku, 1)], token=token)


def _as_missing(answer: httpx.Response, order_id: str, other_id: str) -> dict[str, Any]:
    """``answer``'s problem document with ``order_id`` written as ``other_id``."""
    body: dict[str, Any] = answer.json()
    return {k: v.replace(order_id, other_id) if isinstance(v, str) else v for k, v in body.items()}


async def test_another_customers_order_is_404_to_read_and_to_cancel(shop: Shop) -> None:
    """B's GET (now and as of a moment) and cancel of A's pending order are 404s like an
    unknown id's, and A's order is not cancelled by them."""
    _, b = await sign_up(shop.users, "Bea")
    order_id = await _a_order(shop, token="tok_slow")  # stays pending while B tries
    unknown = str(uuid.uuid4())
    moment = "2999-01-01T00:00:00Z"
    seen_by_a = await shop.orders.http.get(f"/orders/{order_id}", headers=shop.customer)
    read = await shop.orders.http.get(f"/orders/{order_id}", headers=b)
    read_then = await shop.orders.http.get(f"/orders/{order_id}?as_of={moment}", headers=b)
    cancel = await shop.orders.http.post(f"/orders/{order_id}/cancel", headers=b)
    missing = {
        "read": await shop.orders.http.get(f"/orders/{unknown}", headers=b),
        "read_then": await shop.orders.http.get(f"/orders/{unknown}?as_of={moment}", headers=b),
        "cancel": await shop.orders.http.post(f"/orders/{unknown}/cancel", headers=b),
    }
    after = await shop.orders.http.get(f"/orders/{order_id}", headers=shop.customer)
    assert seen_by_a.status_code == 200
    assert (read.status_code, read_then.status_code, cancel.status_code) == (404, 404, 404)
    assert _as_missing(read, order_id, unknown) == missing["read"].json()
    assert _as_missing(read_then, order_id, unknown) == missing["read_then"].json()
    assert _as_missing(cancel, order_id, unknown) == missing["cancel"].json()
    assert after.json()["cancellation_reason"] != "CUSTOMER_REQUEST"


async def test_another_customers_payment_is_404(shop: Shop) -> None:
    """A's order's payment: 200 to A, a 404 like an unknown order's to B."""
    _, b = await sign_up(shop.users, "Bea")
    order_id = await _a_order(shop)
    await shop.terminal(order_id)
    unknown = str(uuid.uuid4())
    own = await shop.payments.http.get(f"/payments/{order_id}", headers=shop.customer)
    other = await shop.payments.http.get(f"/payments/{order_id}", headers=b)
    missing = await shop.payments.http.get(f"/payments/{unknown}", headers=b)
    assert own.status_code == 200
    assert other.status_code == 404
    assert _as_missing(other, order_id, unknown) == missing.json()


async def test_another_customers_lists_hold_nothing_of_the_customers(shop: Shop) -> None:
    """Once A has an order, notifications and history of their own, B's order list,
    notifications and history hold none of them (and do hold B's own)."""
    b_email, b = await sign_up(shop.users, "Bea")
    order_id = await _a_order(shop)
    await shop.terminal(order_id)
    a_id = (await shop.users.http.get("/users/me", headers=shop.customer)).json()["user_id"]

    async def notifications(headers: dict[str, str], at_least: int) -> list[dict[str, Any]]:
        async with asyncio.timeout(30):
            while True:
                response = await shop.notifications.http.get("/notifications", headers=headers)
                items: list[dict[str, Any]] = response.json()["items"]
                if len(items) >= at_least:
                    return items
                await asyncio.sleep(0.2)

    a_mail = await notifications(shop.customer, at_least=2)  # the welcome and the order's
    b_mail = await notifications(b, at_least=1)  # B's welcome
    a_orders = (await shop.orders.http.get("/orders", headers=shop.customer)).json()["items"]
    b_orders = (await shop.orders.http.get("/orders", headers=b)).json()["items"]
    b_history = await shop.users.http.get("/users/me/history", headers=b)
    a_history = await shop.users.http.get("/users/me/history", headers=shop.customer)
    assert [o["order_id"] for o in a_orders] == [order_id]
    assert b_orders == []
    assert {m["notification_id"] for m in a_mail}.isdisjoint(m["notification_id"] for m in b_mail)
    assert {m["recipient"] for m in b_mail} == {b_email}
    assert shop.customer_email in a_history.text
    assert a_id not in b_history.text
    assert shop.customer_email not in b_history.text
    assert b_email in b_history.text
