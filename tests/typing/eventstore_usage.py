"""Usage of the event store that must type-check: both recorders fill every capability layer."""

from __future__ import annotations

from evp.avro import AvroCodec, Event, InMemorySchemaLookup
from evp.eventstore import (
    EventStore,
    MemoryRecorder,
    MemoryTransaction,
    OutboxRelay,
    PositionRecorder,
    PostgresRecorder,
    PostgresTransaction,
    Projection,
    ProjectionRunner,
    RawPublisher,
    StreamRecorder,
    TrackingRecorder,
)
from evp.eventstore.testing import RecordingPublisher
from evp.messaging.publisher import Publisher


class CountRegistrations:
    """A projection needing a Postgres transaction for its writes."""

    name = "registrations"
    event_types = frozenset({"shop.users.UserRegistered"})

    async def handle(self, event: Event, transaction: PostgresTransaction) -> None:
        await transaction.connection.execute("UPDATE counts SET n = n + 1")

    async def reset(self, transaction: PostgresTransaction) -> None:
        await transaction.connection.execute("UPDATE counts SET n = 0")


def layers(memory: MemoryRecorder, postgres: PostgresRecorder) -> None:
    """Each recorder is a stream, position and tracking recorder."""
    streams: list[StreamRecorder] = [memory, postgres]
    positions: list[PositionRecorder] = [memory, postgres]
    tracking_memory: TrackingRecorder[MemoryTransaction] = memory
    tracking_postgres: TrackingRecorder[PostgresTransaction] = postgres
    del streams, positions, tracking_memory, tracking_postgres


def wiring(postgres: PostgresRecorder) -> ProjectionRunner[PostgresTransaction]:
    """A store, a relay and a runner over one Postgres recorder."""
    store = EventStore(postgres, AvroCodec(InMemorySchemaLookup()))
    OutboxRelay(postgres, RecordingPublisher())
    projection: Projection[PostgresTransaction] = CountRegistrations()
    return ProjectionRunner(store, projection)


def kafka_publisher(publisher: Publisher) -> OutboxRelay:
    """The messaging runtime's publisher is a RawPublisher for the relay."""
    raw: RawPublisher = publisher
    return OutboxRelay(MemoryRecorder(), raw)
