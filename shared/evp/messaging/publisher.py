"""Publishing typed events, and already-framed bytes, with the registry as the authority.

The hot path is small steps: event class -> topic and schema id (resolved once, off the
event loop, and cached) -> wire-format frame (the codec) -> headers -> produce -> await the
delivery report. Everything that can refuse an event (an unregistered or incompatible
schema, a value its schema cannot encode, bytes that are not a frame of a known schema)
runs before anything is handed to Kafka, so a refusal never leaves bytes behind.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, overload

from evp.avro import AvroCodec, SchemaLookup
from evp.avro.record import Event
from evp.avro.wire import read_header
from evp.messaging.context import handled_event, linked_to_handled
from evp.messaging.headers import headers_of_values
from evp.messaging.producer import AsyncProducer, Deliveries, Delivery, Outgoing
from evp.messaging.topics import TopicAdmin, TopicNames

__all__ = ["Published", "PublishedBatch", "Publisher", "RawPublisher"]

E = TypeVar("E", bound=Event)


class Published(NamedTuple, Generic[E]):
    """An event as it was published (causal links filled in) and where Kafka wrote it."""

    event: E
    delivery: Delivery


class PublishedBatch(Sequence[Published[E]]):
    """The events of a batch as published, with their deliveries, built on access."""

    __slots__ = ("_deliveries", "_events")

    def __init__(self, events: list[E], deliveries: Deliveries) -> None:
        self._events = events
        self._deliveries = deliveries

    @overload
    def __getitem__(self, index: int) -> Published[E]: ...
    @overload
    def __getitem__(self, index: slice) -> list[Published[E]]: ...
    def __getitem__(self, index: int | slice) -> Published[E] | list[Published[E]]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        return Published(self._events[index], self._deliveries[index])

    def __len__(self) -> int:
        return len(self._events)


class RawPublisher(Protocol):
    """Publishes messages that are already in the wire format, without re-encoding them.

    The event store's outbox relay uses it to send the bytes it stored in the same
    transaction as the state change that produced them.
    """

    async def publish_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> Delivery:
        """Write ``value`` to ``topic`` and return once Kafka confirmed it.

        Refuses (raising before anything is sent) a value that is not a wire-format frame
        (:class:`~evp.avro.WireFormatError`) or whose schema id the registry does not know
        (:class:`~evp.avro.UnknownSchemaId`); raises
        :class:`~evp.messaging.errors.DeliveryFailed` when Kafka does not confirm it.
        """
        ...


class Publisher:
    """Encodes events with the codec and produces them; implements :class:`RawPublisher`."""

    def __init__(
        self,
        producer: AsyncProducer,
        codec: AvroCodec,
        lookup: SchemaLookup,
        *,
        topics: TopicNames,
        admin: TopicAdmin,
    ) -> None:
        self._producer = producer
        self._codec = codec
        self._lookup = lookup
        self._topics = topics
        self._admin = admin
        self._ready: dict[type[Event], str] = {}
        self._known_ids: set[int] = set()
        self._ensured: set[str] = set()

    async def prepare(self, event_types: Iterable[type[Event]]) -> None:
        """Resolve the schema ids and topics of ``event_types`` now, rather than on first use.

        Raises :class:`~evp.avro.SchemaNotRegistered` (strict mode) or
        :class:`~evp.messaging.errors.IncompatibleSchema` (development mode) for a type
        that may not be published, so a service finds out at start-up.
        """
        missing = [t for t in dict.fromkeys(event_types) if t not in self._ready]
        if missing:
            await asyncio.get_running_loop().run_in_executor(None, self._prepare, missing)

    async def publish(self, event: E) -> Published[E]:
        """Publish ``event`` and return once Kafka confirmed it.

        Inside a handler, an event built as the start of a new flow is linked to the
        handled event (its correlation id, and it as the cause). Raises before sending
        anything when the event's schema is refused or its values cannot be encoded;
        raises :class:`~evp.messaging.errors.DeliveryFailed` when Kafka does not confirm.
        """
        event = linked_to_handled(event)
        message = await self._outgoing(event)
        (delivery,) = await self._producer.send([message])
        return Published(event, delivery)

    async def publish_batch(self, events: Sequence[Event]) -> PublishedBatch[Event]:
        """Publish ``events`` (in order per key) and return once Kafka confirmed them all.

        Every event is encoded before any is sent, so a refused event sends none. A failed
        delivery raises :class:`~evp.messaging.errors.DeliveryFailed` naming how many were
        not confirmed; the others were written.
        """
        linked = [linked_to_handled(e) for e in events] if handled_event() else list(events)
        await self.prepare(type(event) for event in linked)
        # Each event framed in one step, so its plain values are freed while still cached.
        encode = self._encode
        messages = [encode(event) for event in linked]
        return PublishedBatch(linked, await self._producer.send(messages))

    async def publish_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> Delivery:
        """Write an already-framed ``value`` to ``topic`` (see :class:`RawPublisher`)."""
        (delivery,) = await self.publish_many_raw([Outgoing(topic, key, value, list(headers))])
        return delivery

    async def publish_many_raw(self, messages: Sequence[Outgoing]) -> Deliveries:
        """Write already-framed messages (each checked as by :meth:`publish_raw`) as one batch."""
        for message in messages:
            schema_id = read_header(message.value)
            if schema_id not in self._known_ids or message.topic not in self._ensured:
                await asyncio.get_running_loop().run_in_executor(
                    None, self._check_raw, message.topic, schema_id
                )
        return await self._producer.send(messages)

    async def _outgoing(self, event: Event) -> Outgoing:
        if type(event) not in self._ready:
            await self.prepare([type(event)])
        return self._encode(event)

    def _encode(self, event: Event) -> Outgoing:
        frame, values = self._codec.encode_values(event)
        return Outgoing(
            self._ready[type(event)],
            _key(event, values),
            frame,
            headers_of_values(event.FULL_NAME, values["envelope"]),
        )

    def _prepare(self, event_types: list[type[Event]]) -> None:
        """Blocking: ensure topics, resolve schema ids (the registry may refuse them)."""
        topics = {t: self._topics.of(t) for t in event_types}
        for event_type in event_types:
            self._known_ids.add(self._codec.prepare(event_type))
        self._ensure(topics.values())
        self._ready.update(topics)

    def _check_raw(self, topic: str, schema_id: int) -> None:
        self._lookup.schema_by_id(schema_id)
        self._known_ids.add(schema_id)
        self._ensure([topic])

    def _ensure(self, topics: Iterable[str]) -> None:
        wanted = set(topics) - self._ensured
        if wanted:
            self._admin.ensure(wanted)
            self._ensured.update(wanted)


def _key(event: Event, values: dict[str, Any]) -> bytes:
    name = event.KEY_FIELD
    # For a UUID or a string, key() is the text the values hold already; other types
    # (an enum's text in the values is not its str()) ask key().
    if isinstance(getattr(event, name, None), uuid.UUID | str):
        text: str = values[name]
        return text.encode()
    return event.key().encode()
