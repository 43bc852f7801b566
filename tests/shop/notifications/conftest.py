"""Fixtures of the notifications tests: Kafka, the catalog registry, a database each."""

import pytest

__all__ = [
    "fast_retries",
]


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look for due mail often and retry quickly, so tests wait milliseconds, not minutes."""
    monkeypatch.setenv("NOTIFICATIONS_POLL_INTERVAL_S", "0.05")
    monkeypatch.setenv("NOTIFICATIONS_RETRY_BASE_S", "0.05")
    monkeypatch.setenv("NOTIFICATIONS_RETRY_MAX_S", "0.2")
    monkeypatch.setenv("NOTIFICATIONS_MAX_ATTEMPTS", "3")
    monkeypatch.delenv("NOTIFICATIONS_SMTP_HOST", raising=False)
