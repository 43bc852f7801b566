"""An order, folded from its stream, and the order saga's transitions: pure functions.

Each transition takes the order and what happened (a reply, or the step's command when its
deadline passed) and returns the commands to emit, linked to their cause; the saga
definition (:mod:`shop.orders.saga`) says which runs when. Nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal

from evp.avro import Event
from evp.events import (
    CancellationReason,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    PaymentFailed,
    PaymentProcessed,
    PaymentRequested,
    RefundRequested,
    ReleaseRequestReason,
    StockHeld,
    StockReleased,
    StockReleaseRequested,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
)

__all__ = [
    "SOURCE",
    "Order",
    "Status",
    "cancel_at_once",
    "cancel_expired_hold",
    "cancel_out_of_stock",
    "cancel_released",
    "confirm",
    "refund_and_cancel",
    "refund_and_release",
    "refund_unwanted_payment",
    "release_after_failed_payment",
    "release_late_hold",
    "release_on_cancel",
    "release_timed_out",
    "request_payment",
    "reserve_stock",
]

SOURCE = "orders"

# What the saga asked inventory to release for becomes the order's cancellation reason.
_CANCELLED_FOR = {
    ReleaseRequestReason.PAYMENT_FAILED: CancellationReason.PAYMENT_FAILED,
    ReleaseRequestReason.TIMED_OUT: CancellationReason.TIMED_OUT,
    ReleaseRequestReason.CUSTOMER_REQUEST: CancellationReason.CUSTOMER_REQUEST,
    ReleaseRequestReason.UNKNOWN: CancellationReason.UNKNOWN,
}
_RELEASE_FOR = {cancelled: release for release, cancelled in _CANCELLED_FOR.items()}


class Status(enum.Enum):
    """Where an order stands for its customer."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


@dataclasses.dataclass(frozen=True)
class Order:
    """An order and what its saga learnt so far (holds, payments, refunds, releases)."""

    placed: OrderPlaced
    payment_token: str = ""
    """Not in any event (OrderPlaced has no such field): kept aside, given by the caller."""
    hold_id: uuid.UUID | None = None
    payment: PaymentProcessed | None = None
    """The payment the saga went on with (named by StockReservationRequested)."""
    payments: Mapping[uuid.UUID, PaymentProcessed] = dataclasses.field(default_factory=dict)
    refunded: frozenset[uuid.UUID] = frozenset()
    released: frozenset[uuid.UUID] = frozenset()
    """Holds the saga asked inventory to release."""
    release_reason: ReleaseRequestReason | None = None
    failure_detail: str | None = None
    outcome: OrderConfirmed | OrderCancelled | None = None

    @classmethod
    def start(cls, placed: OrderPlaced) -> Order:
        """A freshly placed order."""
        return cls(placed)

    def with_token(self, payment_token: str) -> Order:
        """The order with the payment token its customer gave (kept beside the stream)."""
        return dataclasses.replace(self, payment_token=payment_token)

    @property
    def order_id(self) -> uuid.UUID:
        """The order's id."""
        return self.placed.order_id

    @property
    def status(self) -> Status:
        """PENDING until the saga confirmed or cancelled the order."""
        match self.outcome:
            case OrderConfirmed():
                return Status.CONFIRMED
            case OrderCancelled():
                return Status.CANCELLED
        return Status.PENDING

    @property
    def cancellation_reason(self) -> CancellationReason | None:
        """Why the order was cancelled, once it was."""
        return self.outcome.reason if isinstance(self.outcome, OrderCancelled) else None

    @property
    def total(self) -> Decimal:
        """The order's total, as placed."""
        return self.placed.total

    def evolve(self, event: Event) -> Order:
        """The order after ``event``."""
        match event:
            case StockHeld() if self.hold_id is None:
                return dataclasses.replace(self, hold_id=event.hold_id)
            case PaymentProcessed():
                payments = {**self.payments, event.payment_id: event}
                return dataclasses.replace(self, payments=payments)
            case PaymentFailed():
                return dataclasses.replace(self, failure_detail=event.detail or event.reason.name)
            case StockReservationRequested():
                return dataclasses.replace(self, payment=self.payments.get(event.payment_id))
            case StockReleaseRequested():
                released = self.released | {event.hold_id}
                reason = self.release_reason if self.outcome else event.reason
                return dataclasses.replace(self, released=released, release_reason=reason)
            case RefundRequested():
                return dataclasses.replace(self, refunded=self.refunded | {event.payment_id})
            case OrderConfirmed() | OrderCancelled() if self.outcome is None:
                return dataclasses.replace(self, outcome=event)
        return self


