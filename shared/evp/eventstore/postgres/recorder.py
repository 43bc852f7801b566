"""The Postgres recorder: streams, gap-free positions and tracking over an asyncpg pool."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from evp.eventstore.errors import RecorderError
from evp.eventstore.postgres._statements import (
    COLUMNS,
    PARKED_STREAMS,
    check_expected,
    insert,
    stream_query,
    stream_version,
)
from evp.eventstore.postgres._translate import (
    DRIVER_ERRORS,
    append_error,
    driver_error,
)
from evp.eventstore.postgres.transaction import PostgresTransaction, run_transaction
from evp.eventstore.recorder import NewEvent, ParkedStream, StoredEvent
from evp.postgres import load_migrations, migrate
from evp.postgres.migrations import AnyConnection
from evp.postgres.pool import close_pool

__all__ = ["MIGRATIONS_COMPONENT", "MIGRATIONS_PACKAGE", "PostgresRecorder"]

MIGRATIONS_COMPONENT = "eventstore"
MIGRATIONS_PACKAGE = "evp.eventstore.migrations"


class PostgresRecorder:
    """A :class:`~evp.eventstore.recorder.TrackingRecorder` over a Postgres database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._committed: list[Callable[[], None]] = []

    @classmethod
    async def connect(cls, url: str, *, max_connections: int = 10) -> PostgresRecorder:
        """Open a pool to ``url`` and bring the event store's tables up to date."""
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=max_connections)
        except DRIVER_ERRORS as error:
            raise RecorderError(
                f"cannot open the event store database: {error}", operation="connect"
            ) from error
        try:
            async with pool.acquire() as connection:
                await migrate(connection, MIGRATIONS_COMPONENT, load_migrations(MIGRATIONS_PACKAGE))
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    @property
    def pool(self) -> asyncpg.Pool:
        """The connection pool, for a service's own queries on its database."""
        return self._pool

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the event loop) whenever events were committed through this
        recorder: an outbox relay in the same process publishes them at once instead of at
        its next poll."""
        self._committed.append(callback)

    def _notify(self) -> None:
        for callback in self._committed:
            callback()

    async def close(self) -> None:
        """Close every pooled connection."""
        await close_pool(self._pool)

    # -- streams ------------------------------------------------------------------------

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> int:
        """Append ``events`` after ``expected_version`` in one auto-committed statement."""
        check_expected(expected_version)
        if not events:
            return expected_version
        appends = [(stream_id, expected_version, events)]
        async with self._acquire("append") as connection:
            try:
                await insert(connection, appends)
            except asyncpg.IntegrityConstraintViolationError as error:
                raise await append_error(connection, appends, error) from error
            except DRIVER_ERRORS as error:
                raise driver_error("append", error) from error
        self._notify()
        return expected_version + len(events)

    async def read_stream(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[StoredEvent]:
        """The stream's events in version order, up to ``to_version`` and recorded by ``until``."""
        query, arguments = stream_query(COLUMNS, stream_id, to_version, until)
        rows = await self._fetch("read_stream", query, *arguments)
        return [StoredEvent(*row) for row in rows]

    async def read_frames(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[tuple[str, bytes]]:
        """Each event's type and frame, in version order, with :meth:`read_stream`'s limits."""
        query, arguments = stream_query("event_type, data", stream_id, to_version, until)
        rows = await self._fetch("read_frames", query, *arguments)
        return [(row[0], row[1]) for row in rows]

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version; 0 when it has no events."""
        async with self._acquire("stream_version") as connection:
            try:
                return await stream_version(connection, stream_id)
            except DRIVER_ERRORS as error:
                raise driver_error("stream_version", error) from error

    async def record_schemas(self, schemas: Mapping[int, str]) -> None:
        """Keep writer schemas by id (the first text recorded for an id wins)."""
        if not schemas:
            return
        async with self._acquire("record_schemas") as connection:
            try:
                await connection.execute(
                    "INSERT INTO evp_schemas (schema_id, schema)"
                    " SELECT * FROM unnest($1::integer[], $2::text[])"
                    " ON CONFLICT (schema_id) DO NOTHING",
                    list(schemas),
                    list(schemas.values()),
                )
            except DRIVER_ERRORS as error:
                raise driver_error("record_schemas", error) from error

    async def schemas(self) -> dict[int, str]:
        """Every writer schema recorded, by id."""
        rows = await self._fetch("schemas", "SELECT schema_id, schema FROM evp_schemas")
        return {row["schema_id"]: row["schema"] for row in rows}

    # -- positions ----------------------------------------------------------------------

    async def read_all(
        self,
        after: int = 0,
        *,
        limit: int | None = None,
        event_types: Collection[str] | None = None,
    ) -> list[StoredEvent]:
        """Events with a position above ``after``, in position order, optionally filtered."""
        query = f"SELECT {COLUMNS} FROM evp_events WHERE position > $1"
        arguments: list[Any] = [after]
        if event_types is not None:
            arguments.append(list(event_types))
            query += f" AND event_type = ANY(${len(arguments)}::text[])"
        query += " ORDER BY position"
        if limit is not None:
            arguments.append(limit)
            query += f" LIMIT ${len(arguments)}"
        rows = await self._fetch("read_all", query, *arguments)
        return [StoredEvent(*row) for row in rows]

    async def last_position(self) -> int:
        """The highest position recorded; 0 when the store is empty."""
        rows = await self._fetch("last_position", "SELECT last_position FROM evp_event_position")
        return int(rows[0][0])

    # -- tracking -----------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        """A transaction on a pooled connection: commits on normal exit, else rolls back.

        Errors of the caller's own statements pass through untouched; the recorder's own
        are translated into :class:`~evp.eventstore.errors.EventStoreError` subclasses.
        """
        async with (
            self._acquire("transaction") as connection,
            run_transaction(connection) as transaction,
        ):
            yield transaction
        if transaction.appended:
            self._notify()

    async def checkpoint(self, consumer: str) -> int:
        """``consumer``'s committed position (0 when it has none), without locking it."""
        rows = await self._fetch(
            "checkpoint", "SELECT position FROM evp_checkpoints WHERE consumer = $1", consumer
        )
        return int(rows[0][0]) if rows else 0

    async def is_processed(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Whether ``consumer`` has committed handling ``event_id``."""
        rows = await self._fetch(
            "is_processed",
            "SELECT 1 FROM evp_processed_events WHERE consumer = $1 AND event_id = $2",
            consumer,
            event_id,
        )
        return bool(rows)

    async def parked_streams(self, relay: str) -> list[ParkedStream]:
        """The streams ``relay`` has parked (committed), by position."""
        rows = await self._fetch("parked_streams", PARKED_STREAMS, relay)
        return [ParkedStream(*row) for row in rows]

    # -- plumbing -----------------------------------------------------------------------

    @asynccontextmanager
    async def _acquire(self, operation: str) -> AsyncIterator[AnyConnection]:
        try:
            connection = await self._pool.acquire()
        except DRIVER_ERRORS as error:
            raise driver_error(operation, error) from error
        try:
            yield connection
        finally:
            await self._pool.release(connection)

    async def _fetch(self, operation: str, query: str, *arguments: Any) -> list[Any]:
        try:
            return list(await self._pool.fetch(query, *arguments))
        except DRIVER_ERRORS as error:
            raise driver_error(operation, error) from error
