"""The order saga driven by the harness: replies, a controllable clock, no Kafka."""

from __future__ import annotations

import uuid

import pytest

from evp.events import (
    CancellationReason,
    OrderCancelled,
    OrderPlaced,
    PaymentRequested,
    RefundRequested,
    ReleaseReason,
    ReleaseRequestReason,
    StockReleaseRequested,
)
from shop.orders.domain import Order, Status
from shop.orders.engine import DeadlinePassed, decide
from shop.orders.errors import NotCancellable
from shop.orders.saga import ORDER_SAGA, PAYMENT_TIMEOUT
from shop.orders.testing import SagaHarness
from tests.shop.orders import replies

TIMEOUT_S = 30.0


def _harness() -> tuple[SagaHarness[Order], OrderPlaced]:
    placed = replies.placed()
    harness = SagaHarness(ORDER_SAGA, placed, timeouts={PAYMENT_TIMEOUT: TIMEOUT_S})
    harness.emitted()
    return harness, placed


def _awaiting_payment() -> tuple[SagaHarness[Order], uuid.UUID, uuid.UUID]:
    harness, placed = _harness()
    hold_id = uuid.uuid4()
    harness.feed(replies.held(placed.order_id, hold_id))
    harness.emitted()
    return harness, placed.order_id, hold_id


def _terminal_events(harness: SagaHarness[Order]) -> list[str]:
    return [t for t in harness.types() if t in ("OrderConfirmed", "OrderCancelled")]


def _reason(harness: SagaHarness[Order]) -> CancellationReason | None:
    return harness.state.data.cancellation_reason


def test_the_happy_path_confirms_the_order() -> None:
    """Held, paid, reserved: the order is confirmed, with the payment and the reservation."""
    harness, order_id, hold_id = _awaiting_payment()
    payment = replies.paid(order_id)
    harness.feed(payment)
    assert harness.emitted_types() == ["PaymentProcessed", "StockReservationRequested"]
    harness.feed(replies.reserved(order_id, hold_id))
    assert harness.emitted_types() == ["StockReserved", "OrderConfirmed"]
    assert harness.types() == [
        "OrderPlaced",
        "StockHeld",
        "PaymentRequested",
        "PaymentProcessed",
        "StockReservationRequested",
        "StockReserved",
        "OrderConfirmed",
    ]
    assert harness.state.data.status is Status.CONFIRMED
    assert harness.deadline is None


def test_the_payment_is_requested_against_the_hold_with_the_token() -> None:
    """PaymentRequested names the hold as its reservation and carries the order's total."""
    placed = replies.placed()
    harness = SagaHarness(
        ORDER_SAGA,
        placed,
        timeouts={PAYMENT_TIMEOUT: TIMEOUT_S},
        prepare=lambda order: order.with_token("tok_ok"),
    )
    hold_id = uuid.uuid4()
    harness.feed(replies.held(placed.order_id, hold_id))
    (request,) = harness.commands(PaymentRequested)
    assert isinstance(request, PaymentRequested)
    assert (request.reservation_id, request.amount, request.payment_token) == (
        hold_id,
        placed.total,
        "tok_ok",
    )
    assert harness.deadline is not None
    assert harness.deadline[0] == "payment"


def test_a_declined_payment_releases_the_stock_then_cancels() -> None:
    """PaymentFailed -> StockReleaseRequested(PAYMENT_FAILED) -> StockReleased -> cancelled."""
    harness, order_id, hold_id = _awaiting_payment()
    harness.feed(replies.declined(order_id))
    assert harness.emitted_types() == ["PaymentFailed", "StockReleaseRequested"]
    (release,) = harness.commands(StockReleaseRequested)
    assert isinstance(release, StockReleaseRequested)
    assert (release.hold_id, release.reason) == (hold_id, ReleaseRequestReason.PAYMENT_FAILED)
    harness.feed(replies.released(order_id, hold_id, ReleaseReason.PAYMENT_FAILED))
    assert harness.emitted_types() == ["StockReleased", "OrderCancelled"]
    assert _reason(harness) is CancellationReason.PAYMENT_FAILED
    assert harness.deadline is None


def test_out_of_stock_cancels_without_any_charge() -> None:
    """No hold: cancelled OUT_OF_STOCK, and no payment was ever requested."""
    harness, placed = _harness()
    harness.feed(replies.out_of_stock(placed.order_id))
    assert harness.emitted_types() == ["StockReservationFailed", "OrderCancelled"]
    assert _reason(harness) is CancellationReason.OUT_OF_STOCK
    assert not harness.commands(PaymentRequested)


