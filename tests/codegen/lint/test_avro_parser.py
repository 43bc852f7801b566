"""The fastavro backstop: its verdict is reported only where no other rule found anything."""

from __future__ import annotations

from evp.contract.catalog import load_catalog
from evp_codegen.lint import avro_parser
from evp_codegen.lint.avro_parser import parse_problem
from evp_codegen.lint.document import read_corpus
from tests.codegen.builders import SchemaTree, codes, event, fld


def test_valid_schema_has_no_problem() -> None:
    """fastavro parses a well-formed record."""
    assert parse_problem({"type": "record", "name": "R", "fields": []}) is None


def test_fastavro_rejection_is_a_parse_error(tree: SchemaTree) -> None:
    """fastavro's message is reported at $ under PARSE_ERROR."""
    tree.add_event(event("OrderPlaced", fld("quantity", "int", default="x")))
    tree.write_catalog()
    findings = list(avro_parser.check(read_corpus(load_catalog(tree.root)), reported=()))
    assert codes(findings, tree.root) == {("orders/OrderPlaced/v1.avsc", "$", "PARSE_ERROR")}
    assert "fastavro" in findings[0].message


def test_fastavro_unknown_type_is_unknown_type(tree: SchemaTree) -> None:
    """fastavro's unknown-type error keeps its own rule id."""
    tree.add_event(event("OrderPlaced", fld("status", "Status")))
    tree.write_catalog()
    findings = list(avro_parser.check(read_corpus(load_catalog(tree.root)), reported=()))
    assert codes(findings, tree.root) == {("orders/OrderPlaced/v1.avsc", "$", "UNKNOWN_TYPE")}


def test_backstop_is_silent_where_rules_already_reported(tree: SchemaTree) -> None:
    """A bad default is reported once, with its path, not again by fastavro."""
    tree.add_event(event("OrderPlaced", fld("quantity", "int", default="x")))
    assert [f.rule for f in tree.lint()] == ["INVALID_DEFAULT"]


def test_backstop_is_silent_for_users_of_a_broken_shared_type(tree: SchemaTree) -> None:
    """A problem in a shared type is reported in its own file, not in every event using it."""
    tree.write(
        "common/Envelope.avsc",
        {
            "type": "record",
            "name": "Envelope",
            "namespace": "shop.common",
            "doc": "Metadata.",
            "fields": [{"name": "id", "type": "int", "default": "x", "doc": "Id."}],
        },
    )
    tree.add_event(event("OrderPlaced"))
    assert codes(tree.lint(), tree.root) == {
        ("common/Envelope.avsc", "$.fields[0].default", "INVALID_DEFAULT")
    }
