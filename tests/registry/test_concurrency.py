"""Several registry processes sharing one database: ids and versions assigned in Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from evp.registry.postgres_store import PostgresRegistryStore
from evp.registry.requests import SchemaRequest
from evp.registry.service import Registry

from .schemas import field, record


@pytest.fixture
async def registries(evp_database: str) -> AsyncIterator[list[Registry]]:
    """Three registries with pools of their own on one database, as three processes would have."""
    stores = [await PostgresRegistryStore.connect(evp_database) for _ in range(3)]
    yield [Registry(store) for store in stores]
    for store in stores:
        await store.close()


def _schema(n: int) -> SchemaRequest:
    # Each version adds a field with a default: all of them are mutually compatible.
    return SchemaRequest(record(*(field(f"f{i}", "int", default=0) for i in range(n + 1))))


async def test_concurrent_registrations_get_distinct_consecutive_versions(
    registries: list[Registry],
) -> None:
    """Twelve schemas registered at once through three registries become versions 1 to 12."""
    ids = await asyncio.gather(
        *(registries[n % 3].register("orders", _schema(n)) for n in range(12))
    )
    assert len(set(ids)) == 12
    assert await registries[0].versions("orders") == list(range(1, 13))


async def test_one_schema_registered_at_once_under_many_subjects_has_one_id(
    registries: list[Registry],
) -> None:
    """The same new schema, registered concurrently under nine subjects, gets a single id."""
    ids = await asyncio.gather(
        *(registries[n % 3].register(f"subject-{n}", _schema(0)) for n in range(9))
    )
    assert set(ids) == {ids[0]}


async def test_one_schema_registered_at_once_under_one_subject_has_one_version(
    registries: list[Registry],
) -> None:
    """Racing registrations of one schema under one subject add exactly one version."""
    await asyncio.gather(*(registry.register("users", _schema(0)) for registry in registries))
    assert await registries[1].versions("users") == [1]