def test_no_answer_from_payments_times_out_and_a_late_payment_is_refunded() -> None:
    """The deadline releases the hold; the order cancels TIMED_OUT; a late payment is refunded."""
    harness, order_id, hold_id = _awaiting_payment()
    assert harness.advance(TIMEOUT_S - 1) == []
    (fired,) = harness.advance(2)
    assert harness.emitted_types() == ["StockReleaseRequested"]
    (release,) = fired.events
    assert isinstance(release, StockReleaseRequested)
    assert release.reason is ReleaseRequestReason.TIMED_OUT
    harness.feed(replies.released(order_id, hold_id, ReleaseReason.TIMED_OUT))
    assert harness.emitted_types() == ["StockReleased", "OrderCancelled"]
    assert _reason(harness) is CancellationReason.TIMED_OUT
    late = replies.paid(order_id)
    harness.feed(late)
    assert harness.emitted_types() == ["PaymentProcessed", "RefundRequested"]
    (refund,) = harness.commands(RefundRequested)
    assert isinstance(refund, RefundRequested)
    assert refund.payment_id == late.payment_id


def test_a_late_payment_is_refunded_once() -> None:
    """The same late payment delivered again (a new event id) is not refunded twice."""
    harness, order_id, hold_id = _awaiting_payment()
    harness.advance(TIMEOUT_S + 1)
    harness.feed(replies.released(order_id, hold_id, ReleaseReason.TIMED_OUT))
    payment_id = uuid.uuid4()
    harness.feed(replies.paid(order_id, payment_id))
    harness.feed(replies.paid(order_id, payment_id))
    assert len(harness.commands(RefundRequested)) == 1


def test_a_payment_arriving_while_the_release_is_pending_is_refunded() -> None:
    """Timed out, release asked, then the payment comes: refunded, and the order still cancels."""
    harness, order_id, hold_id = _awaiting_payment()
    harness.advance(TIMEOUT_S + 1)
    harness.feed(replies.paid(order_id))
    harness.feed(replies.released(order_id, hold_id, ReleaseReason.TIMED_OUT))
    assert len(harness.commands(RefundRequested)) == 1
    assert _reason(harness) is CancellationReason.TIMED_OUT


def test_a_deadline_fires_once() -> None:
    """Moving the clock far past the deadline, twice, fires it once."""
    harness, _, _ = _awaiting_payment()
    harness.advance(TIMEOUT_S * 10)
    harness.advance(TIMEOUT_S * 10)
    assert len(harness.commands(StockReleaseRequested)) == 1


def test_a_stale_deadline_changes_nothing() -> None:
    """A deadline of a step that is over (paid in time) is ignored."""
    harness, order_id, _ = _awaiting_payment()
    harness.feed(replies.paid(order_id))
    assert harness.deadline is None
    outcome = decide(
        ORDER_SAGA, harness.state, DeadlinePassed("payment"), now=harness.now, timeouts={}
    )
    assert outcome.ignored
    assert outcome.events == ()


def test_a_hold_that_expires_while_payment_is_pending_cancels_timed_out() -> None:
    """StockReleased(EXPIRED) unasked: cancelled TIMED_OUT; a later payment is refunded."""
    harness, order_id, hold_id = _awaiting_payment()
    harness.feed(replies.released(order_id, hold_id, ReleaseReason.EXPIRED))
    assert harness.emitted_types() == ["StockReleased", "OrderCancelled"]
    assert _reason(harness) is CancellationReason.TIMED_OUT
    assert harness.deadline is None
    harness.feed(replies.paid(order_id))
    assert harness.emitted_types() == ["PaymentProcessed", "RefundRequested"]


def test_paid_but_the_hold_is_gone_refunds_and_cancels() -> None:
    """StockReservationFailed after payment: RefundRequested and OrderCancelled(OUT_OF_STOCK)."""
    harness, order_id, _ = _awaiting_payment()
    harness.feed(replies.paid(order_id))
    harness.feed(replies.reservation_failed(order_id))
    assert harness.emitted_types()[-3:] == [
        "StockReservationFailed",
        "RefundRequested",
        "OrderCancelled",
    ]
    assert _reason(harness) is CancellationReason.OUT_OF_STOCK


def test_cancel_while_waiting_for_the_hold_cancels_and_releases_a_later_hold() -> None:
    """Cancelled at once; the hold that still comes is released, once."""
    harness, placed = _harness()
    harness.cancel()
    assert harness.emitted_types() == ["OrderCancelled"]
    assert _reason(harness) is CancellationReason.CUSTOMER_REQUEST
    hold_id = uuid.uuid4()
    harness.feed(replies.held(placed.order_id, hold_id))
    assert harness.emitted_types() == ["StockHeld", "StockReleaseRequested"]
    harness.feed(replies.held(placed.order_id, hold_id))
    assert harness.emitted_types() == ["StockHeld"]
    (release,) = harness.commands(StockReleaseRequested)
    assert isinstance(release, StockReleaseRequested)
    assert release.reason is ReleaseRequestReason.CUSTOMER_REQUEST
    assert not harness.commands(PaymentRequested)


