"""Causal links filled in for events published while a handler runs."""

from __future__ import annotations

from evp import causation
from evp.messaging import context
from evp.messaging.context import handled_event, handling, linked_to_handled

from .samples import order_placed, payment_requested


def test_outside_a_handler_events_are_unchanged() -> None:
    """With no event being handled, an event is published as built."""
    order = order_placed()
    assert linked_to_handled(order) is order


def test_new_flow_event_inside_a_handler_takes_correlation_and_causation() -> None:
    """An event built without links inside a handler continues the handled event's flow."""
    order = order_placed()
    with handling(order):
        linked = linked_to_handled(payment_requested(order))
    assert linked.envelope.correlation_id == order.envelope.correlation_id
    assert linked.envelope.causation_id == order.envelope.event_id


def test_linking_keeps_everything_but_the_links() -> None:
    """Linking changes only the correlation and causation ids of the envelope."""
    order = order_placed()
    request = payment_requested(order)
    with handling(order):
        linked = linked_to_handled(request)
    assert linked.envelope.event_id == request.envelope.event_id
    assert linked.amount == request.amount


def test_explicit_causation_is_kept() -> None:
    """An event built with ``caused_by`` keeps the links it was given."""
    first, other = order_placed(), order_placed()
    request = payment_requested(other, caused_by=other)
    with handling(first):
        assert linked_to_handled(request) is request


def test_explicit_correlation_is_kept_and_causation_added() -> None:
    """An event given a correlation id keeps it and still records the handled event as cause."""
    order = order_placed()
    flow = order_placed().envelope.event_id
    request = payment_requested(order, correlation_id=flow)
    with handling(order):
        linked = linked_to_handled(request)
    assert linked.envelope.correlation_id == flow
    assert linked.envelope.causation_id == order.envelope.event_id


def test_handling_is_undone_when_the_block_ends() -> None:
    """The handled event is cleared after the handler's block."""
    with handling(order_placed()):
        assert handled_event() is not None
    assert handled_event() is None


def test_the_runtime_and_the_event_store_share_one_rule() -> None:
    """The bus's publish and the store's append link events by the same function."""
    assert context.linked_to_handled is causation.linked_to_handled


def test_the_event_a_consumer_handles_is_the_one_the_store_links_to() -> None:
    """The consumer's handled event is what an append inside its handler is caused by."""
    order = order_placed()
    token = context.enter_handling(order)
    try:
        assert causation.handled_event() is order
    finally:
        context.exit_handling(token)
    assert causation.handled_event() is None
