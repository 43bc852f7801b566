"""Fixtures of the notifications tests: Kafka, the catalog registry, a database each."""

import pytest

from evp.service.testing import settings_for
from evp.testing.kafka import (
    catalog_registry,
    kafka_bootstrap_servers,
    messaging_settings,
    topic_prefix,
)

__all__ = [
    "catalog_registry",
    "fast_retries",
    "kafka_bootstrap_servers",
    "messaging_settings",
    "settings_for",
    "topic_prefix",
]


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look for due mail often and retry quickly, so tests wait milliseconds, not minutes."""
    monkeypatch.setenv("NOTIFICATIONS_POLL_INTERVAL_S", "0.05")
    monkeypatch.setenv("NOTIFICATIONS_RETRY_BASE_S", "0.05")
    monkeypatch.setenv("NOTIFICATIONS_RETRY_MAX_S", "0.2")
    monkeypatch.setenv("NOTIFICATIONS_MAX_ATTEMPTS", "3")
    monkeypatch.delenv("NOTIFICATIONS_SMTP_HOST", raising=False)
