"""Replies of inventory and payments to an order, built as those services build them."""

from __future__ import annotations

import uuid
from decimal import Decimal

from evp.avro import logical
from evp.events import (
    Currency,
    OrderLine,
    OrderPlaced,
    PaymentFailed,
    PaymentFailureReason,
    PaymentMethod,
    PaymentProcessed,
    ReleaseReason,
    ReservationFailureReason,
    StockHeld,
    StockLine,
    StockReleased,
    StockReservationFailed,
    StockReserved,
    StockShortage,
)

__all__ = [
    "declined",
    "held",
    "out_of_stock",
    "paid",
    "placed",
    "released",
    "reservation_failed",
    "reserved",
]

LINES = [StockLine(sku="BOOK-1", quantity=2)]


def placed(order_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None) -> OrderPlaced:
    """An order of two books at 10.00 EUR."""
    return OrderPlaced.new(
        order_id=order_id or uuid.uuid4(),
        user_id=user_id or uuid.uuid4(),
        lines=[OrderLine(sku="BOOK-1", quantity=2, unit_price=Decimal("10.00"))],
        total=Decimal("20.00"),
        currency=Currency.EUR,
        source="orders",
    )


def held(order_id: uuid.UUID, hold_id: uuid.UUID | None = None) -> StockHeld:
    """Inventory held the order's stock."""
    return StockHeld.new(
        hold_id=hold_id or uuid.uuid4(),
        order_id=order_id,
        lines=LINES,
        expires_at=logical.utc_now(),
        source="inventory",
    )


def out_of_stock(order_id: uuid.UUID) -> StockReservationFailed:
    """Inventory could not hold the order's stock."""
    return reservation_failed(order_id, ReservationFailureReason.INSUFFICIENT_STOCK)


def reservation_failed(
    order_id: uuid.UUID, reason: ReservationFailureReason = ReservationFailureReason.UNKNOWN
) -> StockReservationFailed:
    """Inventory could not hold, or reserve, the order's stock."""
    return StockReservationFailed.new(
        order_id=order_id,
        reason=reason,
        shortages=[StockShortage(sku="BOOK-1", requested=2, available=0)],
        source="inventory",
    )


def paid(order_id: uuid.UUID, payment_id: uuid.UUID | None = None) -> PaymentProcessed:
    """Payments charged the order's total."""
    return PaymentProcessed.new(
        payment_id=payment_id or uuid.uuid4(),
        order_id=order_id,
        amount=Decimal("20.00"),
        currency=Currency.EUR,
        method=PaymentMethod.CARD,
        provider_reference="psp-1",
        source="payments",
    )


def declined(order_id: uuid.UUID) -> PaymentFailed:
    """Payments could not charge the order."""
    return PaymentFailed.new(
        payment_id=uuid.uuid4(),
        order_id=order_id,
        amount=Decimal("20.00"),
        currency=Currency.EUR,
        reason=PaymentFailureReason.CARD_DECLINED,
        detail="card declined",
        source="payments",
    )


def reserved(order_id: uuid.UUID, hold_id: uuid.UUID) -> StockReserved:
    """Inventory turned the hold into a reservation."""
    return StockReserved.new(
        reservation_id=hold_id, order_id=order_id, lines=LINES, source="inventory"
    )


def released(
    order_id: uuid.UUID, hold_id: uuid.UUID, reason: ReleaseReason = ReleaseReason.ORDER_CANCELLED
) -> StockReleased:
    """Inventory released the hold (asked to, or by itself when it expired)."""
    return StockReleased.new(
        reservation_id=hold_id, order_id=order_id, lines=LINES, reason=reason, source="inventory"
    )
