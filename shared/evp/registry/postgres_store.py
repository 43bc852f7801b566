"""The registry's storage in Postgres, through an asyncpg pool.

Writers of one subject are serialised by a transaction-scoped advisory lock on the
subject, and writers of one schema by a lock on its fingerprint, taken in that order
(so two registrations can never wait on each other in a cycle). Versions are then
``max + 1`` read under the lock, and ids come from a sequence. Driver errors become
:class:`~evp.registry.errors.StoreError` here and nowhere else.

Round trips are most of a lookup's cost, so reads run without BEGIN and COMMIT (see
:mod:`evp.registry.store`) straight on the pool; lookups by fingerprint that arrive
together share one query (see :class:`_Finder`); and pooled connections are not reset on
release: the registry never changes session state on them (its locks are
transaction-scoped and it sets nothing; it listens for purge notices on a connection of
its own, see :mod:`evp.registry.purge_watch`), so asyncpg's default reset query would be
one more round trip per request for nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from evp.postgres import load_migrations, migrate
from evp.postgres.migrations import AnyConnection
from evp.postgres.pool import close_pool
from evp.registry.errors import OperationNotPermittedError, StoreError, StoreTimeoutError
from evp.registry.purge_watch import CHANNEL, Forget, PurgeWatch, payload_of
from evp.registry.store import (
    RegistryReads,
    RegistryTransaction,
    Setting,
    StoredSchema,
    SubjectVersion,
)
from evp.schema.parsed import Reference

__all__ = ["MIGRATIONS_COMPONENT", "PostgresRegistryStore"]

MIGRATIONS_COMPONENT = "registry"

_log = logging.getLogger(__name__)

# First keys of the two-key advisory locks, one per kind of thing locked.
_SUBJECT_LOCK = 0x5253_0001
_SCHEMA_LOCK = 0x5253_0002
_REGISTRY_LOCK = 0x5253_0003

# TimeoutError is an OSError: a pool or connect timeout is one of these too.
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


def _store_error(doing: str, error: BaseException) -> StoreError:
    """``error`` from the driver as the registry's; its text stays in the server's log.

    The message quotes the driver (SQL, constraint and host names) for the operator; HTTP
    answers carry only the error's public message (see :meth:`RegistryError.body`).
    """
    timed_out = isinstance(error, TimeoutError | asyncpg.QueryCanceledError)
    kind = StoreTimeoutError if timed_out else StoreError
    return kind(f"{doing}: {type(error).__name__}: {error}")


class PostgresRegistryStore:
    """:class:`~evp.registry.store.RegistryStore` over a Postgres database."""

    def __init__(self, pool: asyncpg.Pool, url: str | None = None) -> None:
        self._pool = pool
        self._finder = _Finder(pool)
        self._url = url

    @classmethod
    async def connect(cls, url: str, *, max_connections: int = 10) -> PostgresRegistryStore:
        """Open a pool to ``url`` and bring the registry's tables up to date."""
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=max_connections, reset=_keep_session
            )
            async with pool.acquire() as connection:
                await migrate(
                    connection, MIGRATIONS_COMPONENT, load_migrations("evp.registry.migrations")
                )
        except _DRIVER_ERRORS as error:
            raise _store_error("cannot open the registry database", error) from error
        return cls(pool, url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[RegistryTransaction]:
        """A transaction on a pooled connection."""
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                yield _Transaction(connection)
        except _DRIVER_ERRORS as error:
            raise _store_error("Error in the backend datastore", error) from error

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[RegistryReads]:
        """Reads straight on the pool, each statement on a connection taken for it alone."""
        try:
            yield _Reads(self._pool, self._finder)
        except _DRIVER_ERRORS as error:
            raise _store_error("Error in the backend datastore", error) from error

    @asynccontextmanager
    async def watch_purges(self, forget: Forget) -> AsyncIterator[None]:
        """Within the block, call ``forget`` with the schema ids any process purges.

        A store built on a pool alone has no address to listen with: it hears of its own
        purges only, which is all a single process needs.
        """
        if self._url is None:
            _log.warning("registry: no database URL to listen for other processes' purges")
            yield
            return
        watch = PurgeWatch(self._url, forget)
        try:
            await watch.start()
        except _DRIVER_ERRORS as error:
            raise _store_error("cannot listen for purges", error) from error
        try:
            yield
        finally:
            await watch.close()

    async def close(self) -> None:
        """Close every pooled connection."""
        await close_pool(self._pool)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Release a connection as it is: there is no session state to reset (see above).

    asyncpg still rolls back a transaction left open before calling this.
    """


def _version(row: Any) -> SubjectVersion:
    return SubjectVersion(row["subject"], row["version"], row["schema_id"], row["deleted"])


# The newest matching version of each (subject, fingerprint, deleted) triple, numbered n.
_FIND_MANY = """
SELECT q.n, v.subject, v.version, v.schema_id, v.deleted
FROM unnest($1::text[], $2::text[], $3::boolean[])
     WITH ORDINALITY AS q (subject, fingerprint, deleted, n)
CROSS JOIN LATERAL (
    SELECT v.* FROM registry_subject_versions v
    JOIN registry_schemas s ON s.id = v.schema_id
    WHERE v.subject = q.subject AND s.fingerprint = q.fingerprint AND (q.deleted OR NOT v.deleted)
    ORDER BY v.version DESC LIMIT 1
) v
"""

_Lookup = tuple[str, str, bool, "asyncio.Future[SubjectVersion | None]"]


class _Finder:
    """Lookups by fingerprint outside transactions, those waiting together sent as one query.

    A lookup costs little in Postgres; the pool checkout and the round trip are most of
    it. So a lookup is queued until the event loop next runs its callbacks, and every
    lookup queued by then goes in one query: alone when the registry is idle, by the dozen
    under load. Each still reads the state committed before its query ran, as it would
    have alone.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._queued: list[_Lookup] = []
        self._running: set[asyncio.Task[None]] = set()

    async def find(self, subject: str, fingerprint: str, deleted: bool) -> SubjectVersion | None:
        loop = asyncio.get_running_loop()
        if not self._queued:
            loop.call_soon(self._send)
        found: asyncio.Future[SubjectVersion | None] = loop.create_future()
        self._queued.append((subject, fingerprint, deleted, found))
        return await found

    def _send(self) -> None:
        batch, self._queued = self._queued, []
        task = asyncio.get_running_loop().create_task(self._run(batch))
        # The loop keeps only weak references to tasks: hold this one until it is done.
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[_Lookup]) -> None:
        subjects, fingerprints, deleted, waiters = zip(*batch, strict=True)
        try:
            rows = await self._pool.fetch(
                _FIND_MANY, list(subjects), list(fingerprints), list(deleted)
            )
        except Exception as error:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        except BaseException:
            for waiter in waiters:
                waiter.cancel()
            raise
        found = {row["n"]: _version(row) for row in rows}
        for n, waiter in enumerate(waiters, start=1):
            # A waiter is done already if its request was cancelled meanwhile.
            if not waiter.done():
                waiter.set_result(found.get(n))


