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
    headers_of_ids,
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
    return headers_of_ids(
        stored.event_type, stored.event_id, stored.correlation_id, stored.causation_id
    )
