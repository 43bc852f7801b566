"""pytest fixtures of the platform, loaded through the ``pytest11`` entry point.

* ``evp_postgres`` (session): the admin URL of a Postgres server, ``EVP_TEST_DATABASE_URL``
  when set (the role must be allowed to create databases), else one embedded server
  started for the whole session, with durability off for speed.
* ``evp_database`` (test): the URL of a fresh, empty database on that server, dropped
  after the test. Databases are created ahead on a background thread, so tests seldom
  wait for one.
* ``schema_registry`` (test): the base URL of a registry served over HTTP on a free port,
  backed by a fresh database.

Imports are deferred into the fixtures, so projects that never use them pay nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from evp.postgres.supply import DatabaseSupply

__all__ = ["evp_database", "evp_database_supply", "evp_postgres", "schema_registry"]

TEST_DATABASE_URL_VARIABLE = "EVP_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def evp_postgres() -> Iterator[str]:
    """Admin URL of the session's Postgres server."""
    external = os.environ.get(TEST_DATABASE_URL_VARIABLE)
    if external:
        yield external
        return
    from evp.postgres import EmbeddedPostgres

    # Not under pytest's basetemp: concurrent pytest runs rotate and prune that tree, and a
    # running server whose files vanish crashes.
    with (
        tempfile.TemporaryDirectory(prefix="evp-postgres-") as parent,
        EmbeddedPostgres(Path(parent) / "data", delete_on_stop=True, durable=False) as server,
    ):
        yield server.url()


@pytest.fixture(scope="session")
def evp_database_supply(evp_postgres: str) -> Iterator[DatabaseSupply]:
    """The session's supply of fresh databases on :func:`evp_postgres`."""
    from evp.postgres.supply import DatabaseSupply

    # Copying files is the fast way on the embedded server; an external one may be older.
    embedded = not os.environ.get(TEST_DATABASE_URL_VARIABLE)
    with DatabaseSupply(evp_postgres, file_copy=embedded) as supply:
        yield supply


@pytest.fixture
def evp_database(evp_database_supply: DatabaseSupply) -> Iterator[str]:
    """URL of a database of this test's own, dropped after it."""
    name, url = evp_database_supply.take()
    yield url
    evp_database_supply.release(name)


@pytest.fixture
def schema_registry(evp_database: str) -> Iterator[str]:
    """Base URL of a registry served for this test, with a database of its own."""
    from evp.registry.testing import running_registry

    with running_registry(database_url=evp_database) as registry:
        yield registry.url
