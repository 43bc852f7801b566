"""A unit of work on one pooled connection: staged appends, marks and checkpoints."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from evp.eventstore.errors import ConcurrencyError
from evp.eventstore.postgres._statements import (
    PARKED_STREAMS,
    Append,
    check_expected,
    insert,
    stream_query,
)
from evp.eventstore.postgres._statements import stream_version as committed_version
from evp.eventstore.postgres._translate import (
    DRIVER_ERRORS,
    append_error,
    driver_error,
    rollback,
)
from evp.eventstore.recorder import NewEvent, ParkedStream
from evp.postgres.migrations import AnyConnection

__all__ = ["PostgresTransaction", "run_transaction"]


class PostgresTransaction:
    """A unit of work on one connection; :attr:`connection` runs the handler's own SQL.

    Appends are staged and written in one statement just before COMMIT, which keeps the
    position lock short (see the module docstring); conflicts surface when the block ends.
    """

    def __init__(self, connection: AnyConnection) -> None:
        self._connection = connection
        self._appends: list[Append] = []
        self._versions: dict[str, int] = {}
        self._flushing = False

    @property
    def connection(self) -> AnyConnection:
        """The connection this transaction runs on."""
        return self._connection

    @property
    def appended(self) -> bool:
        """Whether the transaction staged any event."""
        return bool(self._appends)

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> int:
        """Stage an append; conflicts with other writers are raised on commit."""
        check_expected(expected_version)
        staged_version = self._versions.get(stream_id)
        if staged_version is not None and staged_version != expected_version:
            raise ConcurrencyError(
                stream_id, expected_version=expected_version, actual_version=staged_version
            )
        if not events:
            return expected_version
        self._appends.append((stream_id, expected_version, list(events)))
        self._versions[stream_id] = expected_version + len(events)
        return expected_version + len(events)

    async def read_frames(
        self,
        stream_id: str,
        *,
        to_version: int | None = None,
        until: datetime.datetime | None = None,
    ) -> list[tuple[str, bytes]]:
        """Each event's type and frame in version order, read on this transaction's connection."""
        query, arguments = stream_query("event_type, data", stream_id, to_version, until)
        try:
            rows = await self._connection.fetch(query, *arguments)
        except DRIVER_ERRORS as error:
            raise driver_error("read_frames", error) from error
        return [(row[0], row[1]) for row in rows]

    async def stream_version(self, stream_id: str) -> int:
        """The stream's committed version, read on this transaction's connection."""
        try:
            version: int = await committed_version(self._connection, stream_id)
        except DRIVER_ERRORS as error:
            raise driver_error("stream_version", error) from error
        return version

    async def mark_processed(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record that ``consumer`` handled ``event_id``; ``False`` when it already had.

        ``ON CONFLICT DO NOTHING`` waits for a concurrent inserter of the same key to end,
        so two deliveries of one event cannot both get ``True``.
        """
        try:
            inserted = await self._connection.fetchval(
                "INSERT INTO evp_processed_events (consumer, event_id) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING RETURNING true",
                consumer,
                event_id,
            )
        except DRIVER_ERRORS as error:
            raise driver_error("mark_processed", error) from error
        return inserted is not None

    async def checkpoint(self, consumer: str) -> int:
        """``consumer``'s position, its row locked until this transaction ends."""
        select = "SELECT position FROM evp_checkpoints WHERE consumer = $1 FOR UPDATE"
        try:
            position = await self._connection.fetchval(select, consumer)
            if position is None:
                await self._connection.execute(
                    "INSERT INTO evp_checkpoints (consumer, position) VALUES ($1, 0)"
                    " ON CONFLICT (consumer) DO NOTHING",
                    consumer,
                )
                position = await self._connection.fetchval(select, consumer)
        except DRIVER_ERRORS as error:
            raise driver_error("checkpoint", error) from error
        return int(position)

    async def save_checkpoint(self, consumer: str, position: int) -> None:
        """Move ``consumer``'s position when the transaction commits."""
        try:
            await self._connection.execute(
                "INSERT INTO evp_checkpoints (consumer, position) VALUES ($1, $2)"
                " ON CONFLICT (consumer)"
                " DO UPDATE SET position = EXCLUDED.position, updated_at = now()",
                consumer,
                position,
            )
        except DRIVER_ERRORS as error:
            raise driver_error("save_checkpoint", error) from error

    async def reset_consumer(self, consumer: str) -> None:
        """Forget ``consumer``'s position and processed events when the transaction commits."""
        try:
            await self._connection.execute(
                "DELETE FROM evp_checkpoints WHERE consumer = $1", consumer
            )
            await self._connection.execute(
                "DELETE FROM evp_processed_events WHERE consumer = $1", consumer
            )
        except DRIVER_ERRORS as error:
            raise driver_error("reset_consumer", error) from error

    async def park(
        self, relay: str, stream_id: str, *, position: int, event_type: str, reason: str
    ) -> None:
        """Park ``stream_id`` for ``relay`` at ``position`` when the transaction commits."""
        try:
            await self._connection.execute(
                "INSERT INTO evp_parked_streams (relay, stream_id, position, event_type, reason)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (relay, stream_id) DO UPDATE SET"
                " position = EXCLUDED.position, event_type = EXCLUDED.event_type,"
                " reason = EXCLUDED.reason, parked_at = now()",
                relay,
                stream_id,
                position,
                event_type,
                reason,
            )
        except DRIVER_ERRORS as error:
            raise driver_error("park", error) from error

    async def unpark(self, relay: str, stream_id: str) -> None:
        """Let ``relay`` publish ``stream_id`` again when the transaction commits."""
        try:
            await self._connection.execute(
                "DELETE FROM evp_parked_streams WHERE relay = $1 AND stream_id = $2",
                relay,
                stream_id,
            )
        except DRIVER_ERRORS as error:
            raise driver_error("unpark", error) from error

    async def parked_streams(self, relay: str) -> list[ParkedStream]:
        """The streams ``relay`` has parked, as this transaction sees them, by position."""
        try:
            rows = await self._connection.fetch(PARKED_STREAMS, relay)
        except DRIVER_ERRORS as error:
            raise driver_error("parked_streams", error) from error
        return [ParkedStream(*row) for row in rows]

    async def _flush(self) -> None:
        if not self._appends:
            return
        self._flushing = True
        try:
            await insert(self._connection, self._appends)
        except asyncpg.IntegrityConstraintViolationError:
            raise
        except DRIVER_ERRORS as error:
            raise driver_error("append", error) from error
        self._flushing = False


@asynccontextmanager
async def run_transaction(connection: AnyConnection) -> AsyncIterator[PostgresTransaction]:
    """A :class:`PostgresTransaction` on ``connection``: commits on normal exit, else rolls back.

    Errors of the caller's own statements pass through untouched; the recorder's own are
    translated into :class:`~evp.eventstore.errors.EventStoreError` subclasses.
    """
    database_transaction = connection.transaction()
    try:
        await database_transaction.start()
    except DRIVER_ERRORS as error:
        raise driver_error("begin", error) from error
    transaction = PostgresTransaction(connection)
    try:
        yield transaction
        await transaction._flush()
    except asyncpg.IntegrityConstraintViolationError as error:
        await rollback(database_transaction)
        if not transaction._flushing:
            raise
        # Asked after the rollback: which stream conflicted, and at what version it is.
        raise await append_error(connection, transaction._appends, error) from error
    except BaseException:
        await rollback(database_transaction)
        raise
    try:
        await database_transaction.commit()
    except DRIVER_ERRORS as error:
        raise driver_error("commit", error) from error
