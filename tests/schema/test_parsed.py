"""Parsing and validating schema texts."""

from __future__ import annotations

import json

import pytest

from evp.schema.errors import InvalidSchemaError
from evp.schema.parsed import Reference, parse_schema
from tests.registry.schemas import enum, field, record

INVALID = {
    "not JSON": "{nope",
    "unknown type": record(field("a", "strin")),
    "bad default": record(field("a", "int", default="x")),
    "int default out of range": record(field("a", "int", default=2**31)),
    "duplicate field": record(field("a", "int"), field("a", "long")),
    "union default not of first branch": record(field("a", ["null", "int"], default=5)),
    "bad nested default": record(field("a", {"type": "array", "items": "int"}, default=["x"])),
    "record default missing a field": record(
        field("a", json.loads(record(field("x", "int"), name="Inner")), default={})
    ),
    "enum default not a symbol": record(field("c", enum("RED"), default="BLUE")),
    "invalid name": record(name="1User"),
    "fixed without size": json.dumps({"type": "fixed", "name": "F"}),
    "JSON number": "42",
    "record without fields": json.dumps({"type": "record", "name": "R"}),
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_invalid_schemas_are_refused(text: str) -> None:
    """Each invalid schema raises InvalidSchemaError."""
    with pytest.raises(InvalidSchemaError):
        parse_schema(text)


def test_null_default_of_a_nullable_union_is_accepted() -> None:
    """A union default matching the union's first branch is valid."""
    parse_schema(record(field("a", ["null", "int"], default=None)))


def test_logical_types_avro_ignores_are_accepted_without_warnings() -> None:
    """A logical type on the wrong base type is ignored, as Java Avro does, with no warning."""
    parse_schema(json.dumps({"type": "string", "logicalType": "decimal"}))


def test_referenced_names_are_resolved_from_dependencies() -> None:
    """A field typed by a name defined in a dependency parses."""
    address = record(field("street", "string"), name="Address", namespace="shop")
    parsed = parse_schema(
        record(field("home", "shop.Address")),
        references=[Reference("shop.Address", "address", 1)],
        dependencies=[address],
    )
    assert parsed.references == (Reference("shop.Address", "address", 1),)


def test_unresolved_names_are_refused() -> None:
    """A field typed by an unknown name, with no dependency defining it, is invalid."""
    with pytest.raises(InvalidSchemaError):
        parse_schema(record(field("home", "shop.Address")))


def test_equivalent_texts_share_a_fingerprint() -> None:
    """Texts differing only in layout parse to one fingerprint."""
    a = parse_schema(record(field("a", "int")))
    b = parse_schema(json.dumps(json.loads(record(field("a", "int"))), indent=4))
    assert a.fingerprint == b.fingerprint
