"""Configs kept for lookups: this process reads its own writes; others' within the TTL."""

from __future__ import annotations

from starlette.testclient import TestClient

from evp.registry.config import Config
from evp.registry.config_cache import ConfigCache
from evp.schema.compatibility import CompatibilityLevel

from .test_config_entity import QUALIFIED, SPLIT, _register

FULL = Config(compatibility=CompatibilityLevel.FULL)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_config_is_kept_until_its_ttl_passes() -> None:
    """A kept config answers until ``ttl`` seconds after it was kept."""
    clock = _Clock()
    cache = ConfigCache(ttl=1.0, clock=clock)
    cache.put("s", FULL, cache.generation)
    clock.now += 0.9
    assert cache.get("s") == FULL
    clock.now += 0.2
    assert cache.get("s") is None


def test_a_change_forgets_every_kept_config() -> None:
    """After a write, nothing kept before answers."""
    cache = ConfigCache()
    cache.put("s", FULL, cache.generation)
    cache.changed()
    assert cache.get("s") is None


def test_a_read_begun_before_a_change_is_not_kept() -> None:
    """A config read while a write committed may be the old one: it is not kept."""
    cache = ConfigCache()
    generation = cache.generation
    cache.changed()
    cache.put("s", FULL, generation)
    assert cache.get("s") is None


def test_a_lookup_sees_a_config_changed_just_before(client: TestClient) -> None:
    """A lookup, then normalize set on the subject, then the same lookup: it finds the
    other spelling at once (the lookup before kept the old config)."""
    _register(client, "r", QUALIFIED)
    assert client.post("/subjects/r", json={"schema": SPLIT}).status_code == 404
    client.put("/config/r", json={"normalize": True})
    assert client.post("/subjects/r", json={"schema": SPLIT}).json()["version"] == 1
    client.delete("/config/r")
    assert client.post("/subjects/r", json={"schema": SPLIT}).status_code == 404
