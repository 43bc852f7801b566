"""pytest fixtures and helpers for tests of the event runtime against Kafka and the registry.

Import the fixtures into a ``conftest.py`` to use them:

* ``kafka_bootstrap_servers`` (session): ``KAFKA_BOOTSTRAP_SERVERS`` when set, else the
  address of an embedded broker started for the session.
* ``catalog_registry`` (session): the URL of a registry holding every subject of
  ``schemas/`` (all versions, with their compatibility levels), on a database of its own.
  Tests that change the registry use the ``schema_registry`` fixture (a fresh one) instead.
* ``topic_prefix`` (test): a fresh prefix, so each test has topics and groups of its own.
* ``messaging_settings`` (test): :class:`~evp.messaging.MessagingSettings` for the above,
  tuned for tests (short backoff and grace times, fast fetches).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from evp.messaging import MessagingSettings
    from evp.postgres.supply import DatabaseSupply

__all__ = [
    "catalog_registry",
    "kafka_bootstrap_servers",
    "messaging_settings",
    "messaging_settings_for",
    "register_catalog",
    "topic_prefix",
]

BOOTSTRAP_VARIABLE = "KAFKA_BOOTSTRAP_SERVERS"


def register_catalog(registry_url: str, schemas: Path, *, subjects: set[str] | None = None) -> None:
    """Register ``schemas``' subjects (all, or those named), every version in order, with levels."""
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    from evp.contract.catalog import load_catalog

    catalog = load_catalog(schemas).require_valid()
    with SchemaRegistryClient({"url": registry_url}) as client:
        for name, subject in sorted(catalog.subjects.items()):
            if subjects is not None and name not in subjects:
                continue
            if subject.compatibility != catalog.default_compatibility:
                client.set_compatibility(name, subject.compatibility)
            for version in subject.versions:
                client.register_schema(name, Schema(version.schema_text, "AVRO"))


def messaging_settings_for(
    bootstrap_servers: str, registry_url: str, topic_prefix: str, *, embedded: bool, **changes: Any
) -> MessagingSettings:
    """Settings for a test: its own topics, short backoff and grace times, quick fetches."""
    from evp.messaging import GroupProtocol, MessagingSettings

    settings = MessagingSettings(
        bootstrap_servers=bootstrap_servers,
        schema_registry_url=registry_url,
        topic_prefix=topic_prefix,
        # KIP-848 joins in milliseconds; the classic protocol waits out the broker's
        # initial rebalance delay (3 s on the embedded broker) for every new group.
        group_protocol=GroupProtocol.CONSUMER if embedded else None,
        retry_backoff=0.01,
        retry_backoff_max=0.05,
        shutdown_timeout=2.0,
        fetch_wait_max_ms=10,
        fetch_queue_backoff_ms=5,
        linger_ms=1,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    return settings.replace(**changes)


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> Iterator[str]:
    """The bootstrap address of the session's Kafka: external when configured, else embedded."""
    external = os.environ.get(BOOTSTRAP_VARIABLE)
    if external:
        yield external
        return
    from evp.messaging import EmbeddedKafka

    with EmbeddedKafka() as kafka:
        yield kafka.bootstrap_servers


@pytest.fixture(scope="session")
def catalog_registry(
    evp_database_supply: DatabaseSupply, pytestconfig: pytest.Config
) -> Iterator[str]:
    """URL of a registry holding every subject of the repository's ``schemas/``."""
    from evp.registry.testing import running_registry

    name, database_url = evp_database_supply.take()
    try:
        with running_registry(database_url=database_url) as registry:
            register_catalog(registry.url, pytestconfig.rootpath / "schemas")
            yield registry.url
    finally:
        evp_database_supply.release(name)


@pytest.fixture
def topic_prefix() -> str:
    """A prefix no other test uses, for topics and consumer groups."""
    return f"test-{uuid.uuid4().hex[:12]}."


@pytest.fixture
def messaging_settings(
    kafka_bootstrap_servers: str, catalog_registry: str, topic_prefix: str
) -> MessagingSettings:
    """Messaging settings on the session's Kafka and catalog registry, with fresh topics."""
    return messaging_settings_for(
        kafka_bootstrap_servers,
        catalog_registry,
        topic_prefix,
        embedded=not os.environ.get(BOOTSTRAP_VARIABLE),
    )
