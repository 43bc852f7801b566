"""Run a service in-process in a test, on real parts: Kafka, the registry, Postgres.

::

    async with running_service(payments.service, settings) as payments:
        response = await payments.http.get("/health/ready")
        await payments.wait_for(lambda: ...)

The service starts exactly as ``evp serve`` starts it (its lifespan), and HTTP requests go
through the whole app (middleware, auth, problem responses) without a socket, as
Starlette's ``TestClient`` does. The pytest fixtures of :mod:`evp.testing.kafka` and
the database supply give the settings: import :func:`settings_for` into a ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evp.eventstore.database import ServiceDatabase
from evp.messaging.config import MessagingSettings
from evp.postgres.supply import DatabaseSupply
from evp.service.inprocess import RunningService, running_service
from evp.service.settings import ServiceSettings

__all__ = ["RunningService", "running_service", "service_settings", "settings_for"]


def service_settings(
    service: str,
    *,
    database_url: str,
    messaging: MessagingSettings,
    data_dir: Path | None = None,
    **changes: object,
) -> ServiceSettings:
    """Settings for running ``service`` in a test on the given database and messaging."""
    settings = ServiceSettings(
        service=service,
        database=ServiceDatabase(service, database_url, data_dir or Path(".evp") / service),
        messaging=messaging,
    )
    return settings.replace(**changes) if changes else settings


@pytest.fixture
def settings_for(
    evp_database_supply: DatabaseSupply, messaging_settings: MessagingSettings
) -> Iterator[Callable[[str], ServiceSettings]]:
    """A factory of settings for the services of a test: a fresh database each (dropped
    afterwards) and the test's own topics (``messaging_settings``)."""
    taken: list[str] = []

    def settings(service: str) -> ServiceSettings:
        name, url = evp_database_supply.take()
        taken.append(name)
        return service_settings(service, database_url=url, messaging=messaging_settings)

    yield settings
    for name in taken:
        evp_database_supply.release(name)
