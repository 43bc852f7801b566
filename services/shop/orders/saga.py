"""The order saga, declared: steps, the command that starts each, the replies it waits for,
its deadline and its compensation. The engine (:mod:`shop.orders.engine`) runs it; the
transitions are pure functions of :mod:`shop.orders.domain`.

::

    OrderPlaced ──hold──> StockHeld ──> PaymentRequested ──payment──> PaymentProcessed
        │                                   │  PaymentFailed / deadline ──> release
        └ StockReservationFailed: cancel    └ StockReleased (hold expired): cancel TIMED_OUT
    StockReservationRequested ──reservation──> StockReserved: OrderConfirmed
        └ StockReservationFailed: refund + cancel OUT_OF_STOCK
    StockReleaseRequested ──release──> StockReleased: OrderCancelled(reason of the release)
"""

from __future__ import annotations

from evp.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    PaymentFailed,
    PaymentProcessed,
    PaymentRequested,
    RefundRequested,
    StockHeld,
    StockReleased,
    StockReleaseRequested,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
)
from shop.orders import domain as d
from shop.orders.domain import Order
from shop.orders.engine import Deadline, Reply, Saga, Step

__all__ = ["ORDER_SAGA", "PAYMENT_TIMEOUT"]

PAYMENT_TIMEOUT = "payment_timeout"
"""The name of the payment step's timeout (``ORDERS_PAYMENT_TIMEOUT_S``)."""

ORDER_SAGA: Saga[Order] = Saga(
    "order",
    starts_with=OrderPlaced,
    start=Order.start,
    steps=(
        Step(
            "hold",
            started_by=OrderPlaced,
            replies=(
                Reply(StockHeld, d.request_payment),
                Reply(StockReservationFailed, d.cancel_out_of_stock, "failure"),
            ),
            compensation=StockReleaseRequested,
            on_cancel=d.cancel_at_once,
        ),
        Step(
            "payment",
            started_by=PaymentRequested,
            replies=(
                Reply(PaymentProcessed, d.reserve_stock),
                Reply(PaymentFailed, d.release_after_failed_payment, "failure"),
                Reply(StockReleased, d.cancel_expired_hold, "failure"),
            ),
            deadline=Deadline(PAYMENT_TIMEOUT, d.release_timed_out),
            compensation=RefundRequested,
            on_cancel=d.release_on_cancel,
        ),
        Step(
            "reservation",
            started_by=StockReservationRequested,
            replies=(
                Reply(StockReserved, d.confirm),
                Reply(StockReservationFailed, d.refund_and_cancel, "failure"),
                Reply(PaymentProcessed, d.refund_unwanted_payment, "late"),
            ),
            on_cancel=d.refund_and_release,
        ),
        Step(
            "release",
            started_by=StockReleaseRequested,
            replies=(
                Reply(StockReleased, d.cancel_released),
                Reply(PaymentProcessed, d.refund_unwanted_payment, "late"),
            ),
        ),
    ),
    ends_with=(OrderConfirmed, OrderCancelled),
    after_end=(
        Reply(PaymentProcessed, d.refund_unwanted_payment, "late"),
        Reply(StockHeld, d.release_late_hold, "late"),
    ),
)
