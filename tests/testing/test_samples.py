"""The sample events: valid, linked like real flows, and the benchmark's one fixed."""

from __future__ import annotations

from decimal import Decimal

from evp.testing.samples import (
    order_line,
    order_placed,
    payment_processed,
    payment_requested,
    reference_order,
)


def test_an_order_total_is_the_sum_of_its_lines() -> None:
    """Without a total given, the order's total is what its lines add up to."""
    order = order_placed(lines=[order_line("A", 3, "1.50"), order_line("B", 1, "2.00")])
    assert order.total == Decimal("6.50")


def test_samples_caused_by_an_event_join_its_flow() -> None:
    """caused_by carries the correlation id over and names the cause."""
    order = order_placed()
    request = payment_requested(order, caused_by=order)
    payment = payment_processed(request, caused_by=request)
    assert payment.envelope.correlation_id == order.envelope.correlation_id
    assert payment.envelope.causation_id == request.envelope.event_id
    assert (payment.order_id, payment.amount) == (order.order_id, order.total)


def test_the_reference_order_is_equal_on_every_call() -> None:
    """The benchmark event has fixed ids and timestamp, so every run times the same bytes."""
    assert reference_order() == reference_order()
    assert len(reference_order().lines) == 3
