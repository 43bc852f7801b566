"""The outbox relay: stored events published in order per stream, progress recorded after."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

from evp.avro import AvroCodec
from evp.causation import handling
from evp.events import EVENT_TYPES, EmailChanged, UserRegistered
from evp.eventstore import (
    EventStore,
    NewEvent,
    OutboxRelay,
    PublishFailed,
    StreamNotParked,
    TrackingRecorder,
)
from evp.eventstore import headers as h
from evp.eventstore.postgres import PostgresRecorder
from evp.eventstore.testing import PublishedMessage, PublisherDown, RecordingPublisher
from evp.messaging.errors import DeliveryFailed
from evp.messaging.headers import traceparent
from evp.messaging.topics import TopicNames
from evp.testing.samples import order_placed

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
    """The frame goes out as stored, keyed by catalog key, on its class's topic, with headers."""
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


async def test_an_event_is_keyed_by_its_catalog_key_not_its_stream_id(
    store: EventStore[Any],
) -> None:
    """An OrderPlaced of stream ``order-<id>`` goes out keyed by order id, as the bus keys it."""
    placed = order_placed()
    await store.append(f"order-{placed.order_id}", [placed], expected_version=0)
    publisher = RecordingPublisher()
    await OutboxRelay(store.recorder, publisher).drain()
    (message,) = publisher.messages
    assert message.key == placed.key().encode() == str(placed.order_id).encode()


async def test_an_event_stored_without_a_key_is_keyed_by_its_stream_id(
    store: EventStore[Any],
) -> None:
    """Events recorded before keys were stored keep the key they always had: the stream id."""
    placed = order_placed()
    stream_id = f"order-{placed.order_id}"
    await store.recorder.append(stream_id, 0, [dataclasses.replace(store.encode(placed), key=None)])
    publisher = RecordingPublisher()
    await OutboxRelay(store.recorder, publisher).drain()
    assert [m.key for m in publisher.messages] == [stream_id.encode()]


async def test_events_of_local_types_stay_in_the_store_unpublished(
    store: EventStore[Any],
) -> None:
    """A service's records of others' events are skipped, and the checkpoint moves past them."""
    await seed(store, users=2, changes=1)
    publisher = RecordingPublisher()
    relay = OutboxRelay(store.recorder, publisher, local={EmailChanged.FULL_NAME})
    assert await relay.drain() == 2
    assert {m.header(h.EVENT_TYPE) for m in publisher.messages} == {b"shop.users.UserRegistered"}
    assert await relay.lag() == 0
    assert await relay.parked_streams() == []


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


async def test_running_counts_a_retried_failure_and_clears_it_after_a_success(
    store: EventStore[Any],
) -> None:
    """The relay's stats show a transient failure while it lasts, and the count after."""
    await seed(store, users=1, changes=0)
    publisher = RecordingPublisher(fail_after=0)
    stop = asyncio.Event()
    relay = OutboxRelay(store.recorder, publisher, poll_interval=0.01)
    task = asyncio.create_task(relay.run(stop))
    await until(lambda: relay.stats.failures > 0)
    assert relay.stats.last_error is not None
    publisher.fail_after = None
    await until(lambda: relay.stats.published == 1 and relay.stats.last_error is None)
    stop.set()
    await task


async def test_topics_come_from_the_outlet_with_its_prefix(store: EventStore[Any]) -> None:
    """The relay publishes to the deployment's topics, prefix included, as the bus would."""
    await seed(store, users=1, changes=0)
    publisher = RecordingPublisher(topics=TopicNames("staging."))
    await OutboxRelay(store.recorder, publisher).drain()
    assert [m.topic for m in publisher.messages] == ["staging.users"]


# -- poison events ------------------------------------------------------------------------


def too_large(key: bytes) -> Callable[[PublishedMessage], Exception | None]:
    """A broker refusing, for good, every message with ``key``."""

    def refuse(message: PublishedMessage) -> Exception | None:
        if message.key != key:
            return None
        return DeliveryFailed(
            "Broker: Message size too large", topic=message.topic, code="MSG_SIZE_TOO_LARGE"
        )

    return refuse


async def append_unknown(store: EventStore[Any], stream_id: str) -> NewEvent:
    """Store an event of a type no generated class knows, as version 1 of ``stream_id``."""
    unknown = NewEvent(uuid.uuid4(), "shop.Gone", b"\0", uuid.uuid4())
    await store.recorder.append(stream_id, 0, [unknown])
    return unknown


async def change_email(store: EventStore[Any], stream_id: str, version: int) -> EmailChanged:
    """Append an EmailChanged after ``version`` of ``stream_id``."""
    changed = EmailChanged.new(
        user_id=uuid.uuid4(), previous_email="a@b.c", new_email="d@e.f", source="users"
    )
    await store.append(stream_id, [changed], expected_version=version)
    return changed


