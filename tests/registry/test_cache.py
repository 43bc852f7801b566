"""Parsed schemas are cached by id: checks against many versions do not re-parse them."""

from __future__ import annotations

from evp.registry.requests import SchemaRequest
from evp.registry.service import Registry
from evp.schema.compatibility import CompatibilityLevel

from .schemas import field, record


def _schema(n: int) -> SchemaRequest:
    return SchemaRequest(record(*(field(f"f{i}", "int", default=0) for i in range(n + 1))))


async def test_full_transitive_checks_parse_each_stored_version_once(registry: Registry) -> None:
    """Two FULL_TRANSITIVE checks against 100 versions parse each version once, on the first."""
    await registry.set_compatibility(CompatibilityLevel.NONE)
    for n in range(100):
        await registry.register("events", _schema(n))
    cold = Registry(registry.store)
    await cold.set_compatibility(CompatibilityLevel.FULL_TRANSITIVE)
    assert (await cold.test_compatibility("events", _schema(100))).is_compatible
    assert cold.cache.misses == 100
    assert (await cold.test_compatibility("events", _schema(100))).is_compatible
    assert (cold.cache.misses, cold.cache.hits) == (100, 100)


async def test_a_fresh_registry_parses_each_version_once(registry: Registry) -> None:
    """A registry with a cold cache parses each stored version on first use only."""
    for n in range(3):
        await registry.register("events", _schema(n))
    cold = Registry(registry.store)
    await cold.set_compatibility(CompatibilityLevel.FULL_TRANSITIVE, "events")
    await cold.test_compatibility("events", _schema(3))
    await cold.test_compatibility("events", _schema(3))
    assert (cold.cache.misses, len(cold.cache)) == (3, 3)
