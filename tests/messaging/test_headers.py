"""The headers every published event carries."""

from __future__ import annotations

import re
import uuid

from evp.messaging import headers as h

from .samples import order_placed, payment_requested


def test_event_headers_name_type_id_links_and_content_type() -> None:
    """An event's headers carry its type, id, correlation and causation ids and content type."""
    order = order_placed()
    request = payment_requested(order, caused_by=order)
    found = dict(h.event_headers(request))
    assert found[h.EVENT_TYPE] == b"shop.orders.PaymentRequested"
    assert uuid.UUID(found[h.EVENT_ID].decode()) == request.envelope.event_id
    assert uuid.UUID(found[h.CORRELATION_ID].decode()) == order.envelope.correlation_id
    assert uuid.UUID(found[h.CAUSATION_ID].decode()) == order.envelope.event_id
    assert found[h.CONTENT_TYPE] == h.WIRE_CONTENT_TYPE


def test_header_ids_read_as_in_the_payload() -> None:
    """Ids are the UUIDs' canonical text, as the envelope in the payload spells them."""
    order = order_placed()
    request = payment_requested(order, caused_by=order)
    found = dict(h.event_headers(request))
    assert found[h.EVENT_ID] == str(request.envelope.event_id).encode()
    assert found[h.CORRELATION_ID] == str(order.envelope.correlation_id).encode()
    assert found[h.CAUSATION_ID] == str(order.envelope.event_id).encode()


def test_headers_of_values_match_event_headers() -> None:
    """Headers built from an event's encoded values equal those built from the event."""
    order = order_placed()
    for event in (order, payment_requested(order, caused_by=order)):
        values = event.to_avro()["envelope"]
        assert h.headers_of_values(event.FULL_NAME, values) == h.event_headers(event)


def test_causation_header_is_empty_for_an_event_that_starts_a_flow() -> None:
    """An event caused by no other event has an empty causation header."""
    assert dict(h.event_headers(order_placed()))[h.CAUSATION_ID] == b""


def test_traceparent_is_w3c_with_the_correlation_id_as_trace() -> None:
    """The traceparent is W3C version 00, its trace id the correlation id, sampled."""
    order = order_placed()
    value = dict(h.event_headers(order))[h.TRACEPARENT].decode()
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", value)
    assert value.split("-")[1] == order.envelope.correlation_id.hex


def test_header_answers_the_last_value_of_a_repeated_name() -> None:
    """A header given twice reads as its last value, and a missing one as None."""
    pairs = [("a", b"1"), ("b", b"2"), ("a", b"3")]
    assert h.header(pairs, "a") == b"3"
    assert h.header(pairs, "c") is None


def test_traceparent_header_matches_the_function() -> None:
    """The header computed on the hot path equals traceparent() of the event's ids."""
    order = order_placed()
    request = payment_requested(order, caused_by=order)
    for event in (order, request):
        envelope = event.envelope
        expected = h.traceparent(envelope.correlation_id, envelope.event_id).encode()
        assert dict(h.event_headers(event))[h.TRACEPARENT] == expected
