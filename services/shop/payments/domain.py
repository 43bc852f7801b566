"""A payment's life, without I/O: requested, then processed, failed or pending; refunded.

One :class:`Payment` per order. The provider's answer moves it on (:meth:`Payment.settled`),
and each move names the events it records: ``PaymentProcessed`` or ``PaymentFailed`` once
it is settled, ``PaymentRefunded`` once it is given back. A refund asked for while the
payment is still pending waits in the payment (:attr:`Payment.refund`) and is made right
after the approval; declined, there is nothing to give back.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from decimal import Decimal
from typing import Any, TypeVar, cast

from evp.avro import Event
from evp.events import (
    Currency,
    PaymentFailed,
    PaymentFailureReason,
    PaymentMethod,
    PaymentProcessed,
    PaymentRefunded,
    PaymentRequested,
)
from shop.payments.provider import Approved, ChargeOutcome, Declined, Pending

__all__ = [
    "SOURCE",
    "Payment",
    "PaymentStatus",
    "RefundDecision",
    "RequestedRefund",
    "stream_of",
]

SOURCE = "payments"
"""The ``source`` of every event the service emits."""

E = TypeVar("E", bound=Event)


def stream_of(order_id: uuid.UUID) -> str:
    """The event stream of an order's payment."""
    return f"payment-{order_id}"


class PaymentStatus(enum.StrEnum):
    """Where a payment is."""

    PENDING = "PENDING"
    """Charged, and the provider has not answered yet."""
    PROCESSED = "PROCESSED"
    """Captured."""
    FAILED = "FAILED"
    """Declined: nothing was captured."""
    REFUNDED = "REFUNDED"
    """Captured, then given back."""


class RefundDecision(enum.Enum):
    """What a refund request does to a payment."""

    NOW = "now"
    """Processed: refund it now."""
    AFTER_APPROVAL = "after approval"
    """Pending: remember the request, refund right after the approval."""
    NOTHING = "nothing"
    """Failed (nothing captured), refunded already, or a refund is on its way."""


@dataclasses.dataclass(frozen=True, slots=True)
class RequestedRefund:
    """A refund asked for, kept until it is made: why, and which event asked."""

    reason: str
    requested_by: uuid.UUID


@dataclasses.dataclass(frozen=True, slots=True)
class Payment:
    """One order's payment, as the payments table keeps it."""

    order_id: uuid.UUID
    payment_id: uuid.UUID
    user_id: uuid.UUID
    amount: Decimal
    currency: Currency
    status: PaymentStatus
    correlation_id: uuid.UUID
    """The flow of the order's saga, which every event of the payment continues."""
    requested_by: uuid.UUID
    """The PaymentRequested event: the cause of the payment's outcome event."""
    version: int = 0
    """How many events the payment's stream holds."""
    provider_reference: str | None = None
    failure_reason: PaymentFailureReason | None = None
    failure_detail: str | None = None
    due_at: datetime.datetime | None = None
    """When a pending payment's provider should know its answer."""
    refund: RequestedRefund | None = None
    """A refund asked for and not made yet (the payment was pending)."""

    @classmethod
    def requested(cls, request: PaymentRequested, payment_id: uuid.UUID) -> Payment:
        """A payment just asked for, not charged yet."""
        return cls(
            order_id=request.order_id,
            payment_id=payment_id,
            user_id=request.user_id,
            amount=request.amount,
            currency=request.currency,
            status=PaymentStatus.PENDING,
            correlation_id=request.envelope.correlation_id,
            requested_by=request.envelope.event_id,
        )

    # -- moving on ------------------------------------------------------------------------

    def settled(self, outcome: ChargeOutcome) -> tuple[Payment, list[Event]]:
        """The payment after the provider's ``outcome``, and the events that records.

        Approved, it keeps a refund that was waiting for the approval (:attr:`refund`), for
        the caller to make next; declined, that refund has nothing left to give back.
        """
        match outcome:
            case Approved(reference):
                processed = dataclasses.replace(
                    self, status=PaymentStatus.PROCESSED, provider_reference=reference, due_at=None
                )
                events: list[Event] = [processed._processed()]
                return processed._counted(events), events
            case Declined(reason, detail):
                failed = dataclasses.replace(
                    self,
                    status=PaymentStatus.FAILED,
                    failure_reason=reason,
                    failure_detail=detail,
                    due_at=None,
                    refund=None,
                )
                events = [failed._failed()]
                return failed._counted(events), events
            case Pending(reference, due_at):
                pending = dataclasses.replace(
                    self, status=PaymentStatus.PENDING, provider_reference=reference, due_at=due_at
                )
                return pending, []

    def refund_decision(self) -> RefundDecision:
        """What a refund request does now (a processed payment is refunded once: after that
        it is :attr:`PaymentStatus.REFUNDED`)."""
        if self.status is PaymentStatus.PROCESSED:
            return RefundDecision.NOW
        if self.status is PaymentStatus.PENDING and self.refund is None:
            return RefundDecision.AFTER_APPROVAL
        return RefundDecision.NOTHING

    def refund_requested(self, refund: RequestedRefund) -> Payment:
        """The pending payment, remembering to refund itself once approved."""
        return dataclasses.replace(self, refund=refund)

    def refunded(self, refund: RequestedRefund) -> tuple[Payment, list[Event]]:
        """The processed payment given back in full, and the ``PaymentRefunded`` that says so."""
        event = _linked(
            PaymentRefunded.new(
                payment_id=self.payment_id,
                order_id=self.order_id,
                amount=self.amount,
                currency=self.currency,
                reason=refund.reason,
                source=SOURCE,
            ),
            self.correlation_id,
            refund.requested_by,
        )
        payment = dataclasses.replace(self, status=PaymentStatus.REFUNDED, refund=None)
        return payment._counted([event]), [event]

    # -- events ---------------------------------------------------------------------------

    def _counted(self, events: list[Event]) -> Payment:
        return dataclasses.replace(self, version=self.version + len(events))

    def _processed(self) -> PaymentProcessed:
        return _linked(
            PaymentProcessed.new(
                payment_id=self.payment_id,
                order_id=self.order_id,
                amount=self.amount,
                currency=self.currency,
                method=PaymentMethod.CARD,
                provider_reference=self.provider_reference or "",
                source=SOURCE,
            ),
            self.correlation_id,
            self.requested_by,
        )

    def _failed(self) -> PaymentFailed:
        return _linked(
            PaymentFailed.new(
                payment_id=self.payment_id,
                order_id=self.order_id,
                amount=self.amount,
                currency=self.currency,
                reason=self.failure_reason or PaymentFailureReason.UNKNOWN,
                detail=self.failure_detail,
                source=SOURCE,
            ),
            self.correlation_id,
            self.requested_by,
        )


def _linked(event: E, correlation_id: uuid.UUID, causation_id: uuid.UUID) -> E:
    """``event`` continuing the order's flow, caused by ``causation_id``.

    Set explicitly because a late approval is recorded by the poller, outside any handler,
    where the kit cannot link it to the request that caused it.
    """
    envelope = dataclasses.replace(
        cast(Any, event.envelope), correlation_id=correlation_id, causation_id=causation_id
    )
    return cast(E, dataclasses.replace(cast(Any, event), envelope=envelope))
