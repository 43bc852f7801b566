"""Contract conventions: layout, docs, the envelope, and money as decimals."""

from __future__ import annotations

from tests.codegen.builders import SchemaTree, codes, enum, event, fld, record

V1 = "orders/OrderPlaced/v1.avsc"


def test_event_namespace_must_match_its_domain_folder(tree: SchemaTree) -> None:
    """An event in orders/ declared in shop.payments is reported at its namespace."""
    tree.add_event(event("OrderPlaced", namespace="shop.payments"))
    findings = tree.lint()
    assert codes(findings, tree.root) == {(V1, "$.namespace", "NAMESPACE_MISMATCH")}
    assert "shop.orders" in findings[0].message


def test_nested_type_namespace_must_match_too(tree: SchemaTree) -> None:
    """A type defined inside an event lives in the event's domain namespace as well."""
    line = record("Line", fld("sku", "string"), namespace="shop.inventory")
    tree.add_event(event("OrderPlaced", fld("line", line)))
    assert codes(tree.lint(), tree.root) == {
        (V1, "$.fields[2].type.namespace", "NAMESPACE_MISMATCH")
    }


def test_event_name_must_match_its_folder(tree: SchemaTree) -> None:
    """OrderPlaced written in the OrderConfirmed folder is reported at $.name."""
    tree.add_event(event("OrderPlaced"), folder="OrderConfirmed")
    findings = tree.lint()
    assert codes(findings, tree.root) == {
        ("orders/OrderConfirmed/v1.avsc", "$.name", "NAME_MISMATCH")
    }
    assert "OrderConfirmed" in findings[0].message


def test_shared_type_name_must_match_its_file(tree: SchemaTree) -> None:
    """A shared type file named for another type is reported at $.name."""
    tree.write("common/Money.avsc", enum("Coin", "EUR", namespace="shop.common"))
    assert codes(tree.lint(), tree.root) == {("common/Money.avsc", "$.name", "NAME_MISMATCH")}


def test_record_without_doc(tree: SchemaTree) -> None:
    """A nested record with no doc is reported at the record."""
    line = record("Line", fld("sku", "string"))
    del line["doc"]
    tree.add_event(event("OrderPlaced", fld("line", line)))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type", "MISSING_DOC")}


def test_enum_with_blank_doc(tree: SchemaTree) -> None:
    """A doc of only whitespace counts as missing."""
    tree.add_event(event("OrderPlaced", fld("status", enum("Status", "OPEN", doc="  "))))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type", "MISSING_DOC")}


def test_field_without_doc(tree: SchemaTree) -> None:
    """A field with no doc is reported at the field."""
    tree.add_event(event("OrderPlaced", {"name": "note", "type": "string"}))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2]", "MISSING_DOC")}


def test_event_whose_first_field_is_not_the_envelope(tree: SchemaTree) -> None:
    """The envelope must come first, not merely be present."""
    schema = event("OrderPlaced")
    schema["fields"].reverse()
    tree.add_event(schema)
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[0].name", "ENVELOPE_MISSING")}


def test_envelope_field_of_the_wrong_type(tree: SchemaTree) -> None:
    """A field called envelope that is not the catalog's envelope type is reported."""
    schema = event("OrderPlaced")
    schema["fields"][0]["type"] = "string"
    tree.add_event(schema)
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[0].type", "ENVELOPE_MISSING")}


def test_envelope_type_comes_from_the_catalog(tree: SchemaTree) -> None:
    """Naming another shared record as envelope in catalog.toml makes events use that one."""
    tree.write("common/Meta.avsc", record("Meta", fld("id", "string"), namespace="shop.common"))
    tree.settings["envelope"] = "shop.common.Meta"
    tree.add_event(event("OrderPlaced"))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[0].type", "ENVELOPE_MISSING")}


def test_catalog_envelope_that_is_not_a_shared_type(tree: SchemaTree) -> None:
    """An envelope name with no shared type file is reported in catalog.toml."""
    tree.settings["envelope"] = "shop.common.Missing"
    assert ("catalog.toml", "$.envelope", "ENVELOPE_MISSING") in codes(tree.lint(), tree.root)


def test_money_as_double(tree: SchemaTree) -> None:
    """A double named total is money as a float."""
    tree.add_event(event("OrderPlaced", fld("total", "double")))
    findings = tree.lint()
    assert codes(findings, tree.root) == {(V1, "$.fields[2].type", "MONEY_AS_FLOAT")}
    assert "decimal" in findings[0].message


def test_money_as_float_inside_a_union_and_array(tree: SchemaTree) -> None:
    """Optional or repeated money is still money."""
    prices = ["null", {"type": "array", "items": "float"}]
    tree.add_event(event("OrderPlaced", fld("unit_prices", prices, default=None)))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type", "MONEY_AS_FLOAT")}


def test_non_money_float_is_fine(tree: SchemaTree) -> None:
    """A float whose name says nothing of money passes."""
    tree.add_event(event("OrderPlaced", fld("weight_kg", "double")))
    assert tree.lint() == []
