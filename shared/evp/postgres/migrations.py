"""Versioned SQL migrations: ordered files applied once each and recorded in a table.

Each migration runs in its own transaction together with the row recording it, so a
failing one leaves the database exactly as it was before that migration. A session-level
advisory lock serialises runners: when several processes start at once against one
database, the first applies what is pending and the others find nothing left to do.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from evp.postgres.errors import MigrationError, PostgresError

__all__ = [
    "MIGRATIONS_TABLE",
    "AnyConnection",
    "Migration",
    "load_migrations",
    "migrate",
    "migrate_url",
]

# A connection of its own, or one borrowed from a pool.
AnyConnection = asyncpg.Connection | PoolConnectionProxy

MIGRATIONS_TABLE = "evp_migrations"

# One key for every component: migrations are short, and a single lock rules out two
# components' DDL interleaving in ways neither author tested.
_LOCK_KEY = 0x6576_705F_6D69_67

_FILE_NAME = re.compile(r"^(?P<version>\d{4,})_(?P<name>[a-z0-9_]+)\.sql$")

_CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (
    component  text        NOT NULL,
    version    integer     NOT NULL,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)
"""


@dataclass(frozen=True)
class Migration:
    """One SQL script; ``version`` orders it among its component's migrations."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the script, recorded so later edits to an applied file are caught."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(package: str) -> tuple[Migration, ...]:
    """The ``NNNN_name.sql`` files in ``package``, ordered by version.

    Keeping them in a package of their own (with an ``__init__.py``) is what makes the
    ``*.sql`` package-data rule ship them in wheels.
    """
    folder = resources.files(package)
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match["version"])
        if version in found:
            raise MigrationError(
                "two migrations share a version",
                component=package,
                version=version,
                name=entry.name,
            )
        found[version] = Migration(version, match["name"], entry.read_text(encoding="utf-8"))
    return tuple(found[version] for version in sorted(found))


async def migrate(
    connection: AnyConnection, component: str, migrations: Sequence[Migration]
) -> list[Migration]:
    """Apply ``component``'s pending migrations in order; return the ones applied now."""
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    except asyncpg.PostgresError as error:
        raise PostgresError(
            f"cannot take the migrations lock: {error}", component=component
        ) from error
    try:
        await connection.execute(_CREATE_TABLE)
        rows = await connection.fetch(
            f"SELECT version, checksum FROM {MIGRATIONS_TABLE} WHERE component = $1", component
        )
        applied = {row["version"]: row["checksum"] for row in rows}
        pending = []
        for migration in sorted(migrations, key=lambda m: m.version):
            recorded = applied.get(migration.version)
            if recorded is None:
                pending.append(migration)
            elif recorded != migration.checksum:
                raise MigrationError(
                    "an applied migration was edited afterwards",
                    component=component,
                    version=migration.version,
                    name=migration.name,
                )
        for migration in pending:
            await _apply(connection, component, migration)
        return pending
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def migrate_url(url: str, component: str, migrations: Sequence[Migration]) -> list[Migration]:
    """:func:`migrate` over a connection of its own to ``url``."""
    try:
        connection = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as error:
        raise PostgresError(f"cannot connect to Postgres: {error}", component=component) from error
    try:
        return await migrate(connection, component, migrations)
    finally:
        await connection.close()


async def _apply(connection: AnyConnection, component: str, migration: Migration) -> None:
    try:
        async with connection.transaction():
            await connection.execute(migration.sql)
            await connection.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (component, version, name, checksum)"
                " VALUES ($1, $2, $3, $4)",
                component,
                migration.version,
                migration.name,
                migration.checksum,
            )
    except asyncpg.PostgresError as error:
        raise MigrationError(
            f"migration failed and was rolled back: {error}",
            component=component,
            version=migration.version,
            name=migration.name,
        ) from error
