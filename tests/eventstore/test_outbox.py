"""The outbox relay: stored events published in order per stream, progress recorded after."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

import pytest

from evp.avro import AvroCodec
from evp.events import EVENT_TYPES, EmailChanged, UserRegistered
from evp.eventstore import (
    EventStore,
    NewEvent,
    OutboxRelay,
    PublishFailed,
    TrackingRecorder,
    UnknownEventType,
)
from evp.eventstore import headers as h
from evp.eventstore.testing import PublishedMessage, PublisherDown, RecordingPublisher
from evp.messaging.headers import traceparent

CONSUMER = "notifications"


async def seed(store: EventStore[Any], users: int = 5, changes: int = 3) -> list[uuid.UUID]:
    """Register ``users`` users and change each one's email ``changes`` times, interleaved."""
    ids = [uuid.uuid4() for _ in range(users)]
    for user_id in ids:
        registered = UserRegistered.new(
            user_id=user_id, email="0@example.com", display_name="U", source="users"
        )
        await store.append(str(user_id), [registered], expected_version=0)
    for change in range(1, changes + 1):
        for user_id in ids:
            changed = EmailChanged.new(
                user_id=user_id,
                previous_email=f"{change - 1}@example.com",
                new_email=f"{change}@example.com",
                source="users",
            )
            await store.append(str(user_id), [changed], expected_version=change)
    return ids


async def consume(recorder: TrackingRecorder[Any], messages: list[PublishedMessage]) -> int:
    """Handle each delivery at most once, deduplicating on the event id header."""
    handled = 0
    for message in messages:
        event_id = uuid.UUID((message.header(h.EVENT_ID) or b"").decode())
        async with recorder.transaction() as transaction:
            if await transaction.mark_processed(CONSUMER, event_id):
                handled += 1
    return handled


def event_ids(messages: list[PublishedMessage]) -> list[bytes | None]:
    """The event id header of each message, in publication order."""
    return [message.header(h.EVENT_ID) for message in messages]


async def test_every_event_is_published_with_topic_key_and_headers(
    store: EventStore[Any], codec: AvroCodec
) -> None:
    """The frame goes out as stored, keyed by stream, on its class's topic, with headers."""
    (user_id,) = await seed(store, users=1, changes=1)
    publisher = RecordingPublisher()
    assert await OutboxRelay(store.recorder, publisher).drain() == 2
    first = publisher.messages[0]
    (stored, _) = await store.recorder.read_stream(str(user_id))
    assert (first.topic, first.key, first.value) == ("users", str(user_id).encode(), stored.data)
    assert codec.decode_any(first.value, EVENT_TYPES) == (await store.load(str(user_id)))[0]
    assert dict(first.headers) == {
        h.EVENT_TYPE: b"shop.users.UserRegistered",
        h.EVENT_ID: str(stored.event_id).encode(),
        h.CORRELATION_ID: str(stored.correlation_id).encode(),
        h.CAUSATION_ID: b"",
        h.CONTENT_TYPE: h.AVRO_CONTENT_TYPE,
        h.TRACEPARENT: traceparent(stored.correlation_id, stored.event_id).encode(),
    }


async def test_the_causation_id_header_is_set_when_the_event_has_one(
    store: EventStore[Any],
) -> None:
    """An event caused by another carries the cause's id in its headers."""
    cause = UserRegistered.new(
        user_id=uuid.uuid4(), email="a@b.c", display_name="A", source="users"
    )
    effect = EmailChanged.new(
        user_id=cause.user_id,
        previous_email="a@b.c",
        new_email="d@e.f",
        source="users",
        caused_by=cause,
    )
    await store.append("u", [cause, effect], expected_version=0)
    publisher = RecordingPublisher()
    await OutboxRelay(store.recorder, publisher).drain()
    assert publisher.messages[1].header(h.CAUSATION_ID) == str(cause.envelope.event_id).encode()


async def test_events_of_each_stream_are_published_in_version_order(
    store: EventStore[Any],
) -> None:
    """Within every key, messages arrive in the stream's order, even in one batch."""
    await seed(store, users=6, changes=4)
    publisher = RecordingPublisher()
    await OutboxRelay(store.recorder, publisher, batch_size=1000).drain()
    by_key: dict[bytes, list[bytes | None]] = defaultdict(list)
    for message in publisher.messages:
        by_key[message.key].append(message.header(h.EVENT_ID))
    for key, published in by_key.items():
        stored = await store.recorder.read_stream(key.decode())
        assert published == [str(e.event_id).encode() for e in stored]


