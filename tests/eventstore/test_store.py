"""The typed event store: generated events in, wire-format frames stored, current classes out."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from typing import Any

import fastavro
import pytest

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.avro.wire import frame_header
from evp.causation import handling, linked_to_handled
from evp.contract.catalog import load_catalog
from evp.events import (
    EmailChanged,
    UserRegistered,
)
from evp.eventstore import (
    EventStore,
    NewEvent,
    PostgresRecorder,
    UnknownEventType,
    codec_from_store,
)
from evp.testing.samples import order_line, order_placed

from .conftest import SCHEMAS


def registered(user_id: uuid.UUID | None = None, email: str = "ada@example.com") -> UserRegistered:
    """A new UserRegistered event."""
    return UserRegistered.new(
        user_id=user_id or uuid.uuid4(), email=email, display_name="Ada", source="users"
    )


def v1_frame(lookup: InMemorySchemaLookup, event: UserRegistered) -> bytes:
    """``event`` as the v1 writer (before marketing_opt_in existed) would have framed it."""
    catalog = load_catalog(SCHEMAS)
    text = catalog.subjects[UserRegistered.SUBJECT].versions[0].schema_text
    datum = {k: v for k, v in event.to_avro().items() if k != "marketing_opt_in"}
    buffer = io.BytesIO()
    buffer.write(frame_header(lookup.id_for(UserRegistered.SUBJECT, text)))
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(json.loads(text)), datum)
    return buffer.getvalue()


async def test_appended_events_load_back_equal(store: EventStore[Any]) -> None:
    """Events of two classes in one stream load back as equal objects, in order."""
    user = registered()
    changed = EmailChanged.new(
        user_id=user.user_id, previous_email=user.email, new_email="b@x.io", source="users"
    )
    assert await store.append(str(user.user_id), [user, changed], expected_version=0) == 2
    assert await store.load(str(user.user_id)) == [user, changed]


async def test_events_are_stored_as_wire_format_frames(
    store: EventStore[Any], codec: AvroCodec
) -> None:
    """The stored bytes are the codec's frame, carrying the registered schema id."""
    event = registered()
    await store.append("u", [event], expected_version=0)
    (stored,) = await store.recorder.read_stream("u")
    assert stored.data == codec.encode(event)
    assert (stored.event_id, stored.event_type) == (event.envelope.event_id, event.FULL_NAME)
    assert stored.correlation_id == event.envelope.correlation_id


async def test_v1_events_in_the_store_load_as_v2_objects(
    store: EventStore[Any], lookup: InMemorySchemaLookup
) -> None:
    """A UserRegistered written with schema v1 loads as today's class, default filled."""
    old = registered()
    envelope = old.envelope
    stored = NewEvent(
        envelope.event_id, old.FULL_NAME, v1_frame(lookup, old), envelope.correlation_id
    )
    await store.recorder.append("u", 0, [stored])
    (loaded,) = await store.load("u")
    assert isinstance(loaded, UserRegistered)
    assert loaded.marketing_opt_in is False
    assert (loaded.email, loaded.envelope) == (old.email, old.envelope)


async def test_history_carries_versions_positions_and_times(store: EventStore[Any]) -> None:
    """Each recorded event says where and when it was stored."""
    await store.append("a", [registered()], expected_version=0)
    await store.append("b", [registered()], expected_version=0)
    (recorded,) = await store.history("b")
    assert (recorded.stream_id, recorded.stream_version, recorded.position) == ("b", 1, 2)
    assert recorded.recorded_at.tzinfo is not None


async def test_read_all_decodes_every_stream_in_position_order(store: EventStore[Any]) -> None:
    """The global feed decodes events of all streams in the order they were stored."""
    first, second = registered(), registered()
    await store.append("a", [first], expected_version=0)
    await store.append("b", [second], expected_version=0)
    assert [r.event for r in await store.read_all()] == [first, second]


async def test_appends_join_a_transaction(store: EventStore[Any]) -> None:
    """Within a transaction the append is stored only when it commits."""
    async with store.transaction() as transaction:
        await store.append("u", [registered()], expected_version=0, transaction=transaction)
        assert await store.load("u") == []
    assert len(await store.load("u")) == 1


