"""Publishing over Kafka: typed events round-trip, refusals send nothing, headers are set."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evp.avro import EncodeError, SchemaNotRegistered, UnknownSchemaId, WireFormatError
from evp.avro.record import Event
from evp.avro.wire import frame_header
from evp.events import EVENT_TYPES, OrderCancelled, OrderPlaced
from evp.messaging import EventBus, IncompatibleSchema, MessagingSettings
from evp.messaging import headers as h
from evp.settings import SchemaMode
from evp.testing.strategies import events

from .probes import EventRecorder, topic_messages
from .samples import order_cancelled, order_placed, payment_requested, schema_version

EVENT_CLASSES = [EVENT_TYPES[name] for name in sorted(EVENT_TYPES)]


@settings(max_examples=2, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.tuples(*(events(cls) for cls in EVENT_CLASSES)), run=st.uuids())
def test_every_event_type_round_trips(
    messaging_settings: MessagingSettings, batch: tuple[Any, ...], run: uuid.UUID
) -> None:
    """Each event type, published and consumed over Kafka, arrives equal to what was sent."""
    # Each example gets topics of its own, or it would also read the previous one's events.
    settings = messaging_settings.replace(topic_prefix=f"{messaging_settings.topic_prefix}{run}.")
    asyncio.run(_round_trip(settings, list(batch)))


async def _round_trip(settings: MessagingSettings, batch: list[Event]) -> None:
    bus = EventBus(settings, service="test")
    recorder = EventRecorder()
    bus.subscriber(group="all", events=EVENT_CLASSES)(recorder)
    async with bus:
        await bus.publish_batch(batch)
        received = await recorder.wait_for(len(batch))
    key = lambda e: e.envelope.event_id  # noqa: E731
    assert sorted(received, key=key) == sorted(batch, key=key)


async def test_publish_confirms_where_kafka_wrote_the_event(
    messaging_settings: MessagingSettings,
) -> None:
    """publish returns the topic, partition and offset Kafka confirmed."""
    async with EventBus(messaging_settings, service="orders") as bus:
        published = await bus.publish(order_placed())
    assert published.delivery.topic == messaging_settings.topic_prefix + "orders"
    assert published.delivery.offset >= 0


async def test_every_message_carries_the_event_headers(
    messaging_settings: MessagingSettings, kafka_bootstrap_servers: str
) -> None:
    """The message on the topic has the event's headers, with the aggregate id as key."""
    order = order_placed()
    async with EventBus(messaging_settings, service="orders") as bus:
        published = await bus.publish(order)
    (message,) = topic_messages(kafka_bootstrap_servers, published.delivery.topic)
    assert message.key() == str(order.order_id).encode()
    assert dict(h.headers_of(message)) == dict(h.event_headers(order))


async def test_a_batch_carries_the_same_keys_and_headers_as_single_publishes(
    messaging_settings: MessagingSettings, kafka_bootstrap_servers: str
) -> None:
    """publish_batch frames keys and headers as publish does, causation included."""
    order = order_placed()
    batch: list[Event] = [order, payment_requested(order, caused_by=order)]
    async with EventBus(messaging_settings, service="orders") as bus:
        published = await bus.publish_batch(batch)
    messages = topic_messages(kafka_bootstrap_servers, published[0].delivery.topic)
    assert [(m.key(), dict(h.headers_of(m))) for m in messages] == [
        (event.key().encode(), dict(h.event_headers(event))) for event in batch
    ]


async def test_events_of_one_aggregate_keep_their_order(
    messaging_settings: MessagingSettings, kafka_bootstrap_servers: str
) -> None:
    """Events with one key land in one partition, in the order published."""
    first = order_placed()
    batch = [first, *(order_placed(order_id=first.order_id) for _ in range(4))]
    async with EventBus(messaging_settings, service="orders") as bus:
        published = await bus.publish_batch(batch)
    assert len({p.delivery.partition for p in published}) == 1
    offsets = [p.delivery.offset for p in published]
    assert offsets == sorted(offsets)


async def test_strict_mode_refuses_an_unregistered_schema_and_sends_nothing(
    messaging_settings: MessagingSettings, schema_registry: str, kafka_bootstrap_servers: str
) -> None:
    """Publishing a type whose schema is not registered raises, and the topic stays empty."""
    settings = messaging_settings.replace(schema_registry_url=schema_registry)
    async with EventBus(settings, service="orders") as bus:
        with pytest.raises(SchemaNotRegistered, match=r"orders-shop\.orders\.OrderPlaced"):
            await bus.publish(order_placed())
    assert topic_messages(kafka_bootstrap_servers, settings.topic_prefix + "orders") == []


