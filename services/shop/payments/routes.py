"""The payments API: an order's payment, for its owner or an admin."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from evp.events import Currency, PaymentFailureReason
from evp.service import ServiceRuntime, current_runtime
from evp.web import CurrentUser, NotFound
from shop.api import Money
from shop.payments import ledger
from shop.payments.domain import Payment, PaymentStatus

__all__ = ["PaymentOut", "router"]

Runtime = Annotated[ServiceRuntime, Depends(current_runtime)]

router = APIRouter(tags=["payments"])


class PaymentOut(BaseModel):
    """An order's payment and where it is."""

    order_id: uuid.UUID
    payment_id: uuid.UUID
    status: PaymentStatus
    amount: Money
    currency: Currency
    provider_reference: str | None
    """The provider's id for the charge, once it gave one."""
    failure_reason: PaymentFailureReason | None
    """Why it failed (``FAILED`` only)."""
    refunded: bool

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        """The API's view of ``payment``."""
        return cls(
            order_id=payment.order_id,
            payment_id=payment.payment_id,
            status=payment.status,
            amount=payment.amount,
            currency=payment.currency,
            provider_reference=payment.provider_reference,
            failure_reason=payment.failure_reason,
            refunded=payment.status is PaymentStatus.REFUNDED,
        )


@router.get(
    "/payments/{order_id}",
    summary="An order's payment",
    responses={401: {"description": "No valid token"}, 404: {"description": "No such payment"}},
)
async def get_payment(order_id: uuid.UUID, user: CurrentUser, runtime: Runtime) -> PaymentOut:
    """The payment of ``order_id``: the caller's own, or any for an admin."""
    async with runtime.recorder.pool.acquire() as connection:
        payment = await ledger.load(connection, order_id)
    # Someone else's payment is answered as missing: its existence is not the caller's to know.
    if payment is None or not (user.is_admin or payment.user_id == user.user_id):
        raise NotFound("payment", order_id)
    return PaymentOut.of(payment)
