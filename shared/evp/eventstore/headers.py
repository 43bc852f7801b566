"""The Kafka headers the outbox relay sets: exactly those of a directly published event.

The names, the id format and the trace context come from :mod:`evp.messaging.headers`, so
a consumer cannot tell a relayed event from one published by ``EventBus.publish``.
"""

from __future__ import annotations

from evp.eventstore.recorder import StoredEvent
from evp.messaging.headers import (
    CAUSATION_ID,
    CONTENT_TYPE,
    CORRELATION_ID,
    EVENT_ID,
    EVENT_TYPE,
    TRACEPARENT,
    WIRE_CONTENT_TYPE,
    headers_of_values,
)

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

AVRO_CONTENT_TYPE = WIRE_CONTENT_TYPE


def event_headers(stored: StoredEvent) -> list[tuple[str, bytes]]:
    """The headers of ``stored``, as :func:`evp.messaging.headers.event_headers` builds them."""
    causation = stored.causation_id
    return headers_of_values(
        stored.event_type,
        {
            "event_id": str(stored.event_id),
            "correlation_id": str(stored.correlation_id),
            "causation_id": None if causation is None else str(causation),
        },
    )
