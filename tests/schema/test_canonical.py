"""The canonical text and fingerprint of schemas."""

from __future__ import annotations

import json

from evp.schema.canonical import canonical_form, fingerprint


def test_whitespace_and_key_order_do_not_matter() -> None:
    """Two spellings of one record differing in layout and key order have one canonical text."""
    a = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
    b = {"fields": [{"type": "int", "name": "a"}], "name": "R", "type": "record"}
    assert canonical_form(a) == canonical_form(b)


def test_full_names_and_namespaces_spell_the_same_schema() -> None:
    """A name given as ns.R equals name R with namespace ns."""
    full = {"type": "record", "name": "ns.R", "fields": []}
    split = {"type": "record", "name": "R", "namespace": "ns", "fields": []}
    assert canonical_form(full) == canonical_form(split)


def test_references_inside_the_namespace_are_written_short() -> None:
    """A reference to ns.S from inside namespace ns is written as S."""
    schema = {
        "type": "record",
        "name": "ns.R",
        "fields": [
            {"name": "a", "type": {"type": "enum", "name": "S", "symbols": ["X"]}},
            {"name": "b", "type": "ns.S"},
        ],
    }
    assert json.loads(canonical_form(schema))["fields"][1]["type"] == "S"


def test_docs_are_part_of_the_identity() -> None:
    """A doc change gives a different canonical text, as in Confluent's registry."""
    plain = {"type": "record", "name": "R", "fields": []}
    documented = {**plain, "doc": "people"}
    assert canonical_form(plain) != canonical_form(documented)


def test_normalize_writes_full_names_without_namespaces() -> None:
    """normalize=True names every type by its full name and drops namespace keys."""
    schema = {"type": "record", "name": "R", "namespace": "ns", "fields": []}
    assert json.loads(canonical_form(schema, normalize=True)) == {
        "type": "record",
        "name": "ns.R",
        "fields": [],
    }


def test_primitive_objects_without_properties_collapse() -> None:
    """{"type": "int"} is written as "int"."""
    assert canonical_form({"type": "int"}) == '"int"'


def test_custom_properties_keep_their_order_after_the_known_keys() -> None:
    """Custom properties are written in source order, after Avro's own keys, as Confluent
    keeps them; another order is another text (and id), as there."""
    a = {"b": 1, "type": "string", "a": 2}
    b = {"type": "string", "a": 2, "b": 1}
    assert canonical_form(a) == '{"type":"string","b":1,"a":2}'
    assert canonical_form(b) == '{"type":"string","a":2,"b":1}'


def test_custom_properties_of_a_field_keep_their_order() -> None:
    """A field's custom properties follow its known keys in the order given."""
    schema = {
        "type": "record",
        "name": "R",
        "fields": [{"z-tag": 1, "name": "a", "type": "int", "a-tag": 2}],
    }
    assert canonical_form(schema) == (
        '{"type":"record","name":"R","fields":[{"name":"a","type":"int","z-tag":1,"a-tag":2}]}'
    )


def test_ascending_order_is_the_default_and_dropped() -> None:
    """A field's order "ascending" is not written, since it is the default."""
    with_order = {
        "type": "record",
        "name": "R",
        "fields": [{"name": "a", "type": "int", "order": "ascending"}],
    }
    without = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
    assert canonical_form(with_order) == canonical_form(without)


def test_references_change_the_fingerprint() -> None:
    """The same text with different references is a different schema."""
    text = '"string"'
    ref = {"name": "x.Y", "subject": "y", "version": 1}
    assert fingerprint(text) != fingerprint(text, [ref])
