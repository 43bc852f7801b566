"""A CQRS read model fed from Kafka through the runtime, in a database of its own."""

from __future__ import annotations

import asyncio
import collections
import uuid
from collections.abc import Callable

from evp.avro import Event
from evp.events import EVENT_TYPES, EmailChanged, UserRegistered
from evp.eventstore.outbox import OutboxRelay
from evp.eventstore.postgres import PostgresRecorder, PostgresTransaction
from evp.eventstore.projection import project_once
from evp.eventstore.store import EventStore
from evp.messaging import EventBus, MessageContext, MessagingSettings
from evp.postgres import migrate_url
from tests.eventstore.sample_projections import MIGRATIONS, MIGRATIONS_COMPONENT, UsersByEmail

USERS = 5


async def test_read_model_from_kafka_is_exact_and_survives_redelivery(
    messaging_settings: MessagingSettings, service_database: Callable[[], str]
) -> None:
    """Every user's row has the changed email once, even after everything is redelivered."""
    users_url, views_url = service_database(), service_database()
    await migrate_url(views_url, MIGRATIONS_COMPONENT, MIGRATIONS)
    users_recorder = await PostgresRecorder.connect(users_url)
    views_recorder = await PostgresRecorder.connect(views_url)
    calls: collections.Counter[str] = collections.Counter()
    bus = EventBus(messaging_settings, service="views", publishes=(UserRegistered, EmailChanged))
    views: EventStore[PostgresTransaction] = EventStore(views_recorder, bus.codec)
    projection = UsersByEmail()

    @bus.subscriber(group="views", events=(UserRegistered, EmailChanged))
    async def project(event: Event, context: MessageContext) -> None:
        await project_once(views, projection, event)
        calls[event.FULL_NAME] += 1  # counted once the projection's transaction committed

    try:
        async with bus:
            await bus.wait_assigned()
            users: EventStore[PostgresTransaction] = EventStore(users_recorder, bus.codec)
            expected = {}
            for index in range(USERS):
                registered = UserRegistered.new(
                    user_id=uuid.uuid4(),
                    email=f"old{index}@example.com",
                    display_name="U",
                    source="users",
                )
                changed = EmailChanged.new(
                    user_id=registered.user_id,
                    previous_email=registered.email,
                    new_email=f"new{index}@example.com",
                    source="users",
                    caused_by=registered,
                )
                await users.append(
                    str(registered.user_id), [registered, changed], expected_version=0
                )
                expected[registered.user_id] = (changed.new_email, 1)
            relay = OutboxRelay(
                users_recorder, bus.publisher, topic_of=lambda t: bus.topics.of(EVENT_TYPES[t])
            )

            async def delivered(times: int) -> None:
                async with asyncio.timeout(30):
                    while sum(calls.values()) < 2 * USERS * times:
                        await asyncio.sleep(0.02)

            assert await relay.drain() == 2 * USERS
            await delivered(1)
            first = await _rows(views_recorder)
            async with users.transaction() as transaction:
                await transaction.reset_consumer(relay.name)  # the relay lost its progress
            assert await relay.drain() == 2 * USERS
            await delivered(2)
            again = await _rows(views_recorder)
    finally:
        await users_recorder.close()
        await views_recorder.close()
    assert first == expected
    assert again == expected


async def _rows(recorder: PostgresRecorder) -> dict[uuid.UUID, tuple[str, int]]:
    async with recorder.pool.acquire() as connection:
        rows = await connection.fetch("SELECT user_id, email, changes FROM users_by_email")
    return {row["user_id"]: (row["email"], row["changes"]) for row in rows}
