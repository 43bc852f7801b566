"""Purges reach the caches of every registry process sharing the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from evp.registry.errors import SchemaNotFoundError
from evp.registry.postgres_store import PostgresRegistryStore
from evp.registry.purge_watch import CHANNEL, MAX_PAYLOAD, payload_of, purged_ids
from evp.registry.requests import SchemaRequest
from evp.registry.service import Registry

from .schemas import USER_V1

_TIMEOUT_S = 10.0


async def _eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(_TIMEOUT_S):
        while not condition():
            await asyncio.sleep(0.01)


async def _resolves(registry: Registry, schema_id: int) -> bool:
    try:
        await registry.schema(schema_id)
    except SchemaNotFoundError:
        return False
    return True


@pytest.fixture
async def two_processes(evp_database: str) -> AsyncIterator[tuple[Registry, Registry]]:
    """Two registries with pools of their own on one database, each watching purges."""
    stores = [await PostgresRegistryStore.connect(evp_database) for _ in range(2)]
    first, second = (Registry(store) for store in stores)
    async with stores[0].watch_purges(first.forget), stores[1].watch_purges(second.forget):
        yield first, second
    for store in stores:
        await store.close()


async def test_a_purge_elsewhere_evicts_the_cached_schema(
    two_processes: tuple[Registry, Registry],
) -> None:
    """A schema id cached by one process stops resolving there once another purged it."""
    purging, reading = two_processes
    schema_id = await purging.register("users", SchemaRequest(USER_V1))
    assert (await reading.schema(schema_id)).id == schema_id  # now cached in ``reading``
    await purging.delete_subject("users")
    await purging.delete_subject("users", permanent=True)
    async with asyncio.timeout(_TIMEOUT_S):
        while await _resolves(reading, schema_id):
            await asyncio.sleep(0.01)


async def test_a_soft_delete_keeps_the_schema_cached_elsewhere(
    two_processes: tuple[Registry, Registry],
) -> None:
    """Soft deletes keep ids resolvable, so they send no notice and evict nothing."""
    deleting, reading = two_processes
    schema_id = await deleting.register("users", SchemaRequest(USER_V1))
    await reading.schema(schema_id)
    await deleting.delete_subject("users")
    await asyncio.sleep(0.2)  # time for a notice to arrive, were one sent
    hits = reading.stored.hits
    assert (await reading.schema(schema_id)).id == schema_id
    assert reading.stored.hits == hits + 1


async def test_a_lost_connection_forgets_everything_and_reconnects(evp_database: str) -> None:
    """When the listening connection drops, every id is forgotten; notices resume after."""
    store = await PostgresRegistryStore.connect(evp_database)
    heard: list[frozenset[int] | None] = []
    try:
        async with store.watch_purges(heard.append):
            killer = await asyncpg.connect(evp_database)
            try:
                await killer.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                )
                await _eventually(lambda: heard.count(None) == 2)  # lost, then reconnected
                await killer.execute("SELECT pg_notify($1, $2)", CHANNEL, "7,8")
                await _eventually(lambda: len(heard) == 3)
            finally:
                await killer.close()
    finally:
        await store.close()
    assert heard == [None, None, frozenset({7, 8})]


def test_notice_payload_names_the_ids() -> None:
    """A notice lists the purged ids, and reads back as them."""
    assert purged_ids(payload_of({3, 1, 2})) == frozenset({1, 2, 3})


def test_too_many_ids_for_a_notice_mean_forget_everything() -> None:
    """Past Postgres's payload limit the notice is empty, which reads as 'any id'."""
    many = set(range(MAX_PAYLOAD))
    assert payload_of(many) == ""
    assert purged_ids("") is None


def test_an_unreadable_notice_means_forget_everything() -> None:
    """A payload that is not a list of ids errs on the safe side."""
    assert purged_ids("not-ids") is None


async def test_a_store_on_a_bare_pool_still_starts(evp_database: str) -> None:
    """Without a URL to listen with, watching is skipped rather than refused."""
    pool = await asyncpg.create_pool(evp_database, min_size=1, max_size=2)
    heard: list[frozenset[int] | None] = []
    try:
        async with PostgresRegistryStore(pool).watch_purges(heard.append):
            pass
    finally:
        await pool.close()
    assert heard == []
