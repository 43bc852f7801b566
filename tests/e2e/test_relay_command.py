"""``evp relay``: a service's outbox published by a relay running on its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from evp.avro import AvroCodec
from evp.cli.relay import relay_service
from evp.events import UserRegistered
from evp.eventstore.outbox import DEFAULT_RELAY_NAME
from evp.eventstore.postgres import PostgresRecorder, PostgresTransaction
from evp.eventstore.store import EventStore
from evp.messaging import EventBus, MessageContext, MessagingSettings, RegistrySchemaLookup

Store = EventStore[PostgresTransaction]


@pytest.fixture
async def users_store(
    messaging_settings: MessagingSettings, service_database: Callable[[], str]
) -> AsyncIterator[tuple[Store, str]]:
    """The users service's event store, on a database of its own, and that database's URL."""
    url = service_database()
    recorder = await PostgresRecorder.connect(url)
    with RegistrySchemaLookup(messaging_settings.schema_registry_url) as lookup:
        yield EventStore(recorder, AvroCodec(lookup)), url
    await recorder.close()


async def _register(store: Store) -> UserRegistered:
    user = UserRegistered.new(
        user_id=uuid.uuid4(),
        email=f"{uuid.uuid4().hex[:6]}@example.com",
        display_name="A",
        source="users",
    )
    await store.append(str(user.user_id), [user], expected_version=0)
    return user


async def test_once_publishes_everything_pending_and_records_progress(
    messaging_settings: MessagingSettings, users_store: tuple[Store, str]
) -> None:
    """``--once`` publishes the stored events, which a consumer receives; a rerun has none."""
    store, url = users_store
    stored = [await _register(store) for _ in range(3)]
    received: list[UserRegistered] = []
    arrived = asyncio.Event()
    bus = EventBus(messaging_settings, service="notifications")

    @bus.subscriber(group="notifications", events=(UserRegistered,))
    async def welcome(event: UserRegistered, context: MessageContext) -> None:
        received.append(event)
        if len(received) == len(stored):
            arrived.set()

    async with bus:
        await bus.wait_assigned()
        assert await relay_service("users", url, messaging_settings, once=True) == 3
        async with asyncio.timeout(30):
            await arrived.wait()
    assert sorted(str(e.envelope.event_id) for e in received) == sorted(
        str(e.envelope.event_id) for e in stored
    )
    assert await relay_service("users", url, messaging_settings, once=True) == 0


async def test_running_relay_publishes_new_events_until_stopped(
    messaging_settings: MessagingSettings, users_store: tuple[Store, str]
) -> None:
    """A running relay picks up an event appended after it started, and stops when told."""
    store, url = users_store
    stop = asyncio.Event()
    relay = asyncio.create_task(relay_service("users", url, messaging_settings, stop=stop))
    await asyncio.sleep(0.2)
    await _register(store)
    async with asyncio.timeout(30):
        while await _pending(store):
            await asyncio.sleep(0.05)
    stop.set()
    async with asyncio.timeout(30):
        assert await relay == 0


async def _pending(store: Store) -> bool:
    """Whether the default relay's checkpoint is behind the store's last position."""
    last = await store.recorder.last_position()
    async with store.transaction() as transaction:
        return await transaction.checkpoint(DEFAULT_RELAY_NAME) < last