async def test_reads_in_a_transaction_take_no_second_connection(
    evp_database: str, codec: AvroCodec
) -> None:
    """With a pool of one connection, loading inside a transaction still answers."""
    recorder = await PostgresRecorder.connect(evp_database, max_connections=1)
    try:
        store = EventStore(recorder, codec)
        await store.append("u", [registered()], expected_version=0)
        async with asyncio.timeout(5), store.transaction():
            loaded = await store.load("u")
            version = await store.stream_version("u")
    finally:
        await recorder.close()
    assert (len(loaded), version) == (1, 1)


async def test_a_prepared_type_appends_in_a_transaction_on_its_one_connection(
    evp_database: str, codec: AvroCodec
) -> None:
    """Schemas kept at start-up: the first append in a transaction needs no second connection."""
    recorder = await PostgresRecorder.connect(evp_database, max_connections=1)
    try:
        store = EventStore(recorder, codec)
        await store.prepare([UserRegistered])
        async with asyncio.timeout(5), store.transaction():
            await store.append("u", [registered()], expected_version=0)
        stored = await recorder.schemas()
    finally:
        await recorder.close()
    assert UserRegistered.AVRO_SCHEMA in stored.values()


async def test_an_event_type_without_a_class_cannot_be_decoded(store: EventStore[Any]) -> None:
    """Reading a stored event of an unknown type raises, naming the type and position."""
    await store.recorder.append("u", 0, [NewEvent(uuid.uuid4(), "shop.Gone", b"\0", uuid.uuid4())])
    with pytest.raises(UnknownEventType) as raised:
        await store.load("u")
    assert raised.value.event_type == "shop.Gone"
    with pytest.raises(UnknownEventType) as raised:
        await store.history("u")
    assert raised.value.position == 1


async def test_the_store_keeps_writer_schemas_to_read_without_a_registry(
    store: EventStore[Any],
) -> None:
    """A codec built from the store's own schemas decodes what was appended."""
    order = order_placed(lines=[order_line("SKU-1", 1, "9.99")], shipping_address=None)
    await store.append("o", [order, registered()], expected_version=0)
    offline = EventStore(store.recorder, await codec_from_store(store.recorder))
    assert (await offline.load("o"))[0] == order


async def test_an_event_appended_while_handling_is_caused_by_the_handled_event(
    store: EventStore[Any],
) -> None:
    """Built without links inside a handler, it is stored in the handled event's flow."""
    cause = registered()
    effect = EmailChanged.new(
        user_id=cause.user_id, previous_email="a@b.c", new_email="d@e.f", source="users"
    )
    with handling(cause):
        await store.append("u", [effect], expected_version=0)
    (stored,) = await store.recorder.read_stream("u")
    assert (stored.correlation_id, stored.causation_id) == (
        cause.envelope.correlation_id,
        cause.envelope.event_id,
    )
    (loaded,) = await store.load("u")
    assert loaded.envelope.causation_id == cause.envelope.event_id


async def test_appending_links_events_by_the_rule_publishing_uses(
    store: EventStore[Any],
) -> None:
    """An append in a transaction stores exactly the links the bus's publish would send."""
    cause = registered()
    flow = uuid.uuid4()
    effect = EmailChanged.new(
        user_id=cause.user_id,
        previous_email="a@b.c",
        new_email="d@e.f",
        source="users",
        correlation_id=flow,
    )
    with handling(cause):
        published = linked_to_handled(effect)
        async with store.transaction() as transaction:
            await store.append("u", [effect], expected_version=0, transaction=transaction)
    (stored,) = await store.recorder.read_stream("u")
    envelope = published.envelope
    assert (stored.correlation_id, stored.causation_id) == (flow, envelope.causation_id)
    assert envelope.causation_id == cause.envelope.event_id


async def test_an_event_appended_outside_a_handler_keeps_its_own_links(
    store: EventStore[Any],
) -> None:
    """With nothing being handled, the event starts its own flow."""
    event = registered()
    await store.append("u", [event], expected_version=0)
    (stored,) = await store.recorder.read_stream("u")
    assert (stored.correlation_id, stored.causation_id) == (event.envelope.event_id, None)
