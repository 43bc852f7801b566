"""Fixtures of the registry tests: the app under TestClient and the service, each on a fresh
database of the session's Postgres (see :mod:`evp.testing.pytest_plugin`).

Fresh databases here are copies of a template that already holds the registry's tables,
so no test spends its time running the migrations.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.testclient import TestClient

from evp.postgres import (
    DatabaseSupply,
    create_database,
    drop_database,
    load_migrations,
    migrate_url,
    unique_name,
)
from evp.registry.app import create_app
from evp.registry.postgres_store import MIGRATIONS_COMPONENT, PostgresRegistryStore
from evp.registry.service import Registry
from evp.testing.pytest_plugin import TEST_DATABASE_URL_VARIABLE


@pytest.fixture(scope="session")
def registry_supply(evp_postgres: str) -> Iterator[DatabaseSupply]:
    """Fresh databases with the registry's tables, created ahead of the tests."""
    template = unique_name("registry_template")

    async def prepare() -> None:
        url = await create_database(evp_postgres, template)
        await migrate_url(url, MIGRATIONS_COMPONENT, load_migrations("evp.registry.migrations"))

    asyncio.run(prepare())
    embedded = not os.environ.get(TEST_DATABASE_URL_VARIABLE)
    with DatabaseSupply(evp_postgres, template=template, file_copy=embedded) as supply:
        yield supply
    asyncio.run(drop_database(evp_postgres, template))


@pytest.fixture
def evp_database(registry_supply: DatabaseSupply) -> Iterator[str]:
    """A database of this test's own, its registry tables already in place."""
    name, url = registry_supply.take()
    yield url
    registry_supply.release(name)


@pytest.fixture
def client(evp_database: str) -> Iterator[TestClient]:
    """The registry app, started on a fresh database."""
    with TestClient(create_app(evp_database)) as test_client:
        yield test_client


@pytest.fixture
async def store(evp_database: str) -> AsyncIterator[PostgresRegistryStore]:
    """The Postgres store on a fresh database."""
    opened = await PostgresRegistryStore.connect(evp_database)
    yield opened
    await opened.close()


@pytest.fixture
def registry(store: PostgresRegistryStore) -> Registry:
    """The registry service over :func:`store`."""
    return Registry(store)
