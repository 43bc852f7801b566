"""Fixtures of the end-to-end tests: Kafka, the catalog registry and service databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from evp.postgres.supply import DatabaseSupply
from evp.service.testing import settings_for
from evp.testing.kafka import (
    catalog_registry,
    kafka_bootstrap_servers,
    messaging_settings,
    topic_prefix,
)

__all__ = [
    "catalog_registry",
    "kafka_bootstrap_servers",
    "messaging_settings",
    "service_database",
    "settings_for",
    "topic_prefix",
]


@pytest.fixture
def service_database(evp_database_supply: DatabaseSupply) -> Iterator[Callable[[], str]]:
    """A factory of fresh databases, one per service of the test, dropped afterwards."""
    taken: list[str] = []

    def take() -> str:
        name, url = evp_database_supply.take()
        taken.append(name)
        return url

    yield take
    for name in taken:
        evp_database_supply.release(name)
