"""confluent-kafka's AsyncSchemaRegistryClient against a registry served over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from confluent_kafka.schema_registry import (
    AsyncSchemaRegistryClient,
    Schema,
    SchemaReference,
    SchemaRegistryError,
)

from .schemas import USER_BREAKING, USER_V1, USER_V2, field, record


@pytest.fixture
async def sr(schema_registry: str) -> AsyncIterator[AsyncSchemaRegistryClient]:
    """An async client of the test's registry, without retries."""
    client = AsyncSchemaRegistryClient({"url": schema_registry, "max.retries": 0})
    yield client
    await client.aclose()


async def test_register_lookup_and_get(sr: AsyncSchemaRegistryClient) -> None:
    """Register, look up and fetch by id through the async client."""
    schema_id = await sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    found = await sr.lookup_schema("users-value", Schema(USER_V1, "AVRO"))
    assert (found.schema_id, found.version) == (schema_id, 1)
    assert (await sr.get_schema(schema_id)).schema_type == "AVRO"


async def test_versions_and_compatibility(sr: AsyncSchemaRegistryClient) -> None:
    """Versions count up and compatibility answers through the async client."""
    await sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    await sr.register_schema("users-value", Schema(USER_V2, "AVRO"))
    assert await sr.get_versions("users-value") == [1, 2]
    assert (await sr.get_latest_version("users-value")).version == 2
    breaking = Schema(record(field("id", "string")), "AVRO")
    assert await sr.test_compatibility("users-value", breaking) is False


async def test_incompatible_registration_is_refused(sr: AsyncSchemaRegistryClient) -> None:
    """A breaking change raises 409 / 40901 through the async client."""
    await sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    with pytest.raises(SchemaRegistryError) as raised:
        await sr.register_schema("users-value", Schema(USER_BREAKING, "AVRO"))
    assert raised.value.error_code == 40901


async def test_config_modes_and_deletes(sr: AsyncSchemaRegistryClient) -> None:
    """Config, mode and delete calls round-trip through the async client."""
    await sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    await sr.set_compatibility("users-value", "FORWARD")
    assert await sr.get_compatibility("users-value") == "FORWARD"
    assert await sr.update_mode("users-value", "READONLY") == "READONLY"
    await sr.delete_mode("users-value")
    assert await sr.delete_subject("users-value") == [1]
    assert await sr.get_subjects() == []


async def test_references(sr: AsyncSchemaRegistryClient) -> None:
    """References register and are reported through the async client."""
    address = record(field("street", "string"), name="Address", namespace="shop")
    await sr.register_schema("address", Schema(address, "AVRO"))
    refs = [SchemaReference("shop.Address", "address", 1)]
    schema = Schema(record(field("home", "shop.Address")), "AVRO", refs)
    schema_id = await sr.register_schema("users-value", schema)
    assert await sr.get_referenced_by("address", 1) == [schema_id]
