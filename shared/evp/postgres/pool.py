"""Closing a connection pool within a bounded time."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

__all__ = ["close_pool"]

_log = logging.getLogger("evp.postgres")


async def close_pool(pool: asyncpg.Pool, timeout: float = 10.0) -> None:
    """Close ``pool`` gracefully, or terminate its connections after ``timeout`` seconds.

    asyncpg's graceful close waits for every acquired connection to come back, however
    long that takes; one held by a stuck task would hold a process's stop forever.
    """
    try:
        await asyncio.wait_for(pool.close(), timeout)
    except TimeoutError:
        _log.error(
            "a connection pool still had connections in use after %.1f s; terminated", timeout
        )
        pool.terminate()
