"""A payment's life without I/O: settled by the provider's answer, refunded once."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest

from evp.events import (
    Currency,
    PaymentFailed,
    PaymentFailureReason,
    PaymentProcessed,
    PaymentRefunded,
    PaymentRequested,
)
from shop.payments.domain import Payment, PaymentStatus, RefundDecision, RequestedRefund
from shop.payments.provider import Approved, Declined, Pending

DUE = datetime.datetime(2024, 5, 1, 13, 0, tzinfo=datetime.UTC)


def _requested() -> tuple[PaymentRequested, Payment]:
    request = PaymentRequested.new(
        order_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        reservation_id=uuid.uuid4(),
        amount=Decimal("42.00"),
        currency=Currency.EUR,
        payment_token="tok_ok",
        source="orders",
    )
    return request, Payment.requested(request, uuid.uuid4())


def _refund() -> RequestedRefund:
    return RequestedRefund("the saga timed out", uuid.uuid4())


def test_an_approval_records_payment_processed_in_the_order_s_flow() -> None:
    """Approved: PROCESSED, and a PaymentProcessed caused by the request, in its flow."""
    request, payment = _requested()
    processed, events = payment.settled(Approved("sim_1"))
    (event,) = events
    assert isinstance(event, PaymentProcessed)
    assert (processed.status, processed.version) == (PaymentStatus.PROCESSED, 1)
    assert event.provider_reference == "sim_1"
    assert event.envelope.causation_id == request.envelope.event_id
    assert event.envelope.correlation_id == request.envelope.correlation_id


def test_a_decline_records_payment_failed_with_its_reason() -> None:
    """Declined: FAILED, and a PaymentFailed naming the reason and detail."""
    _, payment = _requested()
    failed, events = payment.settled(Declined(PaymentFailureReason.CARD_DECLINED, "no"))
    (event,) = events
    assert isinstance(event, PaymentFailed)
    assert failed.status is PaymentStatus.FAILED
    assert (event.reason, event.detail) == (PaymentFailureReason.CARD_DECLINED, "no")


def test_a_pending_answer_records_nothing_yet() -> None:
    """Pending: no event, and the time it is due."""
    _, payment = _requested()
    pending, events = payment.settled(Pending("sim_1", DUE))
    assert events == []
    assert (pending.status, pending.due_at, pending.version) == (PaymentStatus.PENDING, DUE, 0)


@pytest.mark.parametrize(
    ("outcome", "decision"),
    [
        (Approved("sim_1"), RefundDecision.NOW),
        (Pending("sim_1", DUE), RefundDecision.AFTER_APPROVAL),
        (Declined(PaymentFailureReason.CARD_DECLINED), RefundDecision.NOTHING),
    ],
)
def test_what_a_refund_request_does_depends_on_the_status(
    outcome: Approved | Pending | Declined, decision: RefundDecision
) -> None:
    """Processed: now; pending: after approval; failed: nothing to give back."""
    _, payment = _requested()
    settled, _ = payment.settled(outcome)
    assert settled.refund_decision() is decision


def test_a_refunded_payment_is_not_refunded_again() -> None:
    """Once REFUNDED, a further refund request does nothing."""
    _, payment = _requested()
    processed, _ = payment.settled(Approved("sim_1"))
    refunded, events = processed.refunded(_refund())
    (event,) = events
    assert isinstance(event, PaymentRefunded)
    assert (refunded.status, refunded.version) == (PaymentStatus.REFUNDED, 2)
    assert refunded.refund_decision() is RefundDecision.NOTHING


def test_a_refund_waiting_on_a_pending_payment_is_asked_once() -> None:
    """A second refund request while one waits does nothing more."""
    _, payment = _requested()
    pending, _ = payment.settled(Pending("sim_1", DUE))
    waiting = pending.refund_requested(_refund())
    assert waiting.refund_decision() is RefundDecision.NOTHING


def test_a_declined_payment_drops_the_refund_that_waited() -> None:
    """Declined after all, nothing was captured, so nothing is left to refund."""
    _, payment = _requested()
    pending, _ = payment.settled(Pending("sim_1", DUE))
    failed, _ = pending.refund_requested(_refund()).settled(
        Declined(PaymentFailureReason.CARD_DECLINED)
    )
    assert failed.refund is None
