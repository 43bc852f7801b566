"""A real registry for tests: HTTP on a free port, backed by Postgres.

Use it to test producers and consumers against the registry they will meet in
production (compatibility enforced, ids global), which confluent-kafka's mock client is
not::

    with running_registry() as registry:
        client = SchemaRegistryClient({"url": registry.url})

Without ``database_url`` an embedded Postgres is started in a temporary directory and
deleted afterwards. The pytest fixture ``schema_registry`` (from
:mod:`evp.testing.pytest_plugin`) yields such a URL, sharing one embedded Postgres per
test session and giving each test a fresh database.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from evp.registry.app import create_app
from evp.registry.auth import User
from evp.registry.server import BackgroundServer, embedded_database

__all__ = ["RunningRegistry", "running_registry"]


@dataclass(frozen=True)
class RunningRegistry:
    """A registry being served: its base ``url`` and the database it keeps its data in."""

    url: str
    database_url: str


@contextmanager
def running_registry(
    *,
    database_url: str | None = None,
    data_dir: Path | str | None = None,
    users: Sequence[User] = (),
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[RunningRegistry]:
    """Serve a registry for the duration of the ``with`` block.

    ``database_url`` points at an existing database (its tables are migrated on start);
    otherwise Postgres is embedded in ``data_dir``, or in a temporary directory.
    """
    with ExitStack() as stack:
        if database_url is None:
            temporary = data_dir is None
            if data_dir is None:
                data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="evp-registry-"))
            database_url = embedded_database(stack, data_dir, delete_on_stop=temporary)
        server = BackgroundServer(create_app(database_url, users=users), host=host, port=port)
        stack.enter_context(server)
        yield RunningRegistry(server.url, database_url)
