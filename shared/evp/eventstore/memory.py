"""The in-memory recorder: a full peer of the Postgres one, for fast unit tests.

It keeps the same promises, checked by the same conformance suite: appends are atomic and
guarded by the expected version, positions are gap-free and visible in order, a
transaction's appends, marks, checkpoints and parked streams commit together or not at
all, and a second transaction marking an event another one has marked waits for it to end.

Commits run without awaiting, so on one event loop each is atomic. Frames are stored as
given, so whatever reads them back runs the real decoding path.
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager

from evp.eventstore.errors import ConcurrencyError, DuplicateEventError
from evp.eventstore.recorder import NewEvent, ParkedStream, StoredEvent

__all__ = ["MemoryRecorder", "MemoryTransaction"]

_Append = tuple[str, int, list[NewEvent]]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class MemoryRecorder:
    """A :class:`~evp.eventstore.recorder.TrackingRecorder` held in memory.

    ``clock`` stamps the recorded time of each commit (tests pass a fake one for time travel).
    """

    def __init__(self, *, clock: Callable[[], datetime.datetime] = _utc_now) -> None:
        self._clock = clock
        self._events: list[StoredEvent] = []
        self._streams: dict[str, list[StoredEvent]] = {}
        self._event_ids: set[uuid.UUID] = set()
        self._schemas: dict[int, str] = {}
        self._checkpoints: dict[str, int] = {}
        self._processed: set[tuple[str, uuid.UUID]] = set()
        # Marks made by open transactions; a second marker waits for the owner to end.
        self._claims: dict[tuple[str, uuid.UUID], tuple[MemoryTransaction, asyncio.Event]] = {}
        self._checkpoint_locks: dict[str, asyncio.Lock] = {}
        self._parked: dict[str, dict[str, ParkedStream]] = {}

    # -- streams ------------------------------------------------------------------------

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> int:
        """Append ``events`` after ``expected_version`` atomically; return the new version."""
        _check_expected(expected_version)
        staged = list(events)
        if staged:
            self._commit_appends([(stream_id, expected_version, staged)])
        return expected_version + len(staged)

    async def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[StoredEvent]:
        """The stream's events in version order, up to ``to_version`` and recorded by ``until``."""
        events = self._streams.get(stream_id, [])
        if to_version is not None:
            events = events[: max(to_version, 0)]
        if until is not None:
            events = [event for event in events if event.recorded_at <= until]
        return list(events)

    async def read_frames(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[tuple[str, bytes]]:
        """Each event's type and frame, in version order, with :meth:`read_stream`'s limits."""
        events = await self.read_stream(stream_id, to_version=to_version, until=until)
        return [(event.event_type, event.data) for event in events]

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version; 0 when it has no events."""
        return len(self._streams.get(stream_id, ()))

    async def record_schemas(self, schemas: Mapping[int, str]) -> None:
        """Keep writer schemas by id (the first text recorded for an id wins)."""
        for schema_id, text in schemas.items():
            self._schemas.setdefault(schema_id, text)

    async def schemas(self) -> dict[int, str]:
        """Every writer schema recorded, by id."""
        return dict(self._schemas)

    # -- positions ----------------------------------------------------------------------

    async def read_all(
        self,
        after: int = 0,
        *,
        limit: int | None = None,
        event_types: Collection[str] | None = None,
    ) -> list[StoredEvent]:
        """Events with a position above ``after``, in position order, optionally filtered."""
        # Position n is at index n - 1: positions are gap-free by construction.
        events = self._events[max(after, 0) :]
        if event_types is not None:
            wanted = frozenset(event_types)
            events = [event for event in events if event.event_type in wanted]
        return events[:limit] if limit is not None else list(events)

    async def last_position(self) -> int:
        """The highest position recorded; 0 when the store is empty."""
        return len(self._events)

    # -- tracking -----------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        """A transaction: commits when the block exits normally, rolls back otherwise."""
        transaction = MemoryTransaction(self)
        try:
            yield transaction
            self._commit(transaction)
        finally:
            transaction._release()
        for callback in transaction._callbacks:
            callback()

    async def checkpoint(self, consumer: str) -> int:
        """``consumer``'s committed position (0 when it has none)."""
        return self._checkpoints.get(consumer, 0)

    async def is_processed(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Whether ``consumer`` has committed handling ``event_id``."""
        return (consumer, event_id) in self._processed

    async def parked_streams(self, relay: str) -> list[ParkedStream]:
        """The streams ``relay`` has parked (committed), by position."""
        return _by_position(self._parked.get(relay, {}))

    # -- committing ---------------------------------------------------------------------

    def _commit(self, transaction: MemoryTransaction) -> None:
        # Everything below runs without awaiting, so no other task sees half of it.
        if transaction._appends:
            self._commit_appends(transaction._appends)
        for consumer in transaction._resets:
            self._checkpoints.pop(consumer, None)
            self._processed = {key for key in self._processed if key[0] != consumer}
        self._processed.update(transaction._marks)
        self._checkpoints.update(transaction._saved)
        for relay, streams in transaction._parks.items():
            parked = self._parked.setdefault(relay, {})
            for stream_id, stream in streams.items():
                if stream is None:
                    parked.pop(stream_id, None)
                else:
                    parked[stream_id] = stream

    def _commit_appends(self, appends: Sequence[_Append]) -> None:
        # Check every append before applying any, so a conflict leaves no trace.
        seen: set[uuid.UUID] = set()
        checked: set[str] = set()
        for stream_id, expected_version, events in appends:
            actual = len(self._streams.get(stream_id, ()))
            # Later appends to one stream in a transaction were chained when staged.
            if stream_id not in checked and actual != expected_version:
                raise ConcurrencyError(
                    stream_id, expected_version=expected_version, actual_version=actual
                )
            checked.add(stream_id)
            for event in events:
                if event.event_id in self._event_ids or event.event_id in seen:
                    raise DuplicateEventError(event.event_id, stream_id=stream_id)
                seen.add(event.event_id)
        recorded_at = self._clock()
        for stream_id, expected_version, events in appends:
            stream = self._streams.setdefault(stream_id, [])
            for offset, event in enumerate(events, start=1):
                stored = StoredEvent(
                    position=len(self._events) + 1,
                    stream_id=stream_id,
                    stream_version=expected_version + offset,
                    event_id=event.event_id,
                    event_type=event.event_type,
                    correlation_id=event.correlation_id,
                    causation_id=event.causation_id,
                    recorded_at=recorded_at,
                    data=event.data,
                    key=event.key,
                )
                self._events.append(stored)
                stream.append(stored)
                self._event_ids.add(event.event_id)


class MemoryTransaction:
    """A unit of work on a :class:`MemoryRecorder`; staged changes apply on commit.

    A handler's own in-memory changes join it through :meth:`on_commit`.
    """

    def __init__(self, recorder: MemoryRecorder) -> None:
        self._recorder = recorder
        self._appends: list[_Append] = []
        self._versions: dict[str, int] = {}
        self._marks: set[tuple[str, uuid.UUID]] = set()
        self._saved: dict[str, int] = {}
        self._resets: list[str] = []
        self._locked: set[str] = set()
        self._callbacks: list[Callable[[], None]] = []
        # Staged parks by relay and stream; None stages an unpark.
        self._parks: dict[str, dict[str, ParkedStream | None]] = {}

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> int:
        """Stage an append; conflicts with other writers are raised on commit."""
        _check_expected(expected_version)
        staged_version = self._versions.get(stream_id)
        if staged_version is not None and staged_version != expected_version:
            raise ConcurrencyError(
                stream_id, expected_version=expected_version, actual_version=staged_version
            )
        staged = list(events)
        if not staged:
            return expected_version
        self._appends.append((stream_id, expected_version, staged))
        self._versions[stream_id] = expected_version + len(staged)
        return expected_version + len(staged)

    async def read_frames(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[tuple[str, bytes]]:
        """The committed stream's types and frames (staged appends are not seen)."""
        return await self._recorder.read_frames(stream_id, to_version=to_version, until=until)

    async def stream_version(self, stream_id: str) -> int:
        """The stream's committed version."""
        return await self._recorder.stream_version(stream_id)

    async def mark_processed(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record that ``consumer`` handled ``event_id``; ``False`` when it already had."""
        key = (consumer, event_id)
        recorder = self._recorder
        while True:
            if key in self._marks:
                return False
            claim = recorder._claims.get(key)
            if claim is None:
                break
            await claim[1].wait()
        if key in recorder._processed and consumer not in self._resets:
            return False
        recorder._claims[key] = (self, asyncio.Event())
        self._marks.add(key)
        return True

    async def checkpoint(self, consumer: str) -> int:
        """``consumer``'s position, locked until this transaction ends."""
        if consumer not in self._locked:
            lock = self._recorder._checkpoint_locks.setdefault(consumer, asyncio.Lock())
            await lock.acquire()
            self._locked.add(consumer)
        if consumer in self._saved:
            return self._saved[consumer]
        if consumer in self._resets:
            return 0
        return self._recorder._checkpoints.get(consumer, 0)

    async def save_checkpoint(self, consumer: str, position: int) -> None:
        """Move ``consumer``'s position when the transaction commits."""
        self._saved[consumer] = position

    async def reset_consumer(self, consumer: str) -> None:
        """Forget ``consumer``'s position and processed events when the transaction commits."""
        self._resets.append(consumer)
        self._saved.pop(consumer, None)
        self._marks = {key for key in self._marks if key[0] != consumer}

    async def park(
        self, relay: str, stream_id: str, *, position: int, event_type: str, reason: str
    ) -> None:
        """Park ``stream_id`` for ``relay`` at ``position`` when the transaction commits."""
        parked = ParkedStream(stream_id, position, event_type, reason, self._recorder._clock())
        self._parks.setdefault(relay, {})[stream_id] = parked

    async def unpark(self, relay: str, stream_id: str) -> None:
        """Let ``relay`` publish ``stream_id`` again when the transaction commits."""
        self._parks.setdefault(relay, {})[stream_id] = None

    async def parked_streams(self, relay: str) -> list[ParkedStream]:
        """The streams ``relay`` has parked, staged changes included, by position."""
        parked: dict[str, ParkedStream | None] = dict(self._recorder._parked.get(relay, {}))
        parked.update(self._parks.get(relay, {}))
        return _by_position({k: v for k, v in parked.items() if v is not None})

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after this transaction commits (never if it rolls back)."""
        self._callbacks.append(callback)

    def _release(self) -> None:
        claims = self._recorder._claims
        for key in [key for key, (owner, _) in claims.items() if owner is self]:
            claims.pop(key)[1].set()
        for consumer in self._locked:
            self._recorder._checkpoint_locks[consumer].release()
        self._locked.clear()


def _by_position(parked: Mapping[str, ParkedStream]) -> list[ParkedStream]:
    return sorted(parked.values(), key=lambda stream: stream.position)


def _check_expected(expected_version: int) -> None:
    if expected_version < 0:
        raise ValueError(f"expected_version must be >= 0, not {expected_version}")
