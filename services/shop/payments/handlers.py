"""What payments does with the saga's requests: charge an order once, refund it once."""

from __future__ import annotations

import logging

from evp.events import PaymentRequested, RefundRequested
from evp.service import HandlerContext
from shop.payments import cashier, ledger
from shop.payments.domain import RequestedRefund
from shop.payments.parts import provider_of

__all__ = ["on_payment_requested", "on_refund_requested"]

_log = logging.getLogger("shop.payments")


async def on_payment_requested(event: PaymentRequested, context: HandlerContext) -> None:
    """Charge the order through the provider, once per order whatever is redelivered.

    The kit runs this once per event id; the ledger's key on the order id covers a second
    request for the same order under another event id. The provider is called inside the
    handler's transaction (see :mod:`shop.payments.cashier` for why that is safe).
    """
    provider = provider_of(context.runtime)
    await cashier.charge(event, context.transaction, context.store, provider)


async def on_refund_requested(event: RefundRequested, context: HandlerContext) -> None:
    """Refund the order's payment once: now if processed, right after approval if pending."""
    connection = context.transaction.connection
    payment = await ledger.load(connection, event.order_id, for_update=True)
    if payment is None or payment.payment_id != event.payment_id:
        # The saga asks only about payments it heard of, so this is a stray request: there
        # is nothing of ours to give back, and retrying would not change that.
        _log.warning(
            "order %s: refund of unknown payment %s ignored", event.order_id, event.payment_id
        )
        return
    if event.amount != payment.amount or event.currency is not payment.currency:
        _log.warning(
            "order %s: refund asked for %s %s; refunding the %s %s captured",
            event.order_id,
            event.amount,
            event.currency.value,
            payment.amount,
            payment.currency.value,
        )
    requested = RequestedRefund(event.reason, event.envelope.event_id)
    provider = provider_of(context.runtime)
    await cashier.refund(payment, requested, context.transaction, context.store, provider)
