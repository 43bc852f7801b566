"""The typed event store: generated event classes in and out, wire-format frames stored.

:class:`EventStore` sits on a recorder and an :class:`~evp.avro.AvroCodec`. Appending
encodes each event with its class's registered schema (the frame carries the schema id);
reading decodes each frame into the *current* generated class named by its event type, so
an event written with an older schema comes back as today's class, new fields defaulted.

Appending applies the same causation rule as publishing (:func:`evp.causation.linked_to_handled`):
an event built without links while a handler runs is stored as a reaction to the handled
event, so it keeps its flow when the outbox relay publishes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from typing import Generic, TypeVar

from evp.avro import AvroCodec, Event
from evp.causation import linked_to_handled
from evp.events import EVENT_TYPES
from evp.eventstore.errors import UnknownEventType
from evp.eventstore.recorder import NewEvent, StoredEvent, TrackingRecorder, Transaction
from evp.eventstore.unit_of_work import current_transaction, joined

__all__ = ["EventStore", "Recorded"]

T = TypeVar("T", bound=Transaction)
E_co = TypeVar("E_co", bound=Event, covariant=True)


@dataclasses.dataclass(frozen=True, slots=True)
class Recorded(Generic[E_co]):
    """A decoded event with where and when it was recorded."""

    event: E_co
    stream_id: str
    stream_version: int
    position: int
    recorded_at: datetime.datetime


class EventStore(Generic[T]):
    """Appends and reads generated events through a recorder, as wire-format frames.

    ``event_types`` maps stored event types (record full names) to the classes to decode
    them into; it defaults to every generated event.
    """

    def __init__(
        self,
        recorder: TrackingRecorder[T],
        codec: AvroCodec,
        *,
        event_types: Mapping[str, type[Event]] = EVENT_TYPES,
    ) -> None:
        self._recorder = recorder
        self._codec = codec
        self._event_types = event_types
        # Classes whose writer schema the store already keeps (recorded once per process).
        self._schemas_kept: set[type[Event]] = set()

    @property
    def recorder(self) -> TrackingRecorder[T]:
        """The recorder underneath, for position-level readers such as the outbox relay."""
        return self._recorder

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[T]:
        """A recorder transaction, to append together with tracking and the caller's changes.

        Inside the block this store's appends join it and its reads (:meth:`load`,
        :meth:`stream_version`) run on its connection, so a unit of work never holds two
        connections of the pool at once.
        """
        async with self._recorder.transaction() as transaction:
            with joined(self._recorder, transaction):
                yield transaction

    # -- writing ------------------------------------------------------------------------

    def encode(self, event: Event) -> NewEvent:
        """``event`` as the recorder stores it: its frame, its envelope's metadata and its key.

        The key is the one ``EventBus.publish`` sends (the catalog key's value), so the
        outbox relay publishes the event exactly as the bus would.

        Inside a handler, an event built as the start of a new flow is linked to the
        handled event first, as :meth:`append` and the bus's publish do.
        """
        event = linked_to_handled(event)
        envelope = event.envelope
        return NewEvent(
            event_id=envelope.event_id,
            event_type=event.FULL_NAME,
            data=self._codec.encode(event),
            correlation_id=envelope.correlation_id,
            causation_id=envelope.causation_id,
            key=event.key(),
        )

    async def append(
        self,
        stream_id: str,
        events: Sequence[Event],
        *,
        expected_version: int,
        transaction: Transaction | None = None,
    ) -> int:
        """Append ``events`` to ``stream_id`` after ``expected_version``; the new version.

        Within ``transaction`` the append commits with it, and a conflict is raised when it
        commits; otherwise it commits at once. Without one, the transaction of an
        idempotent claim running in this context joins it (see
        :mod:`evp.eventstore.unit_of_work`). Inside a handler, events built without causal
        links are stored as caused by the handled event.
        """
        await self._keep_schemas(events)
        encoded = [self.encode(event) for event in events]
        if transaction is None:
            transaction = current_transaction(self._recorder)
        if transaction is not None:
            return await transaction.append(stream_id, expected_version, encoded)
        return await self._recorder.append(stream_id, expected_version, encoded)

    async def prepare(self, event_types: Iterable[type[Event]]) -> None:
        """Resolve the schema ids of ``event_types`` and keep their writer schemas, now.

        A service calls it at start-up for every type it stores: the first append of a
        type then needs neither the registry nor a second connection of the pool, which a
        handler already holding its transaction's connection must never wait for (with
        every connection so held, the pool would starve).
        """
        new = set(event_types) - self._schemas_kept
        if not new:
            return
        codec = self._codec
        ids = await asyncio.get_running_loop().run_in_executor(
            None, lambda: {codec.prepare(t): t.AVRO_SCHEMA for t in new}
        )
        await self._recorder.record_schemas(ids)
        self._schemas_kept |= new

    async def _keep_schemas(self, events: Sequence[Event]) -> None:
        new = {type(event) for event in events} - self._schemas_kept
        if new:
            await self._recorder.record_schemas(
                {self._codec.prepare(t): t.AVRO_SCHEMA for t in new}
            )
            self._schemas_kept |= new

    # -- reading ------------------------------------------------------------------------

    def decode(self, stored: StoredEvent) -> Event:
        """The stored frame as the current generated class of its event type."""
        reader = self._event_types.get(stored.event_type)
        if reader is None:
            raise UnknownEventType(stored.event_type, position=stored.position)
        return self._codec.decode(stored.data, reader)

    def recorded(self, stored: StoredEvent) -> Recorded[Event]:
        """The stored event decoded, with its stream, version, position and recorded time."""
        return Recorded(
            self.decode(stored),
            stored.stream_id,
            stored.stream_version,
            stored.position,
            stored.recorded_at,
        )

    async def load(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[Event]:
        """The stream's events in order, up to ``to_version`` and recorded by ``until``.

        Inside a transaction of this store (a handler's, say) it reads on that transaction's
        connection.
        """
        source = current_transaction(self._recorder) or self._recorder
        frames = await source.read_frames(stream_id, to_version=to_version, until=until)
        decode, readers = self._codec.decode, self._event_types
        events = []
        for event_type, data in frames:
            reader = readers.get(event_type)
            if reader is None:
                raise UnknownEventType(event_type)
            events.append(decode(data, reader))
        return events

    async def stream_version(self, stream_id: str) -> int:
        """The stream's committed version (0: no events), in the current transaction if any."""
        source = current_transaction(self._recorder) or self._recorder
        return await source.stream_version(stream_id)

    async def history(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[Recorded[Event]]:
        """Like :meth:`load`, each event with its version, position and recorded time."""
        stored = await self._recorder.read_stream(stream_id, to_version=to_version, until=until)
        return [self.recorded(event) for event in stored]

    async def read_all(
        self,
        after: int = 0,
        *,
        limit: int | None = None,
        event_types: Collection[str] | None = None,
    ) -> list[Recorded[Event]]:
        """Events of every stream with a position above ``after``, in position order."""
        stored = await self._recorder.read_all(after, limit=limit, event_types=event_types)
        return [self.recorded(event) for event in stored]