async def test_a_pipelined_relay_sends_in_position_order(store: EventStore[Any]) -> None:
    """Without waiting for confirmations, sends still start in the store's order."""
    await seed(store, users=4, changes=3)
    publisher = RecordingPublisher()
    assert await OutboxRelay(store.recorder, publisher, pipelined=True).drain() == 16
    stored = await store.recorder.read_all()
    assert event_ids(publisher.messages) == [str(e.event_id).encode() for e in stored]


async def test_recorded_progress_means_nothing_is_published_twice(
    store: EventStore[Any],
) -> None:
    """A relay that finished records the last position; a second pass publishes nothing."""
    await seed(store, users=2, changes=2)
    publisher = RecordingPublisher()
    relay = OutboxRelay(store.recorder, publisher, batch_size=4)
    assert await relay.drain() == 6
    assert await relay.drain() == 0
    assert len(publisher.messages) == 6
    assert await store.recorder.checkpoint(relay.name) == 6


async def test_a_relay_killed_mid_batch_republishes_the_tail_and_loses_nothing(
    store: EventStore[Any],
) -> None:
    """The relay dies after 7 of 20; a new one republishes; the consumer sees each event once."""
    await seed(store, users=5, changes=3)
    dying = RecordingPublisher(fail_after=7)
    with pytest.raises(PublishFailed) as raised:
        await OutboxRelay(store.recorder, dying, batch_size=100).drain()
    assert isinstance(raised.value.__cause__, PublisherDown)
    assert await store.recorder.checkpoint("outbox") == 0

    restarted = RecordingPublisher()
    assert await OutboxRelay(store.recorder, restarted).drain() == 20
    delivered = dying.messages + restarted.messages
    stored = await store.recorder.read_all()
    assert set(event_ids(delivered)) == {str(e.event_id).encode() for e in stored}
    assert await consume(store.recorder, delivered) == 20


async def test_a_relay_cancelled_while_publishing_records_nothing(
    store: EventStore[Any],
) -> None:
    """Killing the relay task mid-batch leaves the checkpoint; the restart republishes all."""
    await seed(store, users=4, changes=2)
    hanging = RecordingPublisher(hang_after=5)
    task = asyncio.create_task(OutboxRelay(store.recorder, hanging).drain())
    await hanging.hanging.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.recorder.checkpoint("outbox") == 0
    restarted = RecordingPublisher()
    assert await OutboxRelay(store.recorder, restarted).drain() == 12
    assert await consume(store.recorder, hanging.messages + restarted.messages) == 12


async def test_two_relays_of_one_service_take_turns(store: EventStore[Any]) -> None:
    """Relays running at once never publish the same event twice."""
    await seed(store, users=5, changes=5)
    publisher = RecordingPublisher()
    relays = [OutboxRelay(store.recorder, publisher, batch_size=3) for _ in range(3)]
    await asyncio.gather(*(relay.drain() for relay in relays))
    assert len(publisher.messages) == 30
    assert len(set(event_ids(publisher.messages))) == 30


async def test_an_event_type_without_a_topic_stops_the_relay(store: EventStore[Any]) -> None:
    """A stored type no generated class knows is an error, not a silent skip."""
    unknown = NewEvent(uuid.uuid4(), "shop.Gone", b"\0", uuid.uuid4())
    await store.recorder.append("x", 0, [unknown])
    with pytest.raises(UnknownEventType):
        await OutboxRelay(store.recorder, RecordingPublisher()).drain()


async def test_running_relays_events_appended_later(store: EventStore[Any]) -> None:
    """The run loop picks up new events after polling, and stops when asked."""
    publisher = RecordingPublisher()
    stop = asyncio.Event()
    task = asyncio.create_task(OutboxRelay(store.recorder, publisher, poll_interval=0.01).run(stop))
    await seed(store, users=1, changes=1)
    for _ in range(200):
        if len(publisher.messages) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert len(publisher.messages) == 2


async def test_running_retries_after_a_publisher_failure(store: EventStore[Any]) -> None:
    """The run loop backs off after a failure and delivers once the publisher recovers."""
    await seed(store, users=1, changes=2)
    publisher = RecordingPublisher(fail_after=1)
    stop = asyncio.Event()
    relay = OutboxRelay(store.recorder, publisher, poll_interval=0.01)
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.05)
    publisher.fail_after = None
    for _ in range(200):
        if await store.recorder.checkpoint(relay.name) == 3:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert await consume(store.recorder, publisher.messages) == 3
