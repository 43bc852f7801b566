"""Database URLs and creating databases on a server."""

from __future__ import annotations

import asyncpg
import pytest

from evp.postgres import (
    PostgresError,
    create_database,
    database_url,
    drop_database,
    ensure_database,
    unique_name,
)


def test_database_url_replaces_only_the_database() -> None:
    """The host, user and socket query of a URL are kept; the database is replaced."""
    url = "postgresql://postgres:@/postgres?host=/tmp/socket"
    assert database_url(url, "other") == "postgresql://postgres:@/other?host=/tmp/socket"


async def test_created_database_accepts_connections(evp_postgres: str) -> None:
    """create_database returns a URL one can connect to."""
    name = unique_name("created")
    url = await create_database(evp_postgres, name)
    connection = await asyncpg.connect(url)
    try:
        assert await connection.fetchval("SELECT current_database()") == name
    finally:
        await connection.close()
        await drop_database(evp_postgres, name)


async def test_creating_an_existing_database_is_an_error(evp_postgres: str) -> None:
    """A second create_database of the same name raises PostgresError."""
    name = unique_name("twice")
    await create_database(evp_postgres, name)
    try:
        with pytest.raises(PostgresError):
            await create_database(evp_postgres, name)
    finally:
        await drop_database(evp_postgres, name)


async def test_ensure_database_tolerates_an_existing_database(evp_postgres: str) -> None:
    """ensure_database on an existing database returns its URL."""
    name = unique_name("ensured")
    first = await ensure_database(evp_postgres, name)
    try:
        assert await ensure_database(evp_postgres, name) == first
    finally:
        await drop_database(evp_postgres, name)
