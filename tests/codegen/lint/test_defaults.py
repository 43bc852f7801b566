"""Default values, checked the way Confluent's Java parser checks them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.codegen.builders import SchemaTree, codes, enum, event, fld, record

V1 = "orders/OrderPlaced/v1.avsc"
LINE = record(
    "Line", fld("sku", "string"), fld("quantity", "int"), fld("gift", "boolean", default=False)
)


@pytest.mark.parametrize(
    ("type_", "default"),
    [
        ("int", 3),
        ("long", -(2**63)),
        ("double", 1),
        ("bytes", "\u00ff"),
        (["null", "string"], None),
        (["string", "null"], "x"),
        ({"type": "array", "items": "int"}, [1, 2]),
        ({"type": "map", "values": "string"}, {"a": "b"}),
        ("shop.common.Currency", "EUR"),
        (LINE, {"sku": "A", "quantity": 1}),
    ],
)
def test_valid_defaults_are_clean(tree: SchemaTree, type_: Any, default: Any) -> None:
    """A default of the field's type passes, including omitted record fields with defaults."""
    tree.add_event(event("OrderPlaced", fld("value", type_, default=default)))
    assert tree.lint() == []


def test_union_default_not_matching_first_branch(tree: SchemaTree) -> None:
    """null is a valid branch, but not the first one, so the registry would reject it."""
    tree.add_event(event("OrderPlaced", fld("note", ["string", "null"], default=None)))
    findings = tree.lint()
    assert codes(findings, tree.root) == {(V1, "$.fields[2].default", "UNION_DEFAULT_MISMATCH")}
    assert "matches branch 1" in findings[0].message


def test_union_default_matching_no_branch(tree: SchemaTree) -> None:
    """A default of no branch's type is a union mismatch too."""
    tree.add_event(event("OrderPlaced", fld("note", ["null", "string"], default=5)))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].default", "UNION_DEFAULT_MISMATCH")}


def test_string_default_for_int(tree: SchemaTree) -> None:
    """A string default on an int field is reported with the offending value."""
    tree.add_event(event("OrderPlaced", fld("quantity", "int", default="x")))
    findings = tree.lint()
    assert codes(findings, tree.root) == {(V1, "$.fields[2].default", "INVALID_DEFAULT")}
    assert '"x" is not a valid int' in findings[0].message


def test_boolean_default_for_int(tree: SchemaTree) -> None:
    """true is not an int, although Python thinks it is."""
    tree.add_event(event("OrderPlaced", fld("quantity", "int", default=True)))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].default", "INVALID_DEFAULT")}


def test_int_default_out_of_range(tree: SchemaTree) -> None:
    """An int default must fit in 32 bits."""
    tree.add_event(event("OrderPlaced", fld("quantity", "int", default=2**31)))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].default", "INVALID_DEFAULT")}


def test_null_default_for_non_nullable_field(tree: SchemaTree) -> None:
    """A null default on a plain string is invalid."""
    tree.add_event(event("OrderPlaced", fld("note", "string", default=None)))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].default", "INVALID_DEFAULT")}


def test_record_default_missing_required_field(tree: SchemaTree) -> None:
    """A record default must give every field that has no default of its own."""
    tree.add_event(event("OrderPlaced", fld("line", LINE, default={"sku": "A"})))
    findings = tree.lint()
    assert codes(findings, tree.root) == {(V1, "$.fields[2].default", "INVALID_DEFAULT")}
    assert "'quantity'" in findings[0].message


def test_nested_bad_value_is_located_inside_the_default(tree: SchemaTree) -> None:
    """The JSON path continues into the default value down to the bad item."""
    lines = {"type": "array", "items": LINE}
    default = [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": "two"}]
    tree.add_event(event("OrderPlaced", fld("lines", lines, default=default)))
    assert codes(tree.lint(), tree.root) == {
        (V1, "$.fields[2].default[1].quantity", "INVALID_DEFAULT")
    }


def test_field_default_not_a_symbol_of_shared_enum(tree: SchemaTree) -> None:
    """A field default is checked against a shared enum's symbols."""
    tree.add_event(event("OrderPlaced", fld("currency", "shop.common.Currency", default="JPY")))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].default", "INVALID_DEFAULT")}


def test_enum_default_not_a_symbol(tree: SchemaTree) -> None:
    """An enum's own default must be one of its symbols; the path leads into the union."""
    status = enum("Status", "OPEN", "SHUT", default="UNKNOWN")
    tree.add_event(event("OrderPlaced", fld("status", ["null", status], default=None)))
    findings = tree.lint()
    assert codes(findings, tree.root) == {
        (V1, "$.fields[2].type[1].default", "ENUM_DEFAULT_NOT_SYMBOL")
    }
    assert '"UNKNOWN"' in findings[0].message
