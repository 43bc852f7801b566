"""The orders service: takes orders and orchestrates the order saga (see README.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evp.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    PaymentRequested,
    RefundRequested,
    StockReleaseRequested,
    StockReservationRequested,
)
from evp.service import SagaDoc, SagaReplyDoc, SagaStepDoc, Service
from shop.orders import handlers, projections, routes
from shop.orders.engine import Reply, Saga
from shop.orders.saga import ORDER_SAGA

__all__ = ["service"]


def _saga_doc(saga: Saga[Any]) -> SagaDoc:
    """What the AsyncAPI document says of ``saga``: its events, read off its declaration."""

    def replies(declared: Sequence[Reply[Any, Any]]) -> tuple[SagaReplyDoc, ...]:
        return tuple(SagaReplyDoc(reply.event, reply.kind) for reply in declared)

    return SagaDoc(
        saga.name,
        starts_with=saga.starts_with,
        steps=tuple(
            SagaStepDoc(
                step.name,
                started_by=step.started_by,
                waits_for=replies(step.replies),
                compensation=step.compensation,
                deadline=None if step.deadline is None else step.deadline.timeout,
            )
            for step in saga.steps
        ),
        ends_with=tuple(saga.ends_with),
        after_end=replies(saga.after_end),
    )


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
service.documents_saga(_saga_doc(ORDER_SAGA))
