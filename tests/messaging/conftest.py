"""Fixtures of the messaging tests: Kafka (embedded unless configured), the catalog registry."""

from evp.testing.kafka import (
    catalog_registry,
    kafka_bootstrap_servers,
    messaging_settings,
    topic_prefix,
)

__all__ = ["catalog_registry", "kafka_bootstrap_servers", "messaging_settings", "topic_prefix"]