# -- the transitions: (order, what happened) -> the commands to emit --------------------


def request_payment(order: Order, held: StockHeld) -> Sequence[Event]:
    """The stock is held: ask payments to charge against the hold."""
    placed = order.placed
    return [
        PaymentRequested.new(
            order_id=order.order_id,
            user_id=placed.user_id,
            reservation_id=held.hold_id,
            amount=placed.total,
            currency=placed.currency,
            payment_token=order.payment_token,
            source=SOURCE,
            caused_by=held,
        )
    ]


def cancel_out_of_stock(order: Order, failed: StockReservationFailed) -> Sequence[Event]:
    """Nothing could be held: cancel, with nothing charged."""
    short = ", ".join(f"{s.sku} ({s.available} of {s.requested})" for s in failed.shortages)
    detail = f"{failed.reason.name}: {short}" if short else failed.reason.name
    return [_cancelled(order, CancellationReason.OUT_OF_STOCK, detail, caused_by=failed)]


def reserve_stock(order: Order, paid: PaymentProcessed) -> Sequence[Event]:
    """Paid: turn the hold into a reservation."""
    assert order.hold_id is not None  # the payment step starts only once stock is held
    return [
        StockReservationRequested.new(
            order_id=order.order_id,
            hold_id=order.hold_id,
            payment_id=paid.payment_id,
            source=SOURCE,
            caused_by=paid,
        )
    ]


def release_after_failed_payment(order: Order, failed: PaymentFailed) -> Sequence[Event]:
    """The payment was declined: give the held stock back."""
    return _release(order, ReleaseRequestReason.PAYMENT_FAILED, caused_by=failed)


def release_timed_out(order: Order, request: Event) -> Sequence[Event]:
    """Payments did not answer in time: give the held stock back (caused by the request)."""
    return _release(order, ReleaseRequestReason.TIMED_OUT, caused_by=request)


def cancel_expired_hold(order: Order, released: StockReleased) -> Sequence[Event]:
    """Inventory let the hold expire while payment was pending: the order timed out."""
    detail = f"the stock hold was released by inventory ({released.reason.name})"
    return [_cancelled(order, CancellationReason.TIMED_OUT, detail, caused_by=released)]


def confirm(order: Order, reserved: StockReserved) -> Sequence[Event]:
    """Paid and reserved: the order is confirmed."""
    assert order.payment is not None  # the reservation step starts only once paid
    return [
        OrderConfirmed.new(
            order_id=order.order_id,
            reservation_id=reserved.reservation_id,
            payment_id=order.payment.payment_id,
            source=SOURCE,
            caused_by=reserved,
        )
    ]


def refund_and_cancel(order: Order, failed: StockReservationFailed) -> Sequence[Event]:
    """Paid, but the hold was gone: refund the payment and cancel."""
    refunds = _refund(order, order.payment, "stock could not be reserved", caused_by=failed)
    detail = f"the hold could not be reserved ({failed.reason.name})"
    return [*refunds, _cancelled(order, CancellationReason.OUT_OF_STOCK, detail, caused_by=failed)]