async def until(condition: Callable[[], bool]) -> None:
    """Wait (up to 5 s) until ``condition`` holds."""
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.01)


async def test_an_unknown_event_type_parks_its_stream_and_the_others_flow(
    store: EventStore[Any],
) -> None:
    """A stored type no class knows parks that stream; every other event is published."""
    await seed(store, users=1, changes=0)
    unknown = await append_unknown(store, "gone")
    await seed(store, users=1, changes=0)
    publisher = RecordingPublisher()
    relay = OutboxRelay(store.recorder, publisher)
    assert await relay.drain() == 2
    (parked,) = await relay.parked_streams()
    assert (parked.stream_id, parked.position, parked.event_type) == ("gone", 2, "shop.Gone")
    assert "shop.Gone" in parked.reason
    assert await store.recorder.checkpoint(relay.name) == 3
    assert str(unknown.event_id).encode() not in event_ids(publisher.messages)


async def test_later_events_of_a_parked_stream_wait_in_the_store(
    store: EventStore[Any],
) -> None:
    """Events after the parked one are not published, so the stream's order holds."""
    await append_unknown(store, "gone")
    await change_email(store, "gone", 1)
    publisher = RecordingPublisher()
    relay = OutboxRelay(store.recorder, publisher)
    await relay.drain()
    await change_email(store, "gone", 2)
    await relay.drain()
    assert publisher.messages == []
    assert len(await store.recorder.read_stream("gone")) == 3


async def test_a_broker_refusal_for_good_parks_the_stream(store: EventStore[Any]) -> None:
    """A message the broker refuses for its size parks its stream; the others go out."""
    first, second = await seed(store, users=2, changes=1)
    publisher = RecordingPublisher(refuse=too_large(str(first).encode()))
    relay = OutboxRelay(store.recorder, publisher)
    assert await relay.drain() == 2
    (parked,) = await relay.parked_streams()
    assert (parked.stream_id, parked.position) == (str(first), 1)
    assert "MSG_SIZE_TOO_LARGE" in parked.reason
    assert {m.key for m in publisher.messages} == {str(second).encode()}
    assert relay.stats.parked == 1


async def test_a_pipelined_relay_parks_a_refused_stream_too(store: EventStore[Any]) -> None:
    """Without waiting for confirmations, a refusal still parks only its stream."""
    first, second = await seed(store, users=2, changes=1)
    publisher = RecordingPublisher(refuse=too_large(str(first).encode()))
    relay = OutboxRelay(store.recorder, publisher, pipelined=True)
    await relay.drain()
    assert [p.stream_id for p in await relay.parked_streams()] == [str(first)]
    assert {m.key for m in publisher.messages} == {str(second).encode()}


async def test_a_transient_delivery_failure_parks_nothing(store: EventStore[Any]) -> None:
    """A delivery timeout is retried: the batch is not recorded and no stream is parked."""
    (user,) = await seed(store, users=1, changes=0)

    def timed_out(message: PublishedMessage) -> Exception:
        return DeliveryFailed("Local: Message timed out", topic="users", code="_MSG_TIMED_OUT")

    relay = OutboxRelay(store.recorder, RecordingPublisher(refuse=timed_out))
    with pytest.raises(PublishFailed) as raised:
        await relay.drain()
    assert raised.value.stream_id == str(user)
    assert await relay.parked_streams() == []
    assert await relay.lag() == 1


async def test_retry_republishes_a_parked_stream_in_order_then_unparks_it(
    store: EventStore[Any],
) -> None:
    """Once the cause is fixed, the stream goes out from the parked event, in order."""
    (user,) = await seed(store, users=1, changes=2)
    key = str(user).encode()
    publisher = RecordingPublisher(refuse=too_large(key))
    relay = OutboxRelay(store.recorder, publisher)
    await relay.drain()
    await change_email(store, str(user), 3)
    publisher.refuse = None
    assert await relay.retry(str(user)) is None
    assert await relay.parked_streams() == []
    await relay.drain()
    stored = await store.recorder.read_stream(str(user))
    assert event_ids(publisher.messages) == [str(e.event_id).encode() for e in stored]


async def test_a_stream_refused_again_stays_parked(store: EventStore[Any]) -> None:
    """A retry whose event is still refused answers the stream, parked anew."""
    (user,) = await seed(store, users=1, changes=1)
    relay = OutboxRelay(store.recorder, RecordingPublisher(refuse=too_large(str(user).encode())))
    await relay.drain()
    parked = await relay.retry(str(user))
    assert parked is not None
    assert (parked.stream_id, parked.position) == (str(user), 1)
    assert [p.stream_id for p in await relay.retry_all()] == [str(user)]