class _Transaction:
    def __init__(self, connection: AnyConnection | asyncpg.Pool) -> None:
        self._db = connection

    async def lock_subject(self, subject: str, *, shared: bool = False) -> None:
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await self._db.execute(f"SELECT {function}($1, hashtext($2))", _SUBJECT_LOCK, subject)

    async def lock_schema(self, fingerprint: str) -> None:
        await self._db.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))", _SCHEMA_LOCK, fingerprint
        )

    async def lock_registry(self) -> None:
        await self._db.execute("SELECT pg_advisory_xact_lock($1, 0)", _REGISTRY_LOCK)

    async def subjects(self, *, prefix: str, deleted: bool, deleted_only: bool) -> list[str]:
        rows = await self._db.fetch(
            """
            SELECT subject FROM registry_subject_versions
            WHERE starts_with(subject, $1)
            GROUP BY subject
            HAVING CASE WHEN $3 THEN bool_and(deleted)
                        WHEN $2 THEN true
                        ELSE bool_or(NOT deleted) END
            ORDER BY subject
            """,
            prefix,
            deleted,
            deleted_only,
        )
        return [row["subject"] for row in rows]

    async def versions(self, subject: str, *, deleted: bool) -> list[SubjectVersion]:
        rows = await self._db.fetch(
            "SELECT * FROM registry_subject_versions WHERE subject = $1 AND ($2 OR NOT deleted)"
            " ORDER BY version",
            subject,
            deleted,
        )
        return [_version(row) for row in rows]

    async def version(self, subject: str, version: int) -> SubjectVersion | None:
        row = await self._db.fetchrow(
            "SELECT * FROM registry_subject_versions WHERE subject = $1 AND version = $2",
            subject,
            version,
        )
        return None if row is None else _version(row)

    async def find(self, subject: str, fingerprint: str, *, deleted: bool) -> SubjectVersion | None:
        row = await self._db.fetchrow(
            """
            SELECT v.* FROM registry_subject_versions v
            JOIN registry_schemas s ON s.id = v.schema_id
            WHERE v.subject = $1 AND s.fingerprint = $2 AND ($3 OR NOT v.deleted)
            ORDER BY v.version DESC LIMIT 1
            """,
            subject,
            fingerprint,
            deleted,
        )
        return None if row is None else _version(row)

    async def schema(self, schema_id: int) -> StoredSchema | None:
        row = await self._db.fetchrow(
            "SELECT id, schema, refs, fingerprint FROM registry_schemas WHERE id = $1", schema_id
        )
        if row is None:
            return None
        references = tuple(Reference(**ref) for ref in json.loads(row["refs"]))
        return StoredSchema(row["id"], row["schema"], references, row["fingerprint"])

    async def schema_ids(self, fingerprint: str) -> list[int]:
        rows = await self._db.fetch(
            "SELECT id FROM registry_schemas WHERE fingerprint = $1 ORDER BY id", fingerprint
        )
        return [row["id"] for row in rows]

    async def usages(self, schema_id: int, *, deleted: bool) -> list[SubjectVersion]:
        rows = await self._db.fetch(
            "SELECT * FROM registry_subject_versions WHERE schema_id = $1 AND ($2 OR NOT deleted)"
            " ORDER BY subject, version",
            schema_id,
            deleted,
        )
        return [_version(row) for row in rows]

    async def referenced_by(self, subject: str, version: int) -> list[int]:
        needle = json.dumps([{"subject": subject, "version": version}])
        # As in Confluent's registry, a schema stops referencing once its versions are
        # soft-deleted: only schemas that a live version holds are listed.
        rows = await self._db.fetch(
            """
            SELECT s.id FROM registry_schemas s WHERE s.refs @> $1::jsonb AND EXISTS (
                SELECT 1 FROM registry_subject_versions v
                WHERE v.schema_id = s.id AND NOT v.deleted
            )
            ORDER BY s.id
            """,
            needle,
        )
        return [row["id"] for row in rows]

    async def add_schema(
        self,
        text: str,
        references: Sequence[Reference],
        fingerprint: str,
        schema_id: int | None = None,
    ) -> int:
        refs = json.dumps([ref.to_json() for ref in references])
        insert = (
            "INSERT INTO registry_schemas (id, fingerprint, schema, refs) VALUES ({id}, $1, $2, $3)"
            " ON CONFLICT (id) DO NOTHING RETURNING id"
        )
        if schema_id is None:
            # An imported id may already hold the next value of the sequence: skip it.
            while True:
                new_id: int | None = await self._db.fetchval(
                    insert.format(id="nextval('registry_schema_id_seq')"), fingerprint, text, refs
                )
                if new_id is not None:
                    return new_id
        inserted = await self._db.fetchval(
            insert.format(id="$4"), fingerprint, text, refs, schema_id
        )
        if inserted is None:
            raise OperationNotPermittedError(
                f"Overwrite new schema with id {schema_id} is not permitted."
            )
        # Keep the sequence past imported ids so that later registrations do not collide.
        await self._db.execute(
            "SELECT setval('registry_schema_id_seq', GREATEST($1, last_value))"
            " FROM registry_schema_id_seq",
            schema_id,
        )
        return schema_id

    async def add_version(self, subject: str, version: int, schema_id: int) -> None:
        await self._db.execute(
            "INSERT INTO registry_subject_versions (subject, version, schema_id)"
            " VALUES ($1, $2, $3)",
            subject,
            version,
            schema_id,
        )

    async def mark_deleted(self, subject: str, versions: Sequence[int]) -> None:
        await self._db.execute(
            "UPDATE registry_subject_versions SET deleted = true"
            " WHERE subject = $1 AND version = ANY($2::integer[])",
            subject,
            list(versions),
        )

    async def purge(self, subject: str, versions: Sequence[int]) -> None:
        rows = await self._db.fetch(
            "DELETE FROM registry_subject_versions"
            " WHERE subject = $1 AND version = ANY($2::integer[])"
            " RETURNING schema_id",
            subject,
            list(versions),
        )
        # A separate statement: within one statement the deleted rows would still be visible.
        await self._db.execute(
            """
            DELETE FROM registry_schemas s WHERE s.id = ANY($1::integer[])
            AND NOT EXISTS (SELECT 1 FROM registry_subject_versions v WHERE v.schema_id = s.id)
            """,
            sorted({row["schema_id"] for row in rows}),
        )
        # Delivered at commit to every registry process sharing the database (itself too),
        # each of which drops these ids from its caches.
        await self._db.execute(
            "SELECT pg_notify($1, $2)", CHANNEL, payload_of({row["schema_id"] for row in rows})
        )

    async def setting(self, kind: Setting, scope: str) -> str | None:
        value: str | None = await self._db.fetchval(
            "SELECT value FROM registry_settings WHERE kind = $1 AND scope = $2", kind.value, scope
        )
        return value

    async def settings(self, kind: Setting, scopes: Sequence[str]) -> dict[str, str]:
        rows = await self._db.fetch(
            "SELECT scope, value FROM registry_settings WHERE kind = $1 AND scope = ANY($2)",
            kind.value,
            list(scopes),
        )
        return {row["scope"]: row["value"] for row in rows}

    async def max_schema_id(self) -> int:
        value: int = await self._db.fetchval("SELECT coalesce(max(id), 0) FROM registry_schemas")
        return value

    async def put_setting(self, kind: Setting, scope: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO registry_settings (kind, scope, value) VALUES ($1, $2, $3)"
            " ON CONFLICT (kind, scope) DO UPDATE SET value = EXCLUDED.value",
            kind.value,
            scope,
            value,
        )

    async def delete_setting(self, kind: Setting, scope: str) -> None:
        await self._db.execute(
            "DELETE FROM registry_settings WHERE kind = $1 AND scope = $2", kind.value, scope
        )

    async def delete_settings(self, kind: Setting) -> None:
        await self._db.execute("DELETE FROM registry_settings WHERE kind = $1", kind.value)


class _Reads(_Transaction):
    """Reads on the pool, outside any transaction; lookups by fingerprint via the finder."""

    def __init__(self, pool: asyncpg.Pool, finder: _Finder) -> None:
        super().__init__(pool)
        self._finder = finder

    async def find(self, subject: str, fingerprint: str, *, deleted: bool) -> SubjectVersion | None:
        return await self._finder.find(subject, fingerprint, deleted)