def cancel_released(order: Order, released: StockReleased) -> Sequence[Event]:
    """The stock is back: cancel for the reason the saga asked the release for."""
    reason = _CANCELLED_FOR[order.release_reason or ReleaseRequestReason.UNKNOWN]
    detail = order.failure_detail if reason is CancellationReason.PAYMENT_FAILED else None
    return [_cancelled(order, reason, detail, caused_by=released)]


def refund_unwanted_payment(order: Order, paid: PaymentProcessed) -> Sequence[Event]:
    """A payment the order does not go on with (late, or a second one): refund it, once."""
    kept = order.payment is not None and order.payment.payment_id == paid.payment_id
    if paid.payment_id in order.refunded or (kept and order.status is not Status.CANCELLED):
        return []
    return _refund(order, paid, "the order did not go on with this payment", caused_by=paid)


def release_late_hold(order: Order, held: StockHeld) -> Sequence[Event]:
    """Stock held for an order that already ended: give it back, once."""
    if order.status is Status.CONFIRMED or held.hold_id in order.released:
        return []
    reason = _RELEASE_FOR.get(order.cancellation_reason or CancellationReason.UNKNOWN)
    return [
        StockReleaseRequested.new(
            order_id=order.order_id,
            hold_id=held.hold_id,
            reason=reason or ReleaseRequestReason.UNKNOWN,
            source=SOURCE,
            caused_by=held,
        )
    ]


# -- what a customer's cancel does in each step ------------------------------------------


def cancel_at_once(order: Order) -> Sequence[Event]:
    """No hold yet, so nothing to release now: cancel at once; a hold that still comes is
    released then (:func:`release_late_hold`)."""
    return [_cancelled(order, CancellationReason.CUSTOMER_REQUEST, None, caused_by=None)]


def release_on_cancel(order: Order) -> Sequence[Event]:
    """Payment pending: release the hold; a payment that still comes is refunded."""
    return _release(order, ReleaseRequestReason.CUSTOMER_REQUEST, caused_by=None)


def refund_and_release(order: Order) -> Sequence[Event]:
    """Paid, reservation asked: refund now and release; inventory handles the reservation
    request first (same partition), so the release frees the reserved or held stock."""
    refunds = _refund(order, order.payment, "cancelled by the customer", caused_by=None)
    return [*refunds, *_release(order, ReleaseRequestReason.CUSTOMER_REQUEST, caused_by=None)]


# -- building events ------------------------------------------------------------------------


def _flow(order: Order) -> uuid.UUID:
    # An event a user's request caused has no causation id (the envelope's rule) but stays
    # in the order's flow; one with a cause takes the cause's correlation id anyway.
    return order.placed.envelope.correlation_id


def _cancelled(
    order: Order, reason: CancellationReason, detail: str | None, *, caused_by: Event | None
) -> OrderCancelled:
    return OrderCancelled.new(
        order_id=order.order_id,
        reason=reason,
        detail=detail,
        source=SOURCE,
        correlation_id=_flow(order),
        caused_by=caused_by,
    )


def _release(order: Order, reason: ReleaseRequestReason, *, caused_by: Event | None) -> list[Event]:
    assert order.hold_id is not None  # these run only once stock is held
    return [
        StockReleaseRequested.new(
            order_id=order.order_id,
            hold_id=order.hold_id,
            reason=reason,
            source=SOURCE,
            correlation_id=_flow(order),
            caused_by=caused_by,
        )
    ]


def _refund(
    order: Order, payment: PaymentProcessed | None, reason: str, *, caused_by: Event | None
) -> list[Event]:
    if payment is None or payment.payment_id in order.refunded:
        return []
    return [
        RefundRequested.new(
            order_id=order.order_id,
            payment_id=payment.payment_id,
            amount=payment.amount,
            currency=payment.currency,
            reason=reason,
            source=SOURCE,
            correlation_id=_flow(order),
            caused_by=caused_by,
        )
    ]
