"""confluent-kafka's SchemaRegistryClient against a registry served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
    SchemaRegistryError,
    ServerConfig,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from .schemas import USER_BREAKING, USER_V1, USER_V2, field, record

ADDRESS = record(field("street", "string"), name="Address", namespace="shop")


@pytest.fixture
def sr(schema_registry: str) -> Iterator[SchemaRegistryClient]:
    """A client of the test's registry, without retries so that errors surface at once."""
    with SchemaRegistryClient({"url": schema_registry, "max.retries": 0}) as client:
        yield client


def test_register_and_get_by_id(schema_registry: str, sr: SchemaRegistryClient) -> None:
    """A registered schema is fetched back by its id, by a client with an empty cache."""
    schema_id = sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    with SchemaRegistryClient({"url": schema_registry}) as fresh:
        fetched = fresh.get_schema(schema_id)
    assert fetched.schema_type == "AVRO"
    assert "User" in (fetched.schema_str or "")


def test_lookup_schema(sr: SchemaRegistryClient) -> None:
    """lookup_schema finds the subject version of a registered schema."""
    schema_id = sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    found = sr.lookup_schema("users-value", Schema(USER_V1, "AVRO"))
    assert (found.schema_id, found.version, found.subject) == (schema_id, 1, "users-value")


def test_versions_and_latest(sr: SchemaRegistryClient) -> None:
    """get_versions lists versions; get_latest_version and get_version answer them."""
    sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    second = sr.register_schema("users-value", Schema(USER_V2, "AVRO"))
    assert sr.get_versions("users-value") == [1, 2]
    assert sr.get_latest_version("users-value").schema_id == second
    assert sr.get_version("users-value", 1).version == 1
    assert sr.get_subjects() == ["users-value"]


def test_incompatible_registration_is_refused(sr: SchemaRegistryClient) -> None:
    """Registering a breaking change raises SchemaRegistryError 409 / 40901."""
    sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    with pytest.raises(SchemaRegistryError) as raised:
        sr.register_schema("users-value", Schema(USER_BREAKING, "AVRO"))
    assert (raised.value.http_status_code, raised.value.error_code) == (409, 40901)


def test_test_compatibility(sr: SchemaRegistryClient) -> None:
    """test_compatibility answers true for a safe change and false for a breaking one."""
    sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    assert sr.test_compatibility("users-value", Schema(USER_V2, "AVRO")) is True
    assert (
        sr.test_compatibility("users-value", Schema(USER_BREAKING, "AVRO"), verbose=True) is False
    )
    assert sr.test_compatibility_all_versions("users-value", Schema(USER_V2, "AVRO")) is True


def test_compatibility_config(sr: SchemaRegistryClient) -> None:
    """set_compatibility and get_compatibility round-trip, globally and per subject."""
    sr.set_compatibility(level="FULL")
    sr.set_compatibility("users-value", "NONE")
    assert sr.get_compatibility() == "FULL"
    assert sr.get_compatibility("users-value") == "NONE"
    assert str(sr.get_config("users-value").compatibility_level) == "NONE"
    assert str(sr.delete_config("users-value").compatibility_level) == "NONE"


def test_modes(sr: SchemaRegistryClient) -> None:
    """update_mode and get_mode round-trip, globally and per subject."""
    assert sr.update_mode("users-value", "READONLY") == "READONLY"
    assert sr.get_mode("users-value") == "READONLY"
    assert sr.delete_mode("users-value") == "READONLY"
    assert sr.update_global_mode("IMPORT") == "IMPORT"
    assert sr.get_global_mode() == "IMPORT"


def test_read_only_mode_refuses_registration(sr: SchemaRegistryClient) -> None:
    """A subject in READONLY mode refuses new schemas with 42205."""
    sr.update_mode("users-value", "READONLY")
    with pytest.raises(SchemaRegistryError) as raised:
        sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    assert raised.value.error_code == 42205


def test_deletes(sr: SchemaRegistryClient) -> None:
    """Soft then permanent deletes of a version and a subject."""
    sr.register_schema("users-value", Schema(USER_V1, "AVRO"))
    sr.register_schema("users-value", Schema(USER_V2, "AVRO"))
    assert sr.delete_version("users-value", 2) == 2
    assert sr.delete_version("users-value", 2, permanent=True) == 2
    assert sr.delete_subject("users-value") == [1]
    assert sr.delete_subject("users-value", permanent=True) == [1]
    assert sr.get_subjects(deleted=True) == []


def test_schema_ids_list_subjects_and_versions(sr: SchemaRegistryClient) -> None:
    """get_subjects_by_schema_id and get_schema_versions list the holders of an id."""
    schema_id = sr.register_schema("a", Schema(USER_V1, "AVRO"))
    sr.register_schema("b", Schema(USER_V1, "AVRO"))
    assert sr.get_subjects_by_schema_id(schema_id) == ["a", "b"]
    assert [(v.subject, v.version) for v in sr.get_schema_versions(schema_id)] == [
        ("a", 1),
        ("b", 1),
    ]


def test_references(sr: SchemaRegistryClient) -> None:
    """A schema referencing another registers, resolves and is listed as referencing it."""
    sr.register_schema("address", Schema(ADDRESS, "AVRO"))
    refs = [SchemaReference("shop.Address", "address", 1)]
    schema_id = sr.register_schema(
        "users-value", Schema(record(field("home", "shop.Address")), "AVRO", refs)
    )
    assert sr.get_latest_version("users-value").schema.references == refs
    assert sr.get_referenced_by("address", 1) == [schema_id]
    with pytest.raises(SchemaRegistryError) as raised:
        sr.delete_version("address", 1)
    assert raised.value.error_code == 42206


def test_schema_types(sr: SchemaRegistryClient) -> None:
    """get_schema_types answers AVRO."""
    assert sr.get_schema_types() == ["AVRO"]


def test_avro_serializer_round_trip(sr: SchemaRegistryClient) -> None:
    """confluent-kafka's Avro serializer registers through the registry and decodes by id."""
    context = SerializationContext("users", MessageField.VALUE)
    payload = AvroSerializer(sr, USER_V1)({"id": 7}, context)
    assert payload is not None
    assert sr.get_latest_version("users-value").schema_id == int.from_bytes(payload[1:5], "big")
    assert AvroDeserializer(sr)(payload, context) == {"id": 7}


def test_server_config_round_trips(sr: SchemaRegistryClient) -> None:
    """set_config and set_compatibility each change only their own fields of the config."""
    sr.set_config("users-value", ServerConfig(compatibility_group="app.version"))
    sr.set_compatibility("users-value", "FULL")
    config = sr.get_config("users-value")
    assert (config.compatibility_group, str(config.compatibility_level)) == ("app.version", "FULL")


def test_subject_with_a_slash(sr: SchemaRegistryClient) -> None:
    """The client's percent-encoded subject with a slash registers and reads back."""
    schema_id = sr.register_schema("team/users-value", Schema(USER_V1, "AVRO"))
    assert sr.get_latest_version("team/users-value").schema_id == schema_id
    assert sr.get_subjects() == ["team/users-value"]
