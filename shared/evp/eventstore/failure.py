"""Which failures to publish an event the relay retries, and which park the event's stream.

A relay that retried every failure would let one event that can never be published (a
type no generated class knows, a frame the broker refuses for its size) block every
stream behind it forever. A relay that skipped every failure would lose events while the
broker is down. So each failure is classified:

* **transient** -- the broker, the network, the registry or the database is unavailable:
  nothing is recorded and the whole batch is retried after a back-off;
* **permanent** -- this one event cannot be published as stored: its stream is parked
  at that event (later events of the stream wait, so per-key order holds) and the relay
  moves on with the other streams;
* anything else is a bug, and propagates.
"""

from __future__ import annotations

import enum

from evp.avro.errors import UnknownSchemaId, WireFormatError
from evp.eventstore.errors import UnknownEventType
from evp.messaging.errors import (
    REFUSED_MESSAGE_CODES,
    BrokerError,
    DeliveryFailed,
    RegistryUnavailable,
    TopicUnavailable,
)

__all__ = ["Failure", "classify"]


class Failure(enum.Enum):
    """How the relay treats a failure to publish one event."""

    TRANSIENT = "transient"
    """Retry the batch later; record nothing."""
    PERMANENT = "permanent"
    """Park the event's stream; relay the others."""


def classify(error: BaseException) -> Failure | None:
    """The kind of ``error`` raised while routing or publishing one event; ``None``: a bug."""
    if isinstance(error, UnknownEventType | UnknownSchemaId | WireFormatError):
        return Failure.PERMANENT
    if isinstance(error, DeliveryFailed | BrokerError):
        return Failure.PERMANENT if error.code in REFUSED_MESSAGE_CODES else Failure.TRANSIENT
    # OSError covers ConnectionError and (since 3.10) TimeoutError.
    if isinstance(error, TopicUnavailable | RegistryUnavailable | OSError):
        return Failure.TRANSIENT
    return None
