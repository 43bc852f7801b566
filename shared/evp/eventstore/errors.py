"""Errors of the event store: conflicts on append, missing aggregates, failed publication."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from evp.errors import EvpError
from evp.messaging.errors import DependencyUnavailable

__all__ = [
    "AggregateNotFound",
    "ConcurrencyError",
    "DuplicateEventError",
    "EventStoreError",
    "ProjectionNotFound",
    "PublishFailed",
    "RecorderError",
    "StoreUnavailable",
    "StreamNotParked",
    "UnknownEventType",
]


class EventStoreError(EvpError):
    """Root of every deliberate error raised by :mod:`evp.eventstore`."""


class ConcurrencyError(EventStoreError):
    """An append expected the stream at one version, but it was at another.

    Someone else appended first (the usual case: reload and retry the command), or the
    caller's expected version is ahead of the stream.
    """

    def __init__(self, stream_id: str, *, expected_version: int, actual_version: int) -> None:
        super().__init__(
            f"stream {stream_id} is at version {actual_version}, not {expected_version}",
            stream_id=stream_id,
            expected_version=expected_version,
            actual_version=actual_version,
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class DuplicateEventError(EventStoreError):
    """An event with this id is already stored: event ids are unique across streams."""

    def __init__(self, event_id: uuid.UUID | None, *, stream_id: str | None = None) -> None:
        super().__init__(
            "an event with this id is already stored", event_id=event_id, stream_id=stream_id
        )
        self.event_id = event_id
        self.stream_id = stream_id


class RecorderError(EventStoreError):
    """The database failed in a way the caller cannot fix by retrying a command."""

    def __init__(self, message: str, *, operation: str) -> None:
        super().__init__(message, operation=operation)
        self.operation = operation


class StoreUnavailable(RecorderError, DependencyUnavailable):
    """The database could not be reached (down, restarting, the connection dropped).

    Nothing was wrong with what was asked, so asking again later may succeed: a handler
    meeting it waits for the database instead of using up its retries.
    """


class AggregateNotFound(EventStoreError):
    """No events are stored for the aggregate (or none up to the version or time asked for)."""

    def __init__(self, aggregate_type: str, aggregate_id: str) -> None:
        super().__init__(
            f"no {aggregate_type} with id {aggregate_id}",
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
        )
        self.aggregate_type = aggregate_type
        self.aggregate_id = aggregate_id


class UnknownEventType(EventStoreError):
    """A stored event's type has no generated class, so it cannot be decoded or routed."""

    def __init__(self, event_type: str, *, position: int | None = None) -> None:
        super().__init__(
            f"no generated event class for {event_type}", event_type=event_type, position=position
        )
        self.event_type = event_type
        self.position = position


class PublishFailed(EventStoreError):
    """The relay's publisher did not confirm an event for now; its progress was not recorded.

    Raised for failures worth retrying (the broker or the network is down); the cause is
    the publisher's own error. An event that can never be published parks its stream
    instead (see :mod:`evp.eventstore.outbox`).
    """

    def __init__(self, *, relay: str, topic: str, stream_id: str, position: int) -> None:
        super().__init__(
            "publishing an event failed",
            relay=relay,
            topic=topic,
            stream_id=stream_id,
            position=position,
        )
        self.relay = relay
        self.topic = topic
        self.stream_id = stream_id
        self.position = position


class StreamNotParked(EventStoreError):
    """A retry was asked for a stream the relay has not parked."""

    def __init__(self, relay: str, stream_id: str) -> None:
        super().__init__(
            f"relay {relay} has not parked stream {stream_id}", relay=relay, stream_id=stream_id
        )
        self.relay = relay
        self.stream_id = stream_id


class ProjectionNotFound(EventStoreError):
    """``evp replay`` was asked for a projection the service does not define."""

    def __init__(self, service: str, projection: str, available: Sequence[str]) -> None:
        super().__init__(
            f"service {service} has no projection {projection}"
            f" (it has: {', '.join(sorted(available)) or 'none'})",
            service=service,
            projection=projection,
        )
        self.service = service
        self.projection = projection
        self.available = tuple(available)
