"""Kafka headers the outbox relay sets on each event, named in one place.

Consumers route and deduplicate on these without decoding the body. The names and the
content type match :mod:`evp.messaging.headers` (not imported: the event store does not
depend on the Kafka runtime), so relayed events look like any other published event.
"""

from __future__ import annotations

from evp.eventstore.recorder import StoredEvent

__all__ = [
    "AVRO_CONTENT_TYPE",
    "CAUSATION_ID",
    "CONTENT_TYPE",
    "CORRELATION_ID",
    "EVENT_ID",
    "EVENT_TYPE",
    "TRACEPARENT",
    "event_headers",
]

EVENT_TYPE = "event-type"
EVENT_ID = "event-id"
CORRELATION_ID = "correlation-id"
CAUSATION_ID = "causation-id"
CONTENT_TYPE = "content-type"
TRACEPARENT = "traceparent"

AVRO_CONTENT_TYPE = b"application/avro; framing=confluent"
"""Avro binary behind the Confluent wire-format header (magic byte, schema id)."""


def event_headers(
    stored: StoredEvent, *, traceparent: bytes | None = None
) -> list[tuple[str, bytes]]:
    """The headers of ``stored``; the causation id and trace context only when present."""
    headers = [
        (EVENT_TYPE, stored.event_type.encode()),
        (EVENT_ID, str(stored.event_id).encode()),
        (CORRELATION_ID, str(stored.correlation_id).encode()),
        (CONTENT_TYPE, AVRO_CONTENT_TYPE),
    ]
    if stored.causation_id is not None:
        headers.append((CAUSATION_ID, str(stored.causation_id).encode()))
    if traceparent is not None:
        headers.append((TRACEPARENT, traceparent))
    return headers
