"""The message processor's plans: bounded, shared between askers, made off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

from confluent_kafka import Message

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.avro.wire import frame_header, read_header
from evp.events import OrderPlaced
from evp.messaging.message import MessageContext
from evp.messaging.processor import Backoff, MessageProcessor, Slot
from evp.messaging.producer import Delivery, Outgoing
from evp.messaging.subscription import Subscription
from evp.messaging.verdicts import ReadVerdicts
from evp.testing.loop import ticking

from .samples import order_placed


class _CountingLookup(InMemorySchemaLookup):
    """An in-memory registry that counts lookups by id and may answer slowly."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.by_id_calls = 0
        self.delay = delay
        self._count_lock = threading.Lock()

    def schema_by_id(self, schema_id: int) -> str:
        with self._count_lock:
            self.by_id_calls += 1
        time.sleep(self.delay)  # a slow registry: this must never run on the event loop
        return super().schema_by_id(schema_id)


class _Producer:
    """Confirms every dead letter at once."""

    max_message_bytes = 1_000_000

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, messages: Sequence[Outgoing]) -> list[Delivery]:
        self.sent.extend(messages)
        return [Delivery(m.topic, 0, len(self.sent)) for m in messages]


def _processor(lookup: _CountingLookup, producer: _Producer) -> MessageProcessor:
    subscription = Subscription("readers")
    handled: list[object] = []

    async def handle(event: object, context: MessageContext) -> None:
        handled.append(event)

    subscription.add([OrderPlaced], handle, retries=0, timeout=5.0)
    return MessageProcessor(
        subscription,
        codec=AvroCodec(lookup),
        verdicts=ReadVerdicts(),
        producer=producer,  # type: ignore[arg-type]
        backoff=Backoff(0.01, 0.01),
        stopping=lambda: False,
    )


def _message(value: bytes, offset: int = 0) -> Message:
    return Message(topic="orders", partition=0, offset=offset, key=b"k", value=value)


async def test_made_up_schema_ids_do_not_grow_the_plans_without_bound() -> None:
    """A stream of ids nobody registered leaves at most a bounded number of plans."""
    lookup, producer = _CountingLookup(), _Producer()
    processor = _processor(lookup, producer)
    for schema_id in range(1, 3001):
        await processor.process(_message(frame_header(schema_id) + b"\x00", schema_id), Slot())
    assert len(producer.sent) == 3000  # every one dead-lettered
    assert processor.cached_plans <= 1024


async def test_concurrent_messages_of_one_new_schema_id_ask_the_registry_once() -> None:
    """Partitions meeting a new writer id at the same time share one registry call."""
    lookup, producer = _CountingLookup(delay=0.05), _Producer()
    processor = _processor(lookup, producer)
    value = _encoded(lookup)
    schema_id = lookup.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA)
    await asyncio.gather(*(processor.process(_message(value, n), Slot()) for n in range(10)))
    assert lookup.by_id_calls == 1
    assert producer.sent == []
    assert processor.cached_plans == 1
    assert schema_id == read_header(value)


async def test_a_slow_registry_does_not_block_the_event_loop() -> None:
    """While the registry takes its time over a new id, the loop keeps running other work."""
    lookup, producer = _CountingLookup(delay=0.3), _Producer()
    processor = _processor(lookup, producer)
    value = _encoded(lookup)
    async with ticking() as ticks:
        await processor.process(_message(value), Slot())
    assert ticks.count >= 10


def _encoded(lookup: _CountingLookup) -> bytes:
    """An OrderPlaced frame, its schema registered, without counting as a lookup by id."""
    lookup.register(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA)
    value = AvroCodec(lookup).encode(order_placed())
    lookup.by_id_calls = 0
    return value
