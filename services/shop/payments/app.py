"""The payments service: charges each order once through the payment provider, refunds it
once when the order saga asks, and completes slow (pending) charges when they are due."""

from __future__ import annotations

from evp.events import (
    PaymentFailed,
    PaymentProcessed,
    PaymentRefunded,
    PaymentRequested,
    RefundRequested,
)
from evp.service import Service
from shop.payments import completion, handlers, parts, routes
from shop.payments.ledger import MIGRATIONS

__all__ = ["service"]

service = Service(
    "payments",
    publishes=(PaymentProcessed, PaymentFailed, PaymentRefunded),
    description="Charges each order once through the payment provider; refunds it once.",
)

service.handles(PaymentRequested, retries=3, timeout=10)(handlers.on_payment_requested)
service.handles(RefundRequested, retries=3, timeout=10)(handlers.on_refund_requested)
service.migrate("payments-ledger", MIGRATIONS)
service.include(routes.router)
service.on_startup(parts.set_up)
service.background(completion.complete_pending)
