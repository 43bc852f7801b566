"""Driver errors become the event store's own errors here, and nowhere else."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import asyncpg

from evp.eventstore.errors import (
    ConcurrencyError,
    DuplicateEventError,
    EventStoreError,
    RecorderError,
    StoreUnavailable,
)
from evp.eventstore.postgres._statements import Append, stream_version
from evp.postgres.migrations import AnyConnection

__all__ = ["DRIVER_ERRORS", "append_error", "driver_error", "rollback"]

DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
# The server is away, not the statement wrong: no socket to connect to, a connection
# dropped mid-operation (class 08), a server starting up, shutting down or restarted
# (57P01-57P03). The same call may succeed once it is back.
_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)

_STREAM_VERSION_KEY = "evp_events_stream_version_key"
_STREAM_VERSION = "stream_version"
_EVENT_ID_KEY = "evp_events_event_id_key"


async def append_error(
    connection: AnyConnection,
    appends: Sequence[Append],
    error: asyncpg.IntegrityConstraintViolationError,
) -> EventStoreError:
    """The store's error for a constraint an append broke (asked after the rollback)."""
    constraint = getattr(error, "constraint_name", None)
    try:
        if constraint == _EVENT_ID_KEY:
            return await _duplicate_error(connection, appends)
        if constraint == _STREAM_VERSION_KEY or (
            isinstance(error, asyncpg.NotNullViolationError)
            and getattr(error, "column_name", None) == _STREAM_VERSION
        ):
            return await _conflict_error(connection, appends)
    except DRIVER_ERRORS as lookup_error:
        return driver_error("append", lookup_error)
    return driver_error("append", error)


async def _conflict_error(connection: AnyConnection, appends: Sequence[Append]) -> ConcurrencyError:
    # The first append of each stream carries the version the caller expected it at.
    expected: dict[str, int] = {}
    for stream_id, expected_version, _ in appends:
        expected.setdefault(stream_id, expected_version)
    actual = {stream_id: await stream_version(connection, stream_id) for stream_id in expected}
    stream_id = next((s for s in expected if actual[s] != expected[s]), next(iter(expected)))
    return ConcurrencyError(
        stream_id, expected_version=expected[stream_id], actual_version=actual[stream_id]
    )


async def _duplicate_error(
    connection: AnyConnection, appends: Sequence[Append]
) -> DuplicateEventError:
    seen: set[uuid.UUID] = set()
    for stream_id, _, events in appends:
        for event in events:
            if event.event_id in seen:
                return DuplicateEventError(event.event_id, stream_id=stream_id)
            seen.add(event.event_id)
    stored = await connection.fetchval(
        "SELECT event_id FROM evp_events WHERE event_id = ANY($1::uuid[]) LIMIT 1", list(seen)
    )
    stream_of = {event.event_id: s for s, _, events in appends for event in events}
    return DuplicateEventError(stored, stream_id=stream_of.get(stored))


async def rollback(transaction: Any) -> None:
    # A broken connection cannot roll back; the pool discards it on release anyway.
    with suppress(*DRIVER_ERRORS):
        await transaction.rollback()


def driver_error(operation: str, error: BaseException) -> RecorderError:
    message = f"event store {operation} failed: {error}"
    if isinstance(error, _UNAVAILABLE):
        return StoreUnavailable(message, operation=operation)
    return RecorderError(message, operation=operation)
