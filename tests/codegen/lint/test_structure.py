"""Structural rules: what Confluent's Java parser rejects and fastavro lets through."""

from __future__ import annotations

from tests.codegen.builders import SchemaTree, codes, enum, event, fld, record

V1 = "orders/OrderPlaced/v1.avsc"


def test_field_without_type_is_a_parse_error(tree: SchemaTree) -> None:
    """A field with no type is reported at the field, not as a crash."""
    tree.add_event(event("OrderPlaced", {"name": "note", "doc": "A note."}))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2]", "PARSE_ERROR")}


def test_undefined_type_is_unknown(tree: SchemaTree) -> None:
    """A name that is neither defined in the file nor shared is reported where it is used."""
    tree.add_event(event("OrderPlaced", fld("status", "shop.orders.Status")))
    findings = tree.lint()
    assert codes(findings, tree.root) == {(V1, "$.fields[2].type", "UNKNOWN_TYPE")}
    assert "shop.orders.Status" in findings[0].message


def test_type_used_before_its_definition_is_unknown(tree: SchemaTree) -> None:
    """Avro needs a definition before the first use, so a forward reference is reported."""
    tree.add_event(
        event("OrderPlaced", fld("first", "Status"), fld("second", enum("Status", "OPEN")))
    )
    findings = tree.lint()
    assert codes(findings, tree.root) == {(V1, "$.fields[2].type", "UNKNOWN_TYPE")}
    assert "used before it is defined" in findings[0].message


def test_invalid_record_name(tree: SchemaTree) -> None:
    """A nested record name that is not an Avro identifier is reported at its name."""
    tree.add_event(event("OrderPlaced", fld("line", record("Line-Item", fld("sku", "string")))))
    assert (V1, "$.fields[2].type.name", "INVALID_NAME") in codes(tree.lint(), tree.root)


def test_invalid_field_name(tree: SchemaTree) -> None:
    """A field name with a hyphen is reported at the field's name."""
    tree.add_event(event("OrderPlaced", fld("gift-wrap", "boolean")))
    assert (V1, "$.fields[2].name", "INVALID_NAME") in codes(tree.lint(), tree.root)


def test_invalid_enum_symbol(tree: SchemaTree) -> None:
    """An enum symbol that is not an identifier is reported at that symbol."""
    tree.add_event(event("OrderPlaced", fld("status", enum("Status", "OPEN", "ON-HOLD"))))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type.symbols[1]", "INVALID_NAME")}


def test_duplicate_enum_symbol(tree: SchemaTree) -> None:
    """A repeated symbol is reported at its second occurrence."""
    tree.add_event(event("OrderPlaced", fld("status", enum("Status", "OPEN", "SHUT", "OPEN"))))
    assert codes(tree.lint(), tree.root) == {
        (V1, "$.fields[2].type.symbols[2]", "DUPLICATE_SYMBOL")
    }


def test_duplicate_field(tree: SchemaTree) -> None:
    """A second field of the same name is reported, naming the first one's path."""
    tree.add_event(event("OrderPlaced", fld("note", "string"), fld("note", "string")))
    findings = tree.lint()
    assert codes(findings, tree.root) == {(V1, "$.fields[3].name", "DUPLICATE_FIELD")}
    assert "$.fields[2]" in findings[0].message


def test_named_type_defined_twice_in_one_file(tree: SchemaTree) -> None:
    """Defining one full name twice in a schema is reported at the second definition."""
    tree.add_event(
        event(
            "OrderPlaced",
            fld("status", enum("Status", "OPEN")),
            fld("previous", enum("Status", "OPEN")),
        )
    )
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[3].type.name", "DUPLICATE_NAME")}


def test_shared_type_redefined_inline(tree: SchemaTree) -> None:
    """Writing a shared type out inline instead of naming it is reported."""
    inline = enum("Currency", "EUR", "USD", namespace="shop.common")
    tree.add_event(event("OrderPlaced", fld("currency", inline)))
    assert (V1, "$.fields[2].type.name", "DUPLICATE_NAME") in codes(tree.lint(), tree.root)


def test_nested_union(tree: SchemaTree) -> None:
    """A union directly inside a union is reported at the inner one."""
    tree.add_event(event("OrderPlaced", fld("note", ["null", ["string", "int"]])))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type[1]", "INVALID_UNION")}


def test_union_with_two_branches_of_one_type(tree: SchemaTree) -> None:
    """A logical type does not make a second string branch distinct."""
    uuid = {"type": "string", "logicalType": "uuid"}
    tree.add_event(event("OrderPlaced", fld("ref", ["null", "string", uuid], default=None)))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type[2]", "INVALID_UNION")}
