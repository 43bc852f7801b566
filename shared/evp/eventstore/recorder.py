"""What the event store asks of a database, layered by capability.

Each layer adds one capability on top of the previous one, so a component can say exactly
what it needs:

1. :class:`StreamRecorder` appends to and reads one stream, guarded by an expected version
   (aggregates need no more).
2. :class:`PositionRecorder` adds a global, gap-free, ordered position across streams: the
   outbox relay and projections follow it, so the event table doubles as the outbox.
3. :class:`TrackingRecorder` adds transactions in which appends, "this consumer processed
   that event" marks and checkpoints commit together with a handler's own changes, and
   the streams an outbox relay parked (it cannot publish them until someone retries).

The records are plain values: events travel as Confluent wire-format frames and are stored
exactly so, next to the metadata worth querying.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

__all__ = [
    "NewEvent",
    "ParkedStream",
    "PositionRecorder",
    "StoredEvent",
    "StreamRecorder",
    "TrackingRecorder",
    "Transaction",
]


@dataclasses.dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended: its frame and the metadata stored beside it.

    ``key`` is the Kafka message key the event is published with (its catalog key's
    value, as :meth:`evp.avro.Event.key` gives it), so the outbox relay keys it exactly
    as ``EventBus.publish`` would.
    """

    event_id: uuid.UUID
    event_type: str
    data: bytes
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    key: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as recorded. Field order matches the recorders' SELECT lists."""

    position: int
    stream_id: str
    stream_version: int
    event_id: uuid.UUID
    event_type: str
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    recorded_at: datetime.datetime
    data: bytes
    key: str | None = None
    """The message key recorded with the event; ``None`` for events appended without one."""


@dataclasses.dataclass(frozen=True, slots=True)
class ParkedStream:
    """A stream a relay stopped publishing at ``position``: that event cannot be published.

    Its later events wait in the event table, so the stream's order holds once it resumes.
    """

    stream_id: str
    position: int
    event_type: str
    reason: str
    parked_at: datetime.datetime


class StreamRecorder(Protocol):
    """Appends to and reads streams; the version guards against lost updates."""

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> int:
        """Append ``events`` after ``expected_version`` atomically; return the new version.

        Raises :class:`~evp.eventstore.errors.ConcurrencyError` when the stream is not at
        ``expected_version`` (0: the stream must not exist yet), and
        :class:`~evp.eventstore.errors.DuplicateEventError` when an event id is taken.
        """
        ...

    async def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[StoredEvent]:
        """The stream's events in version order, up to ``to_version`` and recorded by ``until``."""
        ...

    async def read_frames(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[tuple[str, bytes]]:
        """Like :meth:`read_stream`, only each event's type and frame: all a replay needs.

        The hot path of loading an aggregate; skipping the other columns makes a long
        stream load markedly faster.
        """
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version; 0 when it has no events."""
        ...

    async def record_schemas(self, schemas: Mapping[int, str]) -> None:
        """Keep writer schemas of stored frames by id, so the store reads without a registry."""
        ...

    async def schemas(self) -> dict[int, str]:
        """Every writer schema kept by :meth:`record_schemas`, by id."""
        ...


class PositionRecorder(StreamRecorder, Protocol):
    """Adds one total order over all streams: positions 1, 2, 3, ... with no gaps.

    Positions become visible in order: once position ``n`` can be read, so can every
    position before it. A follower that remembers the last position it handled therefore
    never misses an event.
    """

    async def read_all(
        self,
        after: int = 0,
        *,
        limit: int | None = None,
        event_types: Collection[str] | None = None,
    ) -> list[StoredEvent]:
        """Events with a position above ``after``, in position order, optionally filtered."""
        ...

    async def last_position(self) -> int:
        """The highest position recorded; 0 when the store is empty."""
        ...


class Transaction(Protocol):
    """One unit of work: what it records commits with the caller's own changes, or not at all."""

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> int:
        """Stage an append; conflicts are raised when the transaction commits."""
        ...

    async def read_frames(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[tuple[str, bytes]]:
        """:meth:`StreamRecorder.read_frames` on this transaction's own connection.

        Reading inside a unit of work must not take a second connection from the pool:
        with every connection held by a transaction waiting for another, the pool would
        starve. Appends staged in this transaction are not seen (they are written when it
        commits).
        """
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The stream's committed version, read on this transaction's connection."""
        ...

    async def mark_processed(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record that ``consumer`` handled ``event_id``; ``False`` when it already had.

        A concurrent transaction marking the same event waits until this one ends, so of
        two deliveries of one event exactly one proceeds.
        """
        ...

    async def checkpoint(self, consumer: str) -> int:
        """``consumer``'s position, locked until this transaction ends (0 when it has none)."""
        ...

    async def save_checkpoint(self, consumer: str, position: int) -> None:
        """Move ``consumer``'s position."""
        ...

    async def reset_consumer(self, consumer: str) -> None:
        """Forget ``consumer``'s position and processed events (before a rebuild)."""
        ...

    async def park(
        self, relay: str, stream_id: str, *, position: int, event_type: str, reason: str
    ) -> None:
        """Park ``stream_id`` for ``relay`` at ``position`` (again: the new position wins)."""
        ...

    async def unpark(self, relay: str, stream_id: str) -> None:
        """Let ``relay`` publish ``stream_id`` again."""
        ...

    async def parked_streams(self, relay: str) -> list[ParkedStream]:
        """The streams ``relay`` has parked, as this transaction sees them, by position."""
        ...


T_co = TypeVar("T_co", bound=Transaction, covariant=True)


class TrackingRecorder(PositionRecorder, Protocol[T_co]):
    """Adds transactions and per-consumer tracking, for idempotent handlers and projections."""

    def transaction(self) -> AbstractAsyncContextManager[T_co]:
        """A transaction that commits when the block exits normally and rolls back otherwise."""
        ...

    async def checkpoint(self, consumer: str) -> int:
        """``consumer``'s committed position (0 when it has none), without locking it."""
        ...

    async def is_processed(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Whether ``consumer`` has committed handling ``event_id``."""
        ...

    async def parked_streams(self, relay: str) -> list[ParkedStream]:
        """The streams ``relay`` has parked (committed), by position."""
        ...
