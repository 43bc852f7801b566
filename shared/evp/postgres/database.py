"""Databases on a Postgres server: URLs naming them, and creating or dropping them.

Tests give each case a fresh database on one shared server; creating a database is a
few tens of milliseconds, where starting a server is a second.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from evp.postgres.errors import PostgresError

__all__ = [
    "create_database",
    "database_url",
    "drop_database",
    "ensure_database",
    "quote_identifier",
    "unique_name",
]


def database_url(url: str, database: str) -> str:
    """``url`` with its database replaced by ``database`` (host, socket and user kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def quote_identifier(name: str) -> str:
    """``name`` quoted as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def unique_name(prefix: str = "evp") -> str:
    """A database name no other caller will produce."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


async def create_database(
    admin_url: str, name: str, *, template: str | None = None, file_copy: bool = False
) -> str:
    """Create database ``name`` through ``admin_url`` and return its URL.

    ``template`` names the database to copy (tables and all) instead of ``template1``.
    ``file_copy`` copies the template's files (Postgres 15+), several times faster than the
    default on a server with ``fsync`` off, such as a test server.
    """
    statement = f"CREATE DATABASE {quote_identifier(name)}"
    if template is not None:
        statement += f" TEMPLATE {quote_identifier(template)}"
    if file_copy:
        statement += " STRATEGY = FILE_COPY"
    await _execute(admin_url, statement, name)
    return database_url(admin_url, name)


async def ensure_database(admin_url: str, name: str) -> str:
    """Create database ``name`` unless it exists (another process may be creating it too)."""
    try:
        await create_database(admin_url, name)
    except PostgresError as error:
        # Two creators at once: the loser sees a duplicate, or a unique-index violation.
        if not isinstance(
            error.__cause__, asyncpg.DuplicateDatabaseError | asyncpg.UniqueViolationError
        ):
            raise
    return database_url(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name``, disconnecting whoever is still connected to it."""
    await _execute(
        admin_url, f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)", name
    )


async def _execute(admin_url: str, statement: str, name: str) -> None:
    try:
        connection = await asyncpg.connect(admin_url)
    except (OSError, asyncpg.PostgresError) as error:
        raise PostgresError(f"cannot connect to Postgres: {error}", database=name) from error
    try:
        await connection.execute(statement)
    except asyncpg.PostgresError as error:
        raise PostgresError(
            f"{statement.split(' ', maxsplit=1)[0].lower()} failed: {error}", database=name
        ) from error
    finally:
        await connection.close()