def test_cancel_while_waiting_for_payment_releases_and_refunds_a_later_payment() -> None:
    """The hold is released for the customer; a payment that still comes is refunded."""
    harness, order_id, hold_id = _awaiting_payment()
    harness.cancel()
    assert harness.emitted_types() == ["StockReleaseRequested"]
    assert harness.deadline is None
    harness.feed(replies.paid(order_id))
    assert harness.emitted_types() == ["PaymentProcessed", "RefundRequested"]
    harness.feed(replies.released(order_id, hold_id))
    assert harness.emitted_types() == ["StockReleased", "OrderCancelled"]
    assert _reason(harness) is CancellationReason.CUSTOMER_REQUEST


def test_cancel_while_waiting_for_the_reservation_refunds_and_releases() -> None:
    """RefundRequested + StockReleaseRequested; the reservation reply is then ignored."""
    harness, order_id, hold_id = _awaiting_payment()
    harness.feed(replies.paid(order_id))
    harness.emitted()
    harness.cancel()
    assert harness.emitted_types() == ["RefundRequested", "StockReleaseRequested"]
    harness.feed(replies.reserved(order_id, hold_id))
    assert harness.emitted_types() == ["StockReserved"]
    harness.feed(replies.released(order_id, hold_id))
    assert harness.emitted_types() == ["StockReleased", "OrderCancelled"]
    assert _reason(harness) is CancellationReason.CUSTOMER_REQUEST
    assert len(harness.commands(RefundRequested)) == 1


@pytest.mark.parametrize("ended_by", ["confirmed", "cancelled", "releasing"])
def test_cancel_is_refused_once_the_order_ended_or_is_being_released(ended_by: str) -> None:
    """A confirmed, cancelled or already-releasing order cannot be cancelled."""
    harness, order_id, hold_id = _awaiting_payment()
    if ended_by == "confirmed":
        harness.feed(replies.paid(order_id))
        harness.feed(replies.reserved(order_id, hold_id))
    elif ended_by == "cancelled":
        harness.feed(replies.released(order_id, hold_id, ReleaseReason.EXPIRED))
    else:
        harness.feed(replies.declined(order_id))
    with pytest.raises(NotCancellable):
        harness.cancel()


def test_a_duplicate_reply_is_ignored() -> None:
    """The same event delivered twice is appended once and acted on once."""
    harness, order_id, _ = _awaiting_payment()
    payment = replies.paid(order_id)
    harness.feed(payment)
    outcome = harness.feed(payment)
    assert outcome.ignored
    assert harness.types().count("PaymentProcessed") == 1


def test_a_second_payment_while_reserving_is_refunded() -> None:
    """A second, different payment for the same order is refunded; the first is kept."""
    harness, order_id, hold_id = _awaiting_payment()
    first, second = replies.paid(order_id), replies.paid(order_id)
    harness.feed(first)
    harness.feed(second)
    harness.feed(replies.reserved(order_id, hold_id))
    (refund,) = harness.commands(RefundRequested)
    assert isinstance(refund, RefundRequested)
    assert refund.payment_id == second.payment_id
    assert harness.state.data.status is Status.CONFIRMED


def test_late_replies_after_the_end_are_recorded_but_change_nothing() -> None:
    """After confirmation, a failed payment or a release is ignored: one terminal state."""
    harness, order_id, hold_id = _awaiting_payment()
    harness.feed(replies.paid(order_id))
    harness.feed(replies.reserved(order_id, hold_id))
    harness.emitted()
    harness.feed(replies.declined(order_id))
    harness.feed(replies.released(order_id, hold_id, ReleaseReason.EXPIRED))
    harness.feed(replies.out_of_stock(order_id))
    assert harness.emitted_types() == ["PaymentFailed", "StockReleased", "StockReservationFailed"]
    assert _terminal_events(harness) == ["OrderConfirmed"]
    assert harness.state.data.status is Status.CONFIRMED


def test_unexpected_replies_while_running_are_ignored() -> None:
    """A reservation reply while waiting for payment changes nothing."""
    harness, order_id, hold_id = _awaiting_payment()
    harness.feed(replies.reserved(order_id, hold_id))
    assert harness.emitted_types() == ["StockReserved"]
    assert harness.state.step == "payment"


def test_each_step_shows_how_it_went() -> None:
    """The runs say which step succeeded, failed, timed out or was compensated."""
    harness, order_id, hold_id = _awaiting_payment()
    harness.advance(TIMEOUT_S + 1)
    harness.feed(replies.released(order_id, hold_id, ReleaseReason.TIMED_OUT))
    states = [(run.step, run.state) for run in harness.state.runs]
    assert states == [
        ("hold", "compensated"),
        ("payment", "timed_out"),
        ("release", "succeeded"),
    ]


def test_the_cancel_of_a_customer_has_no_cause_but_stays_in_the_flow() -> None:
    """A user's request causes the cancel: no causation id, the order's correlation id."""
    harness, placed = _harness()
    harness.cancel()
    (cancelled,) = harness.commands(OrderCancelled)
    assert cancelled.envelope.causation_id is None
    assert cancelled.envelope.correlation_id == placed.envelope.correlation_id
    assert harness.state.runs[0].state == "cancelled"
