"""Kafka header names the runtime writes, and the headers of an event.

Every published event carries its type, id, correlation and causation ids, the content
type and a W3C ``traceparent``, so brokers' tools, tracing and the dead-letter tooling can
tell what a message is without decoding it. Dead letters add the ``dlq-*`` headers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Message

from evp.avro.record import Event

__all__ = [
    "CAUSATION_ID",
    "CONTENT_TYPE",
    "CORRELATION_ID",
    "DLQ_ATTEMPTS",
    "DLQ_ERROR_MESSAGE",
    "DLQ_ERROR_TYPE",
    "DLQ_GROUP",
    "DLQ_HEADERS",
    "DLQ_ORIGINAL_OFFSET",
    "DLQ_ORIGINAL_PARTITION",
    "DLQ_ORIGINAL_TIMESTAMP",
    "DLQ_ORIGINAL_TOPIC",
    "DLQ_PROBLEMS",
    "DLQ_REASON",
    "DLQ_REPLAYED_FROM",
    "DLQ_REPLAY_OF",
    "DLQ_TRUNCATED",
    "DLQ_VALUE_SHA256",
    "EVENT_ID",
    "EVENT_TYPE",
    "TRACEPARENT",
    "WIRE_CONTENT_TYPE",
    "Headers",
    "event_headers",
    "header",
    "headers_of",
    "headers_of_ids",
    "headers_of_values",
    "traceparent",
]

Headers = list[tuple[str, bytes]]

EVENT_TYPE = "event-type"
"""The full name of the event's record, e.g. ``shop.orders.OrderPlaced``."""
EVENT_ID = "event-id"
"""The event id as text, e.g. ``0b5c7e1a-...``; the correlation and causation ids alike."""
CORRELATION_ID = "correlation-id"
CAUSATION_ID = "causation-id"
"""Empty when the event was caused by a request rather than by another event."""
CONTENT_TYPE = "content-type"
TRACEPARENT = "traceparent"

WIRE_CONTENT_TYPE = b"application/avro; framing=confluent"
"""Avro binary behind the Confluent wire-format header (magic byte, schema id)."""

DLQ_REASON = "dlq-reason"
"""Why the message was dead-lettered: a :class:`~evp.messaging.dead_letter.Reason` value."""
DLQ_ERROR_TYPE = "dlq-error-type"
DLQ_ERROR_MESSAGE = "dlq-error-message"
DLQ_ORIGINAL_TOPIC = "dlq-original-topic"
DLQ_ORIGINAL_PARTITION = "dlq-original-partition"
DLQ_ORIGINAL_OFFSET = "dlq-original-offset"
DLQ_ORIGINAL_TIMESTAMP = "dlq-original-timestamp"
"""Milliseconds since the epoch, as Kafka stamped the original message."""
DLQ_GROUP = "dlq-group"
"""The consumer group that gave up on the message."""
DLQ_ATTEMPTS = "dlq-attempts"
"""How often the handler was called (0 when the message could not be decoded)."""
DLQ_PROBLEMS = "dlq-problems"
"""On an incompatible writer's dead letter: a JSON list of its compatibility problems."""
DLQ_TRUNCATED = "dlq-truncated"
"""On a dead letter too large to write whole: the original value's length in bytes."""
DLQ_VALUE_SHA256 = "dlq-value-sha256"
"""On a truncated dead letter: the SHA-256 of the original value, hex."""
DLQ_REPLAY_OF = "dlq-replay-of"
"""On a replay marker in a dead-letter topic: ``<partition>:<offset>`` of the replayed letter."""
DLQ_REPLAYED_FROM = "dlq-replayed-from"
"""On a replayed message: ``<dead-letter topic>:<partition>:<offset>`` it was replayed from."""

