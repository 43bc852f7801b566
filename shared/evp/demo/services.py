"""Two small services on the kit, the saga's first step: orders and payments.

``orders`` takes an order over HTTP and stores OrderPlaced; its outbox relay publishes it.
``payments`` handles OrderPlaced once per event and stores PaymentProcessed, which
``orders`` handles by storing OrderConfirmed. The demo runs them, and the end-to-end tests
run exactly these (in-process, and as ``evp serve evp.demo.services:payments``).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from evp.events import (
    Currency,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    PaymentMethod,
    PaymentProcessed,
)
from evp.eventstore.errors import AggregateNotFound
from evp.service import HandlerContext, Service, ServiceRuntime, current_runtime

__all__ = ["orders", "payments"]

Runtime = Annotated[ServiceRuntime, Depends(current_runtime)]

orders = Service(
    "orders",
    publishes=(OrderPlaced, OrderConfirmed),
    description="Takes orders and confirms them once paid.",
)
payments = Service(
    "payments",
    publishes=(PaymentProcessed,),
    description="Takes the payment of each order placed.",
)


class LineIn(BaseModel):
    """One line of an order."""

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1000)
    unit_price: Decimal = Field(gt=0, max_digits=10, decimal_places=2)


class OrderIn(BaseModel):
    """An order to place."""

    user_id: uuid.UUID
    currency: Currency
    lines: list[LineIn] = Field(min_length=1, max_length=100)


class OrderOut(BaseModel):
    """An order and how far it got."""

    order_id: uuid.UUID
    status: str
    total: str
    events: list[str]


_routes = APIRouter(tags=["orders"])


@_routes.post("/orders", status_code=201, summary="Place an order")
async def place_order(body: OrderIn, runtime: Runtime) -> OrderOut:
    """Store OrderPlaced; the outbox relay publishes it to Kafka."""
    lines = [OrderLine(sku=x.sku, quantity=x.quantity, unit_price=x.unit_price) for x in body.lines]
    total = sum((x.unit_price * x.quantity for x in body.lines), Decimal("0.00"))
    order = OrderPlaced.new(
        order_id=uuid.uuid4(),
        user_id=body.user_id,
        lines=lines,
        total=total,
        currency=body.currency,
        source=orders.name,
    )
    await runtime.store.append(f"order-{order.order_id}", [order], expected_version=0)
    return OrderOut(
        order_id=order.order_id, status="placed", total=str(total), events=["OrderPlaced"]
    )


@_routes.get("/orders/{order_id}", summary="An order and its events")
async def get_order(order_id: uuid.UUID, runtime: Runtime) -> OrderOut:
    """The order's events, oldest first, and the status they add up to."""
    events = await runtime.store.load(f"order-{order_id}")
    if not events or not isinstance(events[0], OrderPlaced):
        raise AggregateNotFound("order", str(order_id))
    status = "confirmed" if any(isinstance(e, OrderConfirmed) for e in events) else "placed"
    return OrderOut(
        order_id=order_id,
        status=status,
        total=str(events[0].total),
        events=[type(e).__name__ for e in events],
    )


orders.include(_routes)


@orders.handles(PaymentProcessed)
async def confirm(event: PaymentProcessed, context: HandlerContext) -> None:
    """A paid order is confirmed (caused by its payment, in the order's flow)."""
    confirmed = OrderConfirmed.new(
        order_id=event.order_id,
        reservation_id=uuid.uuid4(),
        payment_id=event.payment_id,
        source=orders.name,
    )
    await context.store.append(f"order-{event.order_id}", [confirmed], expected_version=1)


@payments.handles(OrderPlaced)
async def take_payment(event: OrderPlaced, context: HandlerContext) -> None:
    """Each order placed is paid once, whatever the redeliveries."""
    payment = PaymentProcessed.new(
        payment_id=uuid.uuid4(),
        order_id=event.order_id,
        amount=event.total,
        currency=event.currency,
        method=PaymentMethod.CARD,
        provider_reference=f"psp-{event.order_id.hex[:8]}",
        source=payments.name,
    )
    await context.store.append(f"payment-{event.order_id}", [payment], expected_version=0)
