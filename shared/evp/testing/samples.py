"""Sample events for tests, the demo and the benchmarks: one place that builds them.

Each function returns a valid event of the generated library with plausible values; keyword
arguments override any of them. Flows link like real ones: pass the event a sample reacts
to as ``caused_by`` (its correlation id is carried over and it becomes the cause), or
start a flow under a given ``correlation_id``::

    order = order_placed()
    request = payment_requested(order, caused_by=order)
    payment = payment_processed(request, caused_by=request)

:func:`reference_order` is the one fully fixed event (ids, timestamp, causation): the
benchmarks time it, so its shape must not change or their figures stop being comparable.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from evp.avro.record import Event
from evp.events import (
    CancellationReason,
    Currency,
    Envelope,
    OrderCancelled,
    OrderLine,
    OrderPlaced,
    PaymentMethod,
    PaymentProcessed,
    PaymentRequested,
    ShippingAddress,
    UserRegistered,
)

__all__ = [
    "ADDRESS",
    "LINES",
    "order_cancelled",
    "order_line",
    "order_placed",
    "payment_processed",
    "payment_requested",
    "reference_order",
    "user_registered",
]


def order_line(sku: str = "SKU-RED-MUG", quantity: int = 2, unit_price: str = "19.99") -> OrderLine:
    """One line of an order; ``unit_price`` as decimal text (``"19.99"``)."""
    return OrderLine(sku=sku, quantity=quantity, unit_price=Decimal(unit_price))


ADDRESS: Final = ShippingAddress(
    recipient="Ada Lovelace",
    street="12 St James's Square",
    city="London",
    postal_code="SW1Y 4JH",
    country_code="GB",
)
"""The shipping address of sample orders."""

LINES: Final = (order_line("SKU-RED-MUG", 2, "19.99"), order_line("SKU-TEAPOT", 1, "34.50"))
"""The lines of a sample order: 74.48 in all."""


def order_placed(
    *,
    order_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    lines: Sequence[OrderLine] = LINES,
    total: Decimal | None = None,
    currency: Currency = Currency.EUR,
    shipping_address: ShippingAddress | None = ADDRESS,
    source: str = "orders",
    correlation_id: uuid.UUID | None = None,
    caused_by: Event | None = None,
) -> OrderPlaced:
    """A new order (fresh ids unless given); ``total`` defaults to the sum of ``lines``."""
    return OrderPlaced.new(
        order_id=order_id or uuid.uuid4(),
        user_id=user_id or uuid.uuid4(),
        lines=list(lines),
        total=_sum(lines) if total is None else total,
        currency=currency,
        shipping_address=shipping_address,
        source=source,
        correlation_id=correlation_id,
        caused_by=caused_by,
    )


def order_cancelled(
    *,
    order_id: uuid.UUID | None = None,
    reason: CancellationReason = CancellationReason.OUT_OF_STOCK,
    source: str = "orders",
    correlation_id: uuid.UUID | None = None,
    caused_by: Event | None = None,
) -> OrderCancelled:
    """A cancellation, for lack of stock unless told otherwise."""
    return OrderCancelled.new(
        order_id=order_id or uuid.uuid4(),
        reason=reason,
        source=source,
        correlation_id=correlation_id,
        caused_by=caused_by,
    )


def payment_requested(
    order: OrderPlaced,
    *,
    reservation_id: uuid.UUID | None = None,
    source: str = "orders",
    correlation_id: uuid.UUID | None = None,
    caused_by: Event | None = None,
) -> PaymentRequested:
    """The payment request of ``order``: its id, user, total and currency."""
    return PaymentRequested.new(
        order_id=order.order_id,
        user_id=order.user_id,
        reservation_id=reservation_id or uuid.uuid4(),
        amount=order.total,
        currency=order.currency,
        source=source,
        correlation_id=correlation_id,
        caused_by=caused_by,
    )


def payment_processed(
    request: PaymentRequested,
    *,
    payment_id: uuid.UUID | None = None,
    method: PaymentMethod = PaymentMethod.CARD,
    provider_reference: str = "psp-42",
    source: str = "payments",
    correlation_id: uuid.UUID | None = None,
    caused_by: Event | None = None,
) -> PaymentProcessed:
    """The captured payment of ``request``."""
    return PaymentProcessed.new(
        payment_id=payment_id or uuid.uuid4(),
        order_id=request.order_id,
        amount=request.amount,
        currency=request.currency,
        method=method,
        provider_reference=provider_reference,
        source=source,
        correlation_id=correlation_id,
        caused_by=caused_by,
    )


def user_registered(
    *,
    user_id: uuid.UUID | None = None,
    email: str = "ada@example.com",
    display_name: str = "Ada",
    source: str = "users",
    correlation_id: uuid.UUID | None = None,
    caused_by: Event | None = None,
) -> UserRegistered:
    """A new account."""
    return UserRegistered.new(
        user_id=user_id or uuid.uuid4(),
        email=email,
        display_name=display_name,
        source=source,
        correlation_id=correlation_id,
        caused_by=caused_by,
    )


def reference_order() -> OrderPlaced:
    """The benchmark event, equal on every call: three lines, an address, a causation id."""
    order = order_placed(
        order_id=uuid.UUID("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
        user_id=uuid.UUID("5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"),
        lines=(
            order_line("SKU-RED-MUG", 2, "19.99"),
            order_line("SKU-BLUE-TEAPOT", 1, "34.50"),
            order_line("SKU-GREEN-TEA-250G", 3, "7.25"),
        ),
    )
    envelope = Envelope(
        event_id=uuid.UUID("6f1c1d1e-8a4b-4c5d-9e6f-7a8b9c0d1e2f"),
        event_type=OrderPlaced.FULL_NAME,
        timestamp=datetime.datetime(2024, 5, 17, 12, 34, 56, 789000, tzinfo=datetime.UTC),
        version=OrderPlaced.VERSION,
        source="orders",
        correlation_id=uuid.UUID("0b8e5f7a-3c2d-4e1f-8a9b-0c1d2e3f4a5b"),
        causation_id=uuid.UUID("9d8c7b6a-5f4e-4d3c-b2a1-0f9e8d7c6b5a"),
    )
    return dataclasses.replace(order, envelope=envelope)


def _sum(lines: Sequence[OrderLine]) -> Decimal:
    return sum((line.unit_price * line.quantity for line in lines), Decimal("0.00"))
