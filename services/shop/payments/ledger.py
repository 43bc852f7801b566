"""The payments table: one row per order, written in the transaction of its events.

The primary key on ``order_id`` is what makes a payment happen once per order: the first
request inserts the row (a concurrent second one waits on the key, then finds it taken),
and every later request for the order finds it and charges nothing. The row carries the
state the events do not (pending, due when, a refund waiting), so the poller and the
routes read it rather than folding the stream.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from evp.events import Currency, PaymentFailureReason
from evp.postgres.migrations import AnyConnection, Migration
from shop.payments.domain import Payment, PaymentStatus, RequestedRefund

__all__ = ["MIGRATIONS", "claim", "due", "load", "save"]

MIGRATIONS = (
    Migration(
        1,
        "payments",
        """
        CREATE TABLE payments (
            order_id            uuid PRIMARY KEY,
            payment_id          uuid NOT NULL UNIQUE,
            user_id             uuid NOT NULL,
            reservation_id      uuid NOT NULL,
            amount              numeric(12, 2) NOT NULL,
            currency            text NOT NULL,
            status              text NOT NULL
                CHECK (status IN ('PENDING', 'PROCESSED', 'FAILED', 'REFUNDED')),
            correlation_id      uuid NOT NULL,
            requested_by        uuid NOT NULL,
            version             integer NOT NULL DEFAULT 0,
            provider_reference  text,
            failure_reason      text,
            failure_detail      text,
            due_at              timestamptz,
            refund_reason       text,
            refund_requested_by uuid,
            requested_at        timestamptz NOT NULL DEFAULT now(),
            updated_at          timestamptz NOT NULL DEFAULT now()
        );
        -- The poller's question: which pending payments are due, oldest first.
        CREATE INDEX payments_pending_due ON payments (due_at) WHERE status = 'PENDING';
        CREATE INDEX payments_by_user ON payments (user_id);
        """,
    ),
)

_COLUMNS = (
    "order_id, payment_id, user_id, reservation_id, amount, currency, status, correlation_id,"
    " requested_by, version, provider_reference, failure_reason, failure_detail, due_at,"
    " refund_reason, refund_requested_by"
)


async def claim(connection: AnyConnection, payment: Payment, reservation_id: uuid.UUID) -> bool:
    """Insert the order's payment; ``False`` when the order has one already.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent insert of the same order to end, so of
    two requests for one order exactly one gets ``True``.
    """
    inserted = await connection.fetchval(
        "INSERT INTO payments (order_id, payment_id, user_id, reservation_id, amount, currency,"
        " status, correlation_id, requested_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (order_id) DO NOTHING RETURNING true",
        payment.order_id,
        payment.payment_id,
        payment.user_id,
        reservation_id,
        payment.amount,
        payment.currency.value,
        payment.status.value,
        payment.correlation_id,
        payment.requested_by,
    )
    return inserted is not None


async def save(connection: AnyConnection, payment: Payment) -> None:
    """Write what changed in ``payment`` (its status, answer, refund and version)."""
    refund = payment.refund
    await connection.execute(
        "UPDATE payments SET status = $2, version = $3, provider_reference = $4,"
        " failure_reason = $5, failure_detail = $6, due_at = $7, refund_reason = $8,"
        " refund_requested_by = $9, updated_at = now()"
        " WHERE order_id = $1",
        payment.order_id,
        payment.status.value,
        payment.version,
        payment.provider_reference,
        None if payment.failure_reason is None else payment.failure_reason.value,
        payment.failure_detail,
        payment.due_at,
        None if refund is None else refund.reason,
        None if refund is None else refund.requested_by,
    )


async def load(
    connection: AnyConnection, order_id: uuid.UUID, *, for_update: bool = False
) -> Payment | None:
    """The order's payment, if any; locked until the transaction ends with ``for_update``."""
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM payments WHERE order_id = $1{lock}", order_id
    )
    return None if row is None else _payment(row)


async def due(connection: AnyConnection, now: datetime.datetime, limit: int) -> list[Payment]:
    """Up to ``limit`` pending payments due by ``now``, oldest first, locked.

    ``SKIP LOCKED``: a payment another instance is completing is left to it, so each is
    completed once however many instances poll.
    """
    rows: Sequence[Any] = await connection.fetch(
        f"SELECT {_COLUMNS} FROM payments WHERE status = 'PENDING' AND due_at <= $1"
        " ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [_payment(row) for row in rows]


def _payment(row: Any) -> Payment:
    refund = None
    if row["refund_reason"] is not None:
        refund = RequestedRefund(row["refund_reason"], row["refund_requested_by"])
    reason = row["failure_reason"]
    return Payment(
        order_id=row["order_id"],
        payment_id=row["payment_id"],
        user_id=row["user_id"],
        amount=row["amount"],
        currency=Currency(row["currency"]),
        status=PaymentStatus(row["status"]),
        correlation_id=row["correlation_id"],
        requested_by=row["requested_by"],
        version=row["version"],
        provider_reference=row["provider_reference"],
        failure_reason=None if reason is None else PaymentFailureReason(reason),
        failure_detail=row["failure_detail"],
        due_at=row["due_at"],
        refund=refund,
    )
