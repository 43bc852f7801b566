"""Fixtures of the fault tests: Kafka, the catalog registry, a fresh database per service."""

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
    "settings_for",
    "topic_prefix",
]
