"""Consuming over Kafka: schema evolution, dead letters, retries, groups, redelivery, causality."""

from __future__ import annotations

import asyncio
import io
import json
import uuid

import fastavro
import httpx
import pytest

from evp.avro.schema import parse_plain
from evp.avro.wire import frame_header
from evp.events import OrderCancelled, OrderPlaced, PaymentProcessed, PaymentRequested
from evp.eventstore.idempotency import InMemoryProcessedEvents, idempotent
from evp.messaging import (
    EventBus,
    GroupProtocol,
    MessageContext,
    MessagingSettings,
    Reason,
)
from evp.messaging.dead_letter_queue import DeadLetterQueue
from evp.messaging.producer import Outgoing

from .probes import DeadLetterRecorder, EventRecorder
from .samples import (
    OrderPlacedV1,
    order_cancelled,
    order_placed,
    payment_processed,
    payment_requested,
)


def _bus(
    settings: MessagingSettings, recorder: EventRecorder, *events: type, **kw: int
) -> EventBus:
    bus = EventBus(settings, service="test")
    bus.subscriber(group="readers", events=events, **kw)(recorder)
    return bus


async def test_a_v2_reader_reads_what_a_v1_producer_wrote(
    messaging_settings: MessagingSettings,
) -> None:
    """An event written with schema v1 is decoded into the v2 class, new fields defaulted."""
    recorder = EventRecorder()
    order = order_placed(shipping_address=None)
    async with _bus(messaging_settings, recorder, OrderPlaced) as bus:
        await bus.publish(OrderPlacedV1(order=order))
        assert await recorder.wait_for(1) == [order]
        v1_id = bus.lookup.id_for(OrderPlacedV1.SUBJECT, OrderPlacedV1.AVRO_SCHEMA)  # cached
    assert recorder.calls[0][1].schema_id == v1_id


async def test_a_v1_reader_reads_what_a_v2_producer_wrote(
    messaging_settings: MessagingSettings,
) -> None:
    """Under FULL_TRANSITIVE, a reader still on v1 reads v2 events, ignoring the new field."""
    recorder = EventRecorder()
    order = order_placed()
    async with _bus(messaging_settings, recorder, OrderPlacedV1) as bus:
        await bus.publish(order)
        (received,) = await recorder.wait_for(1)
    assert isinstance(received, OrderPlacedV1)
    assert received.order.order_id == order.order_id
    assert received.order.shipping_address is None


async def test_events_of_other_types_on_the_topic_are_skipped(
    messaging_settings: MessagingSettings,
) -> None:
    """A group reads only the event types it declared; the others pass without a dead letter."""
    recorder, letters = EventRecorder(), DeadLetterRecorder()
    order = order_placed()
    async with _bus(messaging_settings, recorder, OrderPlaced) as bus:
        bus.on_dead_letter(letters)
        await bus.publish_batch([order_cancelled(order_id=order.order_id), order])
        assert await recorder.wait_for(1) == [order]
    assert letters.notices == []


async def test_an_incompatible_writer_is_dead_lettered_with_its_reason(
    messaging_settings: MessagingSettings, catalog_registry: str
) -> None:
    """A frame whose writer schema the reader cannot read goes to the DLQ, saying why."""
    writer = json.loads(OrderCancelled.AVRO_SCHEMA)
    writer["fields"] = [f for f in writer["fields"] if f["name"] != "reason"]
    writer_text = json.dumps(writer)
    subject = f"{messaging_settings.topic_prefix}scratch-{OrderCancelled.FULL_NAME}"
    response = httpx.post(
        f"{catalog_registry}/subjects/{subject}/versions", json={"schema": writer_text}
    )
    schema_id = response.raise_for_status().json()["id"]
    body = io.BytesIO()
    datum = {k: v for k, v in order_cancelled().to_avro().items() if k != "reason"}
    fastavro.schemaless_writer(body, parse_plain(writer_text), datum)

    recorder, letters = EventRecorder(), DeadLetterRecorder()
    async with _bus(messaging_settings, recorder, OrderCancelled) as bus:
        bus.on_dead_letter(letters)
        topic = bus.topics.of(OrderCancelled)
        await bus.publish_raw(topic, b"k", frame_header(schema_id) + body.getvalue(), [])
        (notice,) = await letters.wait_for(1)
    assert notice.reason is Reason.INCOMPATIBLE_WRITER
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in str(notice.error)
    assert recorder.calls == []


async def test_garbage_bytes_are_dead_lettered_and_the_consumer_goes_on(
    messaging_settings: MessagingSettings,
) -> None:
    """Bytes that are not a wire-format frame are dead-lettered; later events are handled."""
    recorder, letters = EventRecorder(), DeadLetterRecorder()
    order = order_placed()
    async with _bus(messaging_settings, recorder, OrderPlaced) as bus:
        bus.on_dead_letter(letters)
        topic = bus.topics.of(OrderPlaced)
        key = order.key().encode()
        await bus.producer.send([Outgoing(topic, key, b"not avro at all", [])])
        await bus.publish(order)
        (notice,) = await letters.wait_for(1)
        assert await recorder.wait_for(1) == [order]
    assert notice.reason is Reason.WIRE_FORMAT


