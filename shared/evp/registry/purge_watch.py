"""Telling every registry process sharing a database which schema ids were purged.

Each process caches schemas by id (an id's text never changes while it exists). A
permanent delete in one process may remove an id, so the purging transaction sends a
Postgres ``NOTIFY`` with the ids; Postgres delivers it at commit, and only then, to every
process listening on :data:`CHANNEL`, each of which drops those ids from its caches.

While the listening connection is down, notifications are lost: on losing it and again
on getting it back, the watch reports ``None`` (anything may have been purged), and the
registry forgets every cached schema.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

__all__ = ["CHANNEL", "MAX_PAYLOAD", "Forget", "PurgeWatch", "payload_of", "purged_ids"]

_log = logging.getLogger(__name__)

CHANNEL = "evp_registry_purged"
# Postgres refuses payloads of 8000 bytes or more; past this, the notice says "everything".
MAX_PAYLOAD = 7_000
_RETRY_FIRST_S = 0.1
_RETRY_LIMIT_S = 5.0

Forget = Callable[[frozenset[int] | None], None]
"""Called with the ids purged elsewhere, or ``None`` when any may have been."""


def payload_of(schema_ids: set[int]) -> str:
    """The notice of ``schema_ids``: the ids comma-separated, or empty (all) when too long."""
    text = ",".join(str(i) for i in sorted(schema_ids))
    return text if len(text) <= MAX_PAYLOAD else ""


def purged_ids(payload: str) -> frozenset[int] | None:
    """The ids a notice names; ``None`` for an empty or unreadable one (forget everything)."""
    try:
        ids = frozenset(int(part) for part in payload.split(",") if part)
    except ValueError:
        return None
    return ids or None


class PurgeWatch:
    """A connection of its own listening on :data:`CHANNEL`, reconnecting when it drops."""

    def __init__(self, url: str, forget: Forget) -> None:
        self._url = url
        self._forget = forget
        self._connection: asyncpg.Connection | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        """Connect and listen: every notice from now on is passed to ``forget``."""
        await self._connect()

    async def close(self) -> None:
        """Stop listening."""
        self._closed = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            await asyncio.gather(self._reconnecting, return_exceptions=True)
            self._reconnecting = None
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            await connection.close()

    async def _connect(self) -> None:
        connection = await asyncpg.connect(self._url)
        connection.add_termination_listener(self._lost)
        await connection.add_listener(CHANNEL, self._notified)
        self._connection = connection

    def _notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        self._tell(purged_ids(str(payload)))

    def _lost(self, connection: object) -> None:
        if self._closed or connection is not self._connection:
            return
        self._connection = None
        _log.warning("registry: lost the purge notices' connection; reconnecting")
        self._tell(None)
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = _RETRY_FIRST_S
        while not self._closed:
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                _log.warning("registry: purge notices still unavailable: %s", error)
                delay = min(_RETRY_LIMIT_S, delay * 2)
                continue
            # Notices sent while disconnected are lost: whatever was cached then may be stale.
            self._tell(None)
            self._reconnecting = None
            return

    def _tell(self, ids: frozenset[int] | None) -> None:
        try:
            self._forget(ids)
        except Exception:
            _log.exception("registry: forgetting purged schemas failed")