async def test_retrying_a_stream_that_is_not_parked_raises(store: EventStore[Any]) -> None:
    """The error names the relay and the stream."""
    relay = OutboxRelay(store.recorder, RecordingPublisher())
    with pytest.raises(StreamNotParked) as raised:
        await relay.retry("nobody")
    assert (raised.value.relay, raised.value.stream_id) == ("outbox", "nobody")


async def test_retry_all_relays_every_parked_stream_again(store: EventStore[Any]) -> None:
    """After the fix, every parked stream is published and none is left parked."""
    await append_unknown(store, "a")
    await append_unknown(store, "b")
    await seed(store, users=1, changes=0)
    publisher = RecordingPublisher()
    relay = OutboxRelay(store.recorder, publisher)
    await relay.drain()
    assert len(await relay.parked_streams()) == 2
    fixed = OutboxRelay(
        store.recorder, publisher, event_types={**EVENT_TYPES, "shop.Gone": UserRegistered}
    )
    assert await fixed.retry_all() == []
    assert [m.key for m in publisher.messages[1:]] == [b"a", b"b"]


async def test_running_relays_past_a_poison_event(store: EventStore[Any]) -> None:
    """The run loop parks an unpublishable stream and keeps publishing the others."""
    await append_unknown(store, "gone")
    await seed(store, users=2, changes=0)
    publisher = RecordingPublisher()
    stop = asyncio.Event()
    relay = OutboxRelay(store.recorder, publisher, poll_interval=0.01)
    task = asyncio.create_task(relay.run(stop))
    await until(lambda: len(publisher.messages) == 2)
    stop.set()
    await task
    assert relay.stats.failures == 0
    assert await relay.lag() == 0


async def test_running_ends_on_an_error_it_cannot_retry(store: EventStore[Any]) -> None:
    """A bug in the publisher fails the run loop loudly instead of being retried forever."""
    await seed(store, users=1, changes=0)

    def bug(message: PublishedMessage) -> Exception:
        return TypeError("publish_raw() got an unexpected keyword argument")

    relay = OutboxRelay(store.recorder, RecordingPublisher(refuse=bug), poll_interval=0.01)
    with pytest.raises(TypeError):
        async with asyncio.timeout(5):
            await relay.run()
    assert await relay.parked_streams() == []


async def test_lag_counts_the_events_not_yet_relayed(store: EventStore[Any]) -> None:
    """Lag is the store's last position minus the relay's checkpoint."""
    await seed(store, users=2, changes=1)
    relay = OutboxRelay(store.recorder, RecordingPublisher(), batch_size=3)
    assert await relay.lag() == 4
    await relay.publish_pending()
    assert await relay.lag() == 1
    assert relay.stats.published == 3


async def test_an_event_stored_by_a_handler_is_relayed_with_its_cause(
    store: EventStore[Any],
) -> None:
    """Emitted through the outbox from a handler, an event keeps its flow and cause."""
    cause = UserRegistered.new(
        user_id=uuid.uuid4(), email="a@b.c", display_name="A", source="users"
    )
    with handling(cause):
        await change_email(store, "u", 0)
    publisher = RecordingPublisher()
    await OutboxRelay(store.recorder, publisher).drain()
    (message,) = publisher.messages
    assert message.header(h.CORRELATION_ID) == str(cause.envelope.correlation_id).encode()
    assert message.header(h.CAUSATION_ID) == str(cause.envelope.event_id).encode()


async def _published_within(publisher: RecordingPublisher, count: int, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while len(publisher.messages) < count:
                await asyncio.sleep(0.01)
    return len(publisher.messages) >= count


async def test_a_commit_wakes_the_relay_before_its_next_poll(
    postgres_recorder: PostgresRecorder, codec: AvroCodec
) -> None:
    """Events committed through the recorder, alone or in a transaction, go out at once,
    not after the relay's (here 30 s) poll interval."""
    store = EventStore(postgres_recorder, codec)
    publisher = RecordingPublisher()
    relay = OutboxRelay(postgres_recorder, publisher, poll_interval=30)
    postgres_recorder.on_commit(relay.wake)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(0.2)  # the relay found nothing and is idle
        await seed(store, users=1, changes=0)
        assert await _published_within(publisher, 1, 5)
        async with store.transaction():
            user = UserRegistered.new(
                user_id=uuid.uuid4(), email="t@example.com", display_name="T", source="users"
            )
            await store.append(str(user.user_id), [user], expected_version=0)
        assert await _published_within(publisher, 2, 5)
    finally:
        stop.set()
        await running