async def test_an_unknown_schema_id_is_dead_lettered(
    messaging_settings: MessagingSettings,
) -> None:
    """A frame naming a schema id the registry never assigned is dead-lettered."""
    letters = DeadLetterRecorder()
    async with _bus(messaging_settings, EventRecorder(), OrderPlaced) as bus:
        bus.on_dead_letter(letters)
        frame = frame_header(987_654) + b"\x02\x04"
        await bus.producer.send([Outgoing(bus.topics.of(OrderPlaced), b"k", frame, [])])
        (notice,) = await letters.wait_for(1)
    assert notice.reason is Reason.UNKNOWN_SCHEMA_ID
    assert "987654" in str(notice.error)


async def test_a_truncated_body_is_dead_lettered_as_undecodable(
    messaging_settings: MessagingSettings,
) -> None:
    """A frame whose body ends early is dead-lettered as undecodable."""
    letters = DeadLetterRecorder()
    async with _bus(messaging_settings, EventRecorder(), OrderPlaced) as bus:
        bus.on_dead_letter(letters)
        frame = bus.codec.encode(order_placed())[:-20]
        await bus.producer.send([Outgoing(bus.topics.of(OrderPlaced), b"k", frame, [])])
        (notice,) = await letters.wait_for(1)
    assert notice.reason is Reason.UNDECODABLE


async def test_a_failing_handler_is_retried_then_dead_lettered(
    messaging_settings: MessagingSettings,
) -> None:
    """A handler that keeps raising is called 1 + retries times, then its message dead-lettered."""

    failing, fine = order_placed(), order_placed()

    def fail(event: object, context: MessageContext) -> None:
        if event == failing:
            raise ValueError("payment provider down")

    recorder, letters = EventRecorder(fail), DeadLetterRecorder()
    async with _bus(messaging_settings, recorder, OrderPlaced, retries=2) as bus:
        bus.on_dead_letter(letters)
        await bus.publish_batch([failing, fine])
        (notice,) = await letters.wait_for(1)
        await recorder.wait_for(4)
    attempts = [c.attempt for e, c in recorder.calls if e == failing]
    assert attempts == [1, 2, 3]
    assert notice.reason is Reason.HANDLER_FAILED
    assert isinstance(notice.error, ValueError)
    assert fine in recorder.events


async def test_a_handler_that_recovers_is_not_dead_lettered(
    messaging_settings: MessagingSettings,
) -> None:
    """A handler failing once and then succeeding leaves no dead letter."""

    def flaky(event: object, context: MessageContext) -> None:
        if context.attempt == 1:
            raise ConnectionError("blip")

    recorder, letters = EventRecorder(flaky), DeadLetterRecorder()
    async with _bus(messaging_settings, recorder, OrderPlaced, retries=3) as bus:
        bus.on_dead_letter(letters)
        await bus.publish(order_placed())
        await recorder.wait_for(2)
    assert [c.attempt for _, c in recorder.calls] == [1, 2]
    assert letters.notices == []


async def test_a_dead_letter_keeps_the_message_and_says_where_it_came_from(
    messaging_settings: MessagingSettings, kafka_bootstrap_servers: str
) -> None:
    """The dead letter holds the original key and value, the reason, error and position."""
    letters = DeadLetterRecorder()
    async with _bus(messaging_settings, EventRecorder(), OrderPlaced) as bus:
        bus.on_dead_letter(letters)
        topic = bus.topics.of(OrderPlaced)
        (sent,) = await bus.producer.send([Outgoing(topic, b"key-1", b"\x01junk", [("a", b"b")])])
        await letters.wait_for(1)
    queue = DeadLetterQueue({"bootstrap.servers": kafka_bootstrap_servers})
    (letter,) = queue.letters(topic)
    assert (letter.key, letter.value) == (b"key-1", b"\x01junk")
    assert (letter.reason, letter.error_type) == ("wire-format", "WireFormatError")
    assert "magic byte" in letter.error_message
    assert (letter.original_topic, letter.original_partition) == (topic, sent.partition)
    assert letter.original_offset == sent.offset
    assert letter.original_timestamp is not None
    assert (letter.group, letter.attempts) == ("readers", 0)
    assert ("a", b"b") in letter.headers


@pytest.mark.parametrize("protocol", list(GroupProtocol))
async def test_two_consumers_of_a_group_share_the_partitions(
    messaging_settings: MessagingSettings, protocol: GroupProtocol
) -> None:
    """Two members of one group split the partitions; each event is handled by one of them."""
    # The classic protocol's rebalance waits up to a session timeout less one second.
    messaging_settings = messaging_settings.replace(
        group_protocol=protocol, session_timeout_ms=3000
    )
    handled: dict[uuid.UUID, list[str]] = {}
    everything = asyncio.Event()
    batch = [order_placed() for _ in range(24)]

    def member(name: str) -> EventBus:
        bus = EventBus(messaging_settings, service=name)

        @bus.subscriber(group="shared", events=(OrderPlaced,))
        async def handle(event: OrderPlaced, context: MessageContext) -> None:
            handled.setdefault(event.envelope.event_id, []).append(name)
            if len(handled) == len(batch):
                everything.set()

        return bus

    async with member("a") as first:
        await first.wait_assigned()
        async with member("b") as second:
            await second.wait_assigned()
            await second.publish_batch(batch)
            await asyncio.wait_for(everything.wait(), 15)
            owned_by_a = set(first.subscribers[0].assignment())
            owned_by_b = set(second.subscribers[0].assignment())
    assert owned_by_a
    assert owned_by_b
    assert not owned_by_a & owned_by_b
    assert all(len(names) == 1 for names in handled.values())
    assert {names[0] for names in handled.values()} == {"a", "b"}


