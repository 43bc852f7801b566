"""The orders service: takes orders and orchestrates the order saga (see README.md)."""

from __future__ import annotations

from evp.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    PaymentRequested,
    RefundRequested,
    StockReleaseRequested,
    StockReservationRequested,
)
from evp.service import Service
from shop.orders import handlers, projections, routes

__all__ = ["service"]

service = Service(
    "orders",
    publishes=(
        OrderPlaced,
        PaymentRequested,
        StockReservationRequested,
        StockReleaseRequested,
        RefundRequested,
        OrderConfirmed,
        OrderCancelled,
    ),
    # The replies the saga consumed, kept in each order's stream so that its state and
    # timeline are rebuilt from the stream alone; never published again.
    records=handlers.REPLIES,
    description="Takes orders and runs the order saga: hold, pay, reserve, or compensate.",
)

service.migrate("orders", projections.MIGRATIONS)
service.on_startup(handlers.start)
service.on_startup(handlers.check_saga_participants)
service.handles(*handlers.REPLIES)(handlers.on_reply)
service.projection(projections.OrdersByUser())
service.projection(projections.OrderSagas())
service.projection(projections.Catalogue(), source="kafka")
service.include(routes.router)
service.background(handlers.poll_deadlines)
