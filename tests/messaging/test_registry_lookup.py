"""The codec's schema lookup over the registry: strict and development modes, and caching."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from evp.avro import SchemaNotRegistered, UnknownSchemaId
from evp.events import OrderCancelled, OrderPlaced
from evp.messaging import (
    IncompatibleSchema,
    MessagingSettings,
    RegistrySchemaLookup,
    RegistryUnavailable,
)
from evp.registry.auth import Role, User
from evp.registry.testing import running_registry
from evp.settings import SchemaMode
from evp.testing.kafka import register_catalog

from .samples import SCHEMAS


def test_strict_mode_refuses_an_unregistered_schema(schema_registry: str) -> None:
    """Strict mode names the subject and tells the user to run `evp schemas register`."""
    with (
        RegistrySchemaLookup(schema_registry) as lookup,
        pytest.raises(SchemaNotRegistered, match="evp schemas register") as refused,
    ):
        lookup.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA)
    assert refused.value.subject == OrderPlaced.SUBJECT


def test_strict_mode_answers_the_id_of_a_registered_schema(schema_registry: str) -> None:
    """A registered schema's id is answered, and its text by that id."""
    register_catalog(schema_registry, SCHEMAS, subjects={OrderPlaced.SUBJECT})
    with RegistrySchemaLookup(schema_registry) as lookup:
        schema_id = lookup.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA)
        text = lookup.schema_by_id(schema_id)
    assert json.loads(text) == json.loads(OrderPlaced.AVRO_SCHEMA)


def test_development_mode_registers_a_compatible_schema(schema_registry: str) -> None:
    """Development mode registers a schema the registry accepts as compatible."""
    with RegistrySchemaLookup(schema_registry, mode=SchemaMode.DEVELOPMENT) as lookup:
        schema_id = lookup.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA)
    with RegistrySchemaLookup(schema_registry) as strict:
        assert strict.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA) == schema_id


def test_development_mode_refuses_an_incompatible_schema_with_reasons(
    schema_registry: str,
) -> None:
    """An incompatible schema raises with the registry's verbose reasons."""
    older = json.loads(OrderCancelled.AVRO_SCHEMA)
    older["fields"] = [f for f in older["fields"] if f["name"] != "reason"]
    with RegistrySchemaLookup(schema_registry, mode=SchemaMode.DEVELOPMENT) as lookup:
        lookup.id_for(OrderCancelled.SUBJECT, json.dumps(older))
        # The current class adds `reason` without a default: it cannot read what `older` wrote.
        with pytest.raises(IncompatibleSchema) as refused:
            lookup.id_for(OrderCancelled.SUBJECT, OrderCancelled.AVRO_SCHEMA)
    assert refused.value.subject == OrderCancelled.SUBJECT
    assert any("READER_FIELD_MISSING_DEFAULT_VALUE" in r for r in refused.value.reasons)


def test_an_unknown_schema_id_raises(schema_registry: str) -> None:
    """Asking for an id the registry never assigned raises UnknownSchemaId."""
    with RegistrySchemaLookup(schema_registry) as lookup, pytest.raises(UnknownSchemaId):
        lookup.schema_by_id(999_999)


def test_answers_are_asked_of_the_registry_once(schema_registry: str) -> None:
    """Repeated lookups of one schema reach the registry once each way."""
    register_catalog(schema_registry, SCHEMAS, subjects={OrderPlaced.SUBJECT})
    with RegistrySchemaLookup(schema_registry) as lookup:
        for _ in range(3):
            lookup.schema_by_id(lookup.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA))
    assert lookup.requests == 1


USERS = (User("writer", "w-s3cret", Role.READ_WRITE),)


@pytest.fixture
def guarded_registry(evp_database: str) -> Iterator[str]:
    """A registry that answers only the user writer with password w-s3cret."""
    with running_registry(database_url=evp_database, users=USERS) as registry:
        yield registry.url


def _settings(registry: str, **environ: str) -> MessagingSettings:
    return MessagingSettings.from_env(
        {"SCHEMA_REGISTRY_URL": registry, "EVP_SCHEMA_MODE": "development", **environ}
    )


def test_credentials_from_the_setting_authenticate(guarded_registry: str) -> None:
    """SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO lets the lookup register and read back."""
    settings = _settings(guarded_registry, SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO="writer:w-s3cret")
    with RegistrySchemaLookup.from_settings(settings) as lookup:
        schema_id = lookup.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA)
    strict = settings.replace(schema_mode=SchemaMode.STRICT)
    with RegistrySchemaLookup.from_settings(strict) as fresh:
        assert fresh.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA) == schema_id
        assert "OrderPlaced" in fresh.schema_by_id(schema_id)


def test_verbose_reasons_are_asked_with_the_credentials(guarded_registry: str) -> None:
    """The compatibility reasons come through a registry that requires authentication."""
    older = json.loads(OrderCancelled.AVRO_SCHEMA)
    older["fields"] = [f for f in older["fields"] if f["name"] != "reason"]
    settings = _settings(guarded_registry, SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO="writer:w-s3cret")
    with RegistrySchemaLookup.from_settings(settings) as lookup:
        lookup.id_for(OrderCancelled.SUBJECT, json.dumps(older))
        with pytest.raises(IncompatibleSchema) as refused:
            lookup.id_for(OrderCancelled.SUBJECT, OrderCancelled.AVRO_SCHEMA)
    assert any("READER_FIELD_MISSING_DEFAULT_VALUE" in r for r in refused.value.reasons)


def test_credentials_in_the_url_authenticate_and_leave_it(guarded_registry: str) -> None:
    """A URL with user:password@ still works; the lookup's url holds no credentials."""
    with_user = guarded_registry.replace("http://", "http://writer:w-s3cret@")
    with RegistrySchemaLookup(with_user, mode=SchemaMode.DEVELOPMENT) as lookup:
        lookup.id_for(OrderPlaced.SUBJECT, OrderPlaced.AVRO_SCHEMA)
    assert lookup.url == guarded_registry


def test_refusal_names_the_registry_without_the_password(guarded_registry: str) -> None:
    """A wrong password's 401 is an error naming the bare URL, never the password."""
    with_user = guarded_registry.replace("http://", "http://writer:wrong-s3cret@")
    with RegistrySchemaLookup(with_user) as lookup, pytest.raises(RegistryUnavailable) as failed:
        lookup.schema_by_id(1)
    assert failed.value.status == 401
    assert failed.value.registry == guarded_registry
    assert "s3cret" not in str(failed.value)


def test_unreachable_registry_error_holds_no_password() -> None:
    """A registry that cannot be reached is named in the error without its credentials."""
    with (
        RegistrySchemaLookup("http://ci:s3cret@127.0.0.1:9") as lookup,
        pytest.raises(RegistryUnavailable) as failed,
    ):
        lookup.schema_by_id(1)
    assert failed.value.registry == "http://127.0.0.1:9"
    assert "s3cret" not in str(failed.value)
