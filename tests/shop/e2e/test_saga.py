"""The six services together, in-process, over HTTP and Kafka: every path of the order saga.

Each test starts users (on a real socket, for its JWKS), inventory, payments, orders,
notifications and analytics on their own databases and the test's topics, seeds a product
as the admin, and places orders as a customer over HTTP. Then it checks what the shop
promises: the order of each flow's events on the topics, stock that is never negative or
oversold, one charge and at most one refund per order, one email per terminal order.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.shop.running import Shop


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
