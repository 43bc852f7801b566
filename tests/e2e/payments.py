"""The payments step of the saga as the end-to-end tests run it, in-process or not."""

from __future__ import annotations

import uuid

from evp.events import OrderPlaced, PaymentMethod, PaymentProcessed
from evp.eventstore.postgres import PostgresTransaction
from evp.eventstore.store import EventStore


async def take_payment(store: EventStore[PostgresTransaction], order: OrderPlaced) -> bool:
    """Take ``order``'s payment once: ``False`` (and nothing written) for a redelivery.

    The processed mark and the PaymentProcessed event commit in one transaction, so a
    crash leaves both or neither.
    """
    async with store.transaction() as transaction:
        if not await transaction.mark_processed("payments", order.envelope.event_id):
            return False
        payment = PaymentProcessed.new(
            payment_id=uuid.uuid4(),
            order_id=order.order_id,
            amount=order.total,
            currency=order.currency,
            method=PaymentMethod.CARD,
            provider_reference="psp-1",
            source="payments",
            caused_by=order,
        )
        await store.append(
            f"payment-{order.order_id}", [payment], expected_version=0, transaction=transaction
        )
    return True
