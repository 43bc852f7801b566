"""The codec's schema lookup over the registry: strict and development modes, and caching."""

from __future__ import annotations

import json

import pytest

from evp.avro import SchemaNotRegistered, UnknownSchemaId
from evp.events import OrderCancelled, OrderPlaced
from evp.messaging import IncompatibleSchema, RegistrySchemaLookup
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
