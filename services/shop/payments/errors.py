"""Errors of the payments service."""

from __future__ import annotations

import uuid

from evp.errors import EvpError

__all__ = ["PaymentsError", "RefundRefused"]


class PaymentsError(EvpError):
    """Root of the payments service's own errors."""


class RefundRefused(PaymentsError):
    """The provider would not refund an order's capture: a person has to look at it."""

    def __init__(self, order_id: uuid.UUID, reference: str, detail: str) -> None:
        super().__init__(
            f"the provider refused the refund: {detail}",
            order_id=str(order_id),
            reference=reference,
        )
        self.order_id = order_id
        self.reference = reference
        self.detail = detail