async def test_a_consumer_cut_off_before_commit_redelivers_and_the_duplicate_is_ignored(
    messaging_settings: MessagingSettings,
) -> None:
    """A handler killed after its work but before the commit sees its event again; the
    idempotent helper keeps the work from being done twice."""
    settings = messaging_settings.replace(shutdown_timeout=0.2)
    processed = InMemoryProcessedEvents()
    effects: list[uuid.UUID] = []
    deliveries = EventRecorder()

    @idempotent(processed)
    async def work(event: OrderPlaced, context: MessageContext) -> None:
        effects.append(event.order_id)

    crashing = EventBus(settings, service="orders")

    @crashing.subscriber(group="fulfilment", events=(OrderPlaced,))
    async def work_then_hang(event: OrderPlaced, context: MessageContext) -> None:
        await deliveries(event, context)
        await work(event, context)
        await asyncio.Event().wait()  # dies here: the offset is never committed

    order = order_placed()
    async with crashing:
        await crashing.publish(order)
        await deliveries.wait_for(1)

    restarted = EventBus(settings, service="orders")

    @restarted.subscriber(group="fulfilment", events=(OrderPlaced,))
    async def work_again(event: OrderPlaced, context: MessageContext) -> None:
        await deliveries(event, context)
        await work(event, context)

    async with restarted:
        await deliveries.wait_for(2)
    assert deliveries.events == [order, order]
    assert effects == [order.order_id]


async def test_a_graceful_stop_commits_what_was_handled(
    messaging_settings: MessagingSettings,
) -> None:
    """After a clean stop, the group's next consumer starts after the handled events."""
    first = order_placed()
    earlier = [first, *(order_placed(order_id=first.order_id) for _ in range(2))]
    recorder = EventRecorder()
    async with _bus(messaging_settings, recorder, OrderPlaced) as bus:
        await bus.publish_batch(earlier)
        await recorder.wait_for(3)
    later = order_placed(order_id=first.order_id)
    again = EventRecorder()
    async with _bus(messaging_settings, again, OrderPlaced) as bus:
        await bus.publish(later)
        assert await again.wait_for(1) == [later]


async def test_a_member_joining_a_topic_read_to_its_end_reports_no_lag(
    messaging_settings: MessagingSettings,
) -> None:
    """Lag counts from the group's committed offsets, not from the partition's start."""
    first = order_placed()
    earlier = [first, *(order_placed(order_id=first.order_id) for _ in range(4))]
    recorder = EventRecorder()
    async with _bus(messaging_settings, recorder, OrderPlaced) as bus:
        await bus.publish_batch(earlier)
        await recorder.wait_for(5)
    async with _bus(messaging_settings, EventRecorder(), OrderPlaced) as bus:
        (subscriber,) = bus.subscribers
        await subscriber.wait_assigned()
        async with asyncio.timeout(10):
            while not subscriber.lag() or any(subscriber.lag().values()):
                await asyncio.sleep(0.05)
        lag = subscriber.lag()
    assert lag
    assert set(lag.values()) == {0}


async def test_correlation_and_causation_follow_a_chain_of_two_handlers(
    messaging_settings: MessagingSettings,
) -> None:
    """Events published by handlers (without caused_by) carry the flow's correlation id and
    each names the event it reacted to as its cause."""
    bus = EventBus(messaging_settings, service="shop")
    outcome = EventRecorder()

    @bus.subscriber(group="orders", events=(OrderPlaced,))
    async def request_payment(event: OrderPlaced, context: MessageContext) -> None:
        await bus.publish(payment_requested(event))

    @bus.subscriber(group="payments", events=(PaymentRequested,))
    async def take_payment(event: PaymentRequested, context: MessageContext) -> None:
        await bus.publish(payment_processed(event))

    bus.subscriber(group="audit", events=(PaymentRequested, PaymentProcessed))(outcome)
    order = order_placed()
    async with bus:
        await bus.publish(order)
        received = await outcome.wait_for(2)
    request = next(e for e in received if isinstance(e, PaymentRequested))
    payment = next(e for e in received if isinstance(e, PaymentProcessed))
    flow = order.envelope.correlation_id
    assert request.envelope.correlation_id == payment.envelope.correlation_id == flow
    assert request.envelope.causation_id == order.envelope.event_id
    assert payment.envelope.causation_id == request.envelope.event_id
    (payment_context,) = [c for e, c in outcome.calls if e is payment]
    assert payment_context.header("correlation-id") == str(flow).encode()
