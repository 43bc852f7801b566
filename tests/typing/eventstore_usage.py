"""Usage of the event store that must type-check: both recorders fill every capability layer."""

from __future__ import annotations

import uuid

from evp.avro import AvroCodec, Event, InMemorySchemaLookup
from evp.eventstore import (
    EventStore,
    MemoryRecorder,
    MemoryTransaction,
    OutboxRelay,
    Outlet,
    ParkedStream,
    PositionRecorder,
    PostgresRecorder,
    PostgresTransaction,
    Projection,
    ProjectionRunner,
    RelayStats,
    StreamRecorder,
    TrackingRecorder,
)
from evp.eventstore.idempotency import (
    InMemoryProcessedEvents,
    ProcessedEvents,
    TrackedProcessedEvents,
)
from evp.eventstore.testing import RecordingPublisher
from evp.messaging import EventBus


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


def kafka_outlet(bus: EventBus) -> OutboxRelay:
    """The event bus is the relay's outlet: it publishes and names the topics."""
    outlet: Outlet = bus
    return OutboxRelay(MemoryRecorder(), outlet)


async def surface(relay: OutboxRelay) -> tuple[list[ParkedStream], int, RelayStats]:
    """What a service kit reads off a relay for metrics and readiness."""
    parked: list[ParkedStream] = await relay.parked_streams()
    still: ParkedStream | None = await relay.retry("s")
    again: list[ParkedStream] = await relay.retry_all()
    del still, again
    return parked, await relay.lag(), relay.stats


async def claims(postgres: PostgresRecorder, event_id: uuid.UUID) -> None:
    """Claims over either recorder are ProcessedEvents; Postgres ones expose the connection."""
    stores: list[ProcessedEvents] = [TrackedProcessedEvents(postgres), InMemoryProcessedEvents()]
    del stores
    async with TrackedProcessedEvents(postgres).claim("payments", event_id) as claim:
        if claim.new:
            await claim.transaction.connection.execute("UPDATE counts SET n = n + 1")
