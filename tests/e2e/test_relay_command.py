"""``evp relay``: a service's outbox published by a relay running on its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from evp.avro import AvroCodec
from evp.cli.main import main
from evp.cli.outbox import retry_parked
from evp.cli.relay import relay_service
from evp.events import UserRegistered
from evp.eventstore import NewEvent, StreamNotParked
from evp.eventstore.outbox import DEFAULT_RELAY_NAME
from evp.eventstore.postgres import PostgresRecorder, PostgresTransaction
from evp.eventstore.store import EventStore
from evp.messaging import EventBus, MessageContext, MessagingSettings, RegistrySchemaLookup
from evp.service import ServiceSettings
from evp.service.testing import service_settings

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


async def _register(store: Store, *, display_name: str = "A") -> UserRegistered:
    user = UserRegistered.new(
        user_id=uuid.uuid4(),
        email=f"{uuid.uuid4().hex[:6]}@example.com",
        display_name=display_name,
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
        assert await relay_service(_users(url, messaging_settings), once=True) == 3
        async with asyncio.timeout(30):
            await arrived.wait()
    assert sorted(str(e.envelope.event_id) for e in received) == sorted(
        str(e.envelope.event_id) for e in stored
    )
    assert await relay_service(_users(url, messaging_settings), once=True) == 0


async def test_running_relay_publishes_new_events_until_stopped(
    messaging_settings: MessagingSettings, users_store: tuple[Store, str]
) -> None:
    """A running relay picks up an event appended after it started, and stops when told."""
    store, url = users_store
    stop = asyncio.Event()
    relay = asyncio.create_task(relay_service(_users(url, messaging_settings), stop=stop))
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


async def _append_unknown(store: Store, stream_id: str) -> None:
    """Store an event of a type no generated class knows (a type since removed, say)."""
    unknown = NewEvent(uuid.uuid4(), "shop.users.Gone", b"\0", uuid.uuid4())
    await store.recorder.append(stream_id, 0, [unknown])


async def test_an_unknown_event_type_parks_its_stream_and_the_rest_is_relayed(
    messaging_settings: MessagingSettings, users_store: tuple[Store, str]
) -> None:
    """The relay publishes every other stream, parks the bad one and moves its checkpoint."""
    store, url = users_store
    await _register(store)
    await _append_unknown(store, "gone")
    await _register(store)
    assert await relay_service(_users(url, messaging_settings), once=True) == 2
    (parked,) = await store.recorder.parked_streams(DEFAULT_RELAY_NAME)
    assert (parked.stream_id, parked.position, parked.event_type) == ("gone", 2, "shop.users.Gone")
    assert not await _pending(store)


async def test_outbox_list_prints_the_parked_streams(
    messaging_settings: MessagingSettings,
    users_store: tuple[Store, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``evp outbox list`` names each parked stream, its position, type and reason."""
    store, url = users_store
    await _append_unknown(store, "gone")
    await relay_service(_users(url, messaging_settings), once=True)
    code = await asyncio.to_thread(
        main, ["outbox", "list", "--service", "users", "--database-url", url]
    )
    assert code == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("gone\tposition 1\tshop.users.Gone\tsince ")
    assert "no generated event class" in line


async def test_a_frame_too_large_for_kafka_parks_its_stream_until_retried(
    messaging_settings: MessagingSettings, users_store: tuple[Store, str]
) -> None:
    """The producer's size refusal parks the stream; a retry refused again keeps it parked."""
    store, url = users_store
    huge = await _register(store, display_name="x" * 2_000_000)
    await _register(store)
    assert await relay_service(_users(url, messaging_settings), once=True) == 1
    (parked,) = await store.recorder.parked_streams(DEFAULT_RELAY_NAME)
    assert parked.stream_id == str(huge.user_id)
    assert "MSG_SIZE_TOO_LARGE" in parked.reason
    (still,) = await retry_parked(_users(url, messaging_settings), str(huge.user_id))
    assert still.stream_id == str(huge.user_id)


async def test_retrying_a_stream_that_is_not_parked_is_refused(
    messaging_settings: MessagingSettings, users_store: tuple[Store, str]
) -> None:
    """``evp outbox retry`` of a stream the relay has not parked raises a typed error."""
    _, url = users_store
    with pytest.raises(StreamNotParked):
        await retry_parked(_users(url, messaging_settings), "nobody")


def _users(database_url: str, messaging: MessagingSettings) -> ServiceSettings:
    """The users service's settings on ``database_url``, as ``evp relay`` reads them."""
    return service_settings("users", database_url=database_url, messaging=messaging)