DLQ_HEADERS = frozenset(
    {
        DLQ_REASON,
        DLQ_ERROR_TYPE,
        DLQ_ERROR_MESSAGE,
        DLQ_ORIGINAL_TOPIC,
        DLQ_ORIGINAL_PARTITION,
        DLQ_ORIGINAL_OFFSET,
        DLQ_ORIGINAL_TIMESTAMP,
        DLQ_GROUP,
        DLQ_ATTEMPTS,
        DLQ_PROBLEMS,
        DLQ_TRUNCATED,
        DLQ_VALUE_SHA256,
        DLQ_REPLAY_OF,
        DLQ_REPLAYED_FROM,
    }
)


_CONTENT_TYPE_HEADER = (CONTENT_TYPE, WIRE_CONTENT_TYPE)
_NO_CAUSATION_HEADER = (CAUSATION_ID, b"")
_type_headers: dict[str, tuple[str, bytes]] = {}


def event_headers(event: Event) -> Headers:
    """The headers every published ``event`` carries; ids in the canonical dashed form."""
    envelope = event.envelope
    return headers_of_ids(
        event.FULL_NAME, envelope.event_id, envelope.correlation_id, envelope.causation_id
    )


def headers_of_ids(
    full_name: str,
    event_id: uuid.UUID,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID | None,
) -> Headers:
    """The headers of an event of type ``full_name`` with these ids (a stored one, say)."""
    return headers_of_values(
        full_name,
        {
            "event_id": str(event_id),
            "correlation_id": str(correlation_id),
            "causation_id": None if causation_id is None else str(causation_id),
        },
    )


def headers_of_values(full_name: str, envelope: Mapping[str, Any]) -> Headers:
    """The headers of an event of type ``full_name`` from its envelope's plain values.

    ``envelope`` holds the ids as ``Envelope.to_avro()`` writes them (the UUIDs' text):
    the publisher takes them from the values it just encoded rather than converting the
    same UUIDs to text again, and the header ids read exactly as in the payload.
    """
    type_header = _type_headers.get(full_name)
    if type_header is None:
        type_header = _type_headers.setdefault(full_name, (EVENT_TYPE, full_name.encode()))
    event_id: str = envelope["event_id"]
    correlation_id: str = envelope["correlation_id"]
    causation: str | None = envelope["causation_id"]
    # The traceparent's trace id is the correlation id's 32 hex digits, its parent span id
    # the first 16 of the event id's (its text without the dashes that follow digits 8 and 12).
    trace = (
        f"00-{correlation_id.replace('-', '')}-{event_id[:8]}{event_id[9:13]}{event_id[14:18]}-01"
    )
    return [
        type_header,
        (EVENT_ID, event_id.encode()),
        (CORRELATION_ID, correlation_id.encode()),
        _NO_CAUSATION_HEADER if causation is None else (CAUSATION_ID, causation.encode()),
        _CONTENT_TYPE_HEADER,
        (TRACEPARENT, trace.encode()),
    ]


def traceparent(correlation_id: uuid.UUID, event_id: uuid.UUID) -> str:
    """A W3C ``traceparent``: the flow's correlation id is the trace, the event a span in it.

    Both ids are random 128-bit UUIDs, so the trace id is the correlation id's hex and the
    parent span id the first 64 bits of the event id: every event of one business flow
    lands in one trace without a tracing SDK in the runtime.
    """
    return f"00-{correlation_id.hex}-{event_id.hex[:16]}-01"


def header(headers: Iterable[tuple[str, bytes]] | None, name: str) -> bytes | None:
    """The value of the last header called ``name``, or ``None`` when there is none."""
    found: bytes | None = None
    for key, value in headers or ():
        if key == name:
            found = value
    return found


def headers_of(message: Message) -> Headers:
    """A consumed message's headers as (name, bytes) pairs, in order (a name may repeat)."""
    raw = message.headers()
    if raw is None:
        return []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [
        (name, value.encode() if isinstance(value, str) else (value or b""))
        for name, value in pairs
    ]
