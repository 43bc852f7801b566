"""The services' own databases, read directly (never through their APIs): one connection each.

Each service owns its database (``RunningPlatform.state.databases``): its event store
(``evp_events``, the outbox's checkpoint in ``evp_checkpoints``, ``evp_parked_streams``)
and its tables. The chaos run only reads them, except :meth:`Databases.store` which
``evp replay``'s rebuild of a read model writes through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg

from evp.eventstore import (
    DEFAULT_RELAY_NAME,
    EventStore,
    PostgresRecorder,
    PostgresTransaction,
    codec_from_store,
)

__all__ = ["Databases", "OutboxState"]

OutboxState = tuple[int, int, int]
"""``(last position, outbox checkpoint, parked streams)`` of one service's store."""


class Databases:
    """A connection to each service's database, by service name; safe to share between tasks
    (one operation at a time per connection, as asyncpg requires)."""

    def __init__(self, urls: Mapping[str, str], connections: Mapping[str, Any]) -> None:
        self.urls = dict(urls)
        self._connections = dict(connections)
        self._locks = {service: asyncio.Lock() for service in connections}

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, urls: Mapping[str, str]) -> AsyncIterator[Databases]:
        """Connect to every database of ``urls``; close them all on leaving."""
        connections: dict[str, Any] = {}
        try:
            for service, url in urls.items():
                connections[service] = await asyncpg.connect(url)
            yield cls(urls, connections)
        finally:
            for connection in connections.values():
                await connection.close()

    async def fetch(self, service: str, query: str, *args: Any) -> list[Any]:
        """The rows of ``query`` on ``service``'s database."""
        async with self._locks[service]:
            rows: list[Any] = await self._connections[service].fetch(query, *args)
        return rows

    async def value(self, service: str, query: str, *args: Any) -> Any:
        """The first column of the first row of ``query`` (``None`` for no row)."""
        async with self._locks[service]:
            return await self._connections[service].fetchval(query, *args)

    async def outbox(self, service: str) -> OutboxState:
        """Where ``service``'s store and its outbox relay are, and how many streams it parked."""
        (row,) = await self.fetch(
            service,
            "SELECT (SELECT last_position FROM evp_event_position),"
            " COALESCE((SELECT position FROM evp_checkpoints WHERE consumer = $1), 0),"
            " (SELECT count(*) FROM evp_parked_streams WHERE relay = $1)",
            DEFAULT_RELAY_NAME,
        )
        return int(row[0]), int(row[1]), int(row[2])

    async def checkpoint(self, service: str, consumer: str) -> int:
        """How far ``consumer`` (a store-fed projection) has followed ``service``'s store."""
        found = await self.value(
            service, "SELECT position FROM evp_checkpoints WHERE consumer = $1", consumer
        )
        return int(found or 0)

    async def tables(self, service: str) -> dict[str, list[tuple[Any, ...]]]:
        """Every table of ``service`` but the event store's own, each as a sorted list of rows.

        Read in one snapshot (a repeatable-read transaction), so the tables agree.
        """
        connection = self._connections[service]
        async with (
            self._locks[service],
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await table_rows(connection)

    @contextlib.asynccontextmanager
    async def store(self, service: str) -> AsyncIterator[EventStore[PostgresTransaction]]:
        """``service``'s event store, read with the writer schemas it keeps (no registry)."""
        recorder = await PostgresRecorder.connect(self.urls[service])
        try:
            yield EventStore(recorder, await codec_from_store(recorder))
        finally:
            await recorder.close()


async def table_rows(connection: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every table on ``connection`` but the event store's (``evp_*``), rows sorted."""
    names = await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        " AND tablename NOT LIKE 'evp\\_%' ORDER BY tablename"
    )
    found = {}
    for (name,) in names:
        rows = await connection.fetch(f'SELECT * FROM "{name}"')
        found[name] = sorted((_hashable(tuple(row.values())) for row in rows), key=repr)
    return found


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value