async def test_a_value_its_schema_cannot_hold_is_a_typed_error_and_sends_nothing(
    messaging_settings: MessagingSettings, kafka_bootstrap_servers: str
) -> None:
    """A total with three decimal places in a batch raises EncodeError; no event is sent."""
    good = order_placed()
    bad = dataclasses.replace(order_placed(), total=Decimal("1.005"))
    async with EventBus(messaging_settings, service="orders") as bus:
        with pytest.raises(EncodeError, match="decimal place"):
            await bus.publish_batch([good, bad])
    topic = messaging_settings.topic_prefix + "orders"
    assert topic_messages(kafka_bootstrap_servers, topic) == []


async def test_strict_mode_refuses_a_declared_type_at_start_up(
    messaging_settings: MessagingSettings, schema_registry: str
) -> None:
    """A bus declaring an unregistered type fails to start."""
    settings = messaging_settings.replace(schema_registry_url=schema_registry)
    bus = EventBus(settings, service="orders", publishes=(OrderPlaced,))
    with pytest.raises(SchemaNotRegistered):
        await bus.start()
    assert not bus.running


async def test_development_mode_registers_a_compatible_schema_and_publishes(
    messaging_settings: MessagingSettings, schema_registry: str
) -> None:
    """In development mode a compatible new version is registered, then published."""
    v1 = schema_version(OrderCancelled.SUBJECT, 1)
    httpx.post(
        f"{schema_registry}/subjects/{OrderCancelled.SUBJECT}/versions", json={"schema": v1}
    ).raise_for_status()
    settings = messaging_settings.replace(
        schema_registry_url=schema_registry, schema_mode=SchemaMode.DEVELOPMENT
    )
    bus = EventBus(settings, service="orders")
    recorder = EventRecorder()
    bus.subscriber(group="audit", events=(OrderCancelled,))(recorder)
    cancelled = order_cancelled()
    async with bus:
        await bus.publish(cancelled)
        assert await recorder.wait_for(1) == [cancelled]
    versions = httpx.get(f"{schema_registry}/subjects/{OrderCancelled.SUBJECT}/versions").json()
    assert versions == [1, 2]


async def test_development_mode_refuses_an_incompatible_schema_and_sends_nothing(
    messaging_settings: MessagingSettings, schema_registry: str, kafka_bootstrap_servers: str
) -> None:
    """A schema the registry finds incompatible raises with its reasons; nothing is sent."""
    older = json.loads(OrderCancelled.AVRO_SCHEMA)
    older["fields"] = [f for f in older["fields"] if f["name"] != "reason"]
    httpx.post(
        f"{schema_registry}/subjects/{OrderCancelled.SUBJECT}/versions",
        json={"schema": json.dumps(older)},
    ).raise_for_status()
    settings = messaging_settings.replace(
        schema_registry_url=schema_registry, schema_mode=SchemaMode.DEVELOPMENT
    )
    async with EventBus(settings, service="orders") as bus:
        with pytest.raises(IncompatibleSchema) as refused:
            await bus.publish(order_cancelled())
    assert refused.value.reasons
    assert topic_messages(kafka_bootstrap_servers, settings.topic_prefix + "orders") == []


async def test_publish_raw_sends_the_bytes_unchanged(
    messaging_settings: MessagingSettings, kafka_bootstrap_servers: str
) -> None:
    """Already-framed bytes are written as they are, key and headers included."""
    order = order_placed()
    async with EventBus(messaging_settings, service="relay") as bus:
        frame = bus.codec.encode(order)
        topic = messaging_settings.topic_prefix + "orders"
        await bus.publish_raw(topic, b"k", frame, [("x", b"1")])
    (message,) = topic_messages(kafka_bootstrap_servers, topic)
    assert (message.key(), message.value(), h.headers_of(message)) == (b"k", frame, [("x", b"1")])


async def test_publish_raw_refuses_an_unknown_schema_id(
    messaging_settings: MessagingSettings, kafka_bootstrap_servers: str
) -> None:
    """A frame naming a schema id the registry does not know is refused; nothing is sent."""
    topic = messaging_settings.topic_prefix + "orders"
    async with EventBus(messaging_settings, service="relay") as bus:
        with pytest.raises(UnknownSchemaId):
            await bus.publish_raw(topic, b"k", frame_header(999_999) + b"\x00", [])
    assert topic_messages(kafka_bootstrap_servers, topic) == []


async def test_publish_raw_refuses_bytes_that_are_not_a_frame(
    messaging_settings: MessagingSettings,
) -> None:
    """Bytes without the wire-format header are refused before anything is sent."""
    async with EventBus(messaging_settings, service="relay") as bus:
        with pytest.raises(WireFormatError):
            await bus.publish_raw(messaging_settings.topic_prefix + "orders", b"k", b"{}", [])
