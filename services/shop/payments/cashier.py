"""The three things the service does to a payment: charge it, complete it, refund it.

The handlers and the poller of pending payments share them. Each runs in one transaction
of the service's event store: the payment's row in the ledger and the events it records
commit together (the outbox relay publishes them afterwards), or neither does.

The provider is called inside that transaction. That is external I/O in a database
transaction, acceptable here because every provider call is idempotent: a charge by the
order id (the provider's idempotency key), a refund by the capture's reference. When the
transaction rolls back after the provider answered (a failed commit, a handler timeout),
the retry asks again and gets the same answer, and nothing is charged or refunded twice.
The simulated provider answers at once, so the transaction stays short; a real one would
take its network time out of a handler's ``timeout``.
"""

from __future__ import annotations

import logging
import uuid

from evp.avro import Event
from evp.events import PaymentRequested
from evp.eventstore.postgres import PostgresTransaction
from evp.eventstore.store import EventStore
from shop.payments import ledger
from shop.payments.domain import Payment, PaymentStatus, RefundDecision, RequestedRefund, stream_of
from shop.payments.errors import RefundRefused
from shop.payments.provider import PaymentProvider
from shop.payments.provider import RefundRefused as Refusal

__all__ = ["Store", "charge", "complete", "refund"]

Store = EventStore[PostgresTransaction]

_log = logging.getLogger("shop.payments")


async def charge(
    request: PaymentRequested,
    transaction: PostgresTransaction,
    store: Store,
    provider: PaymentProvider,
) -> Payment | None:
    """Charge the order of ``request`` once; ``None`` when the order was charged already.

    Approved or declined, the payment's event is recorded; pending, the payment waits in
    the ledger for the poller (:func:`complete`).
    """
    payment = Payment.requested(request, payment_id=uuid.uuid4())
    if not await ledger.claim(transaction.connection, payment, request.reservation_id):
        _log.info("order %s: payment requested again, nothing charged", request.order_id)
        return None
    outcome = await provider.charge(
        request.order_id, request.payment_token, request.amount, request.currency
    )
    settled, events = payment.settled(outcome)
    await _record(transaction, store, payment, settled, events)
    return settled


async def complete(
    payment: Payment,
    transaction: PostgresTransaction,
    store: Store,
    provider: PaymentProvider,
) -> Payment:
    """Ask the provider what became of the pending ``payment`` and record its answer.

    Approved with a refund waiting (asked for while it was pending), it is refunded next,
    in the same transaction; if the provider refuses that refund, the approval is recorded
    all the same and the refusal logged (a later refund request tries again).
    """
    outcome = await provider.outcome(payment.provider_reference or "")
    settled, events = payment.settled(outcome)
    await _record(transaction, store, payment, settled, events)
    if settled.status is not PaymentStatus.PROCESSED or settled.refund is None:
        return settled
    try:
        return await refund(settled, settled.refund, transaction, store, provider)
    except RefundRefused as error:
        _log.error("order %s: approved late, not refunded: %s", payment.order_id, error)
        return settled


async def refund(
    payment: Payment,
    requested: RequestedRefund,
    transaction: PostgresTransaction,
    store: Store,
    provider: PaymentProvider,
) -> Payment:
    """What a refund request does to ``payment`` (locked by the caller): refund it now if it
    is processed, remember it if it is pending, nothing otherwise.

    Refunds are whole: the amount captured is given back. :class:`RefundRefused` when the
    provider will not.
    """
    decision = payment.refund_decision()
    if decision is RefundDecision.AFTER_APPROVAL:
        waiting = payment.refund_requested(requested)
        await ledger.save(transaction.connection, waiting)
        return waiting
    if decision is RefundDecision.NOTHING:
        _log.info(
            "order %s: refund asked for a %s payment, nothing to do",
            payment.order_id,
            payment.status.value.lower(),
        )
        return payment
    reference = payment.provider_reference or ""
    outcome = await provider.refund(reference, payment.amount, payment.currency)
    if isinstance(outcome, Refusal):
        raise RefundRefused(payment.order_id, reference, outcome.detail)
    refunded, events = payment.refunded(requested)
    await _record(transaction, store, payment, refunded, events)
    return refunded


async def _record(
    transaction: PostgresTransaction,
    store: Store,
    before: Payment,
    after: Payment,
    events: list[Event],
) -> None:
    """Save ``after`` and append its new ``events`` to the payment's stream, together."""
    await ledger.save(transaction.connection, after)
    if events:
        await store.append(
            stream_of(after.order_id),
            events,
            expected_version=before.version,
            transaction=transaction,
        )
