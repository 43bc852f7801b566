"""Closing a pool: graceful when it can be, bounded when a connection is never released."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from evp.postgres.pool import close_pool


async def test_a_pool_whose_connections_are_back_closes_gracefully(evp_database: str) -> None:
    """With nothing acquired, the pool closes and its connections are closed."""
    pool = await asyncpg.create_pool(evp_database, min_size=1, max_size=2)
    async with pool.acquire() as connection:
        await connection.execute("SELECT 1")
    await close_pool(pool, timeout=5)
    assert pool.is_closing()


async def test_a_connection_never_released_does_not_hold_the_close(
    evp_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A held connection is terminated after the timeout instead of waited for forever."""
    pool = await asyncpg.create_pool(evp_database, min_size=1, max_size=2)
    held = await pool.acquire()
    async with asyncio.timeout(10):
        await close_pool(pool, timeout=0.3)
    assert pool.is_closing()
    with pytest.raises(asyncpg.InterfaceError):
        await held.execute("SELECT 1")
    assert "still had connections in use" in caplog.text
