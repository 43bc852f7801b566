"""One full name, one definition across the catalog's latest schemas and shared types."""

from __future__ import annotations

from tests.codegen.builders import SchemaTree, codes, enum, event, fld


def status(*symbols: str) -> dict[str, object]:
    """The orders domain's Status enum with ``symbols``."""
    return enum("Status", *symbols, namespace="shop.orders")


def test_same_name_with_different_definitions(tree: SchemaTree) -> None:
    """Two events defining shop.orders.Status differently are reported at the later one."""
    tree.add_event(event("OrderPlaced", fld("status", status("OPEN"))))
    tree.add_event(event("OrderShipped", fld("status", status("OPEN", "SHUT"))))
    findings = tree.lint()
    assert codes(findings, tree.root) == {
        ("orders/OrderShipped/v1.avsc", "$.fields[2].type.name", "DUPLICATE_NAME")
    }
    assert "orders/OrderPlaced/v1.avsc" in findings[0].message


def test_same_name_with_the_same_definition(tree: SchemaTree) -> None:
    """Repeating an identical definition in two events is fine."""
    tree.add_event(event("OrderPlaced", fld("status", status("OPEN"))))
    tree.add_event(event("OrderShipped", fld("status", status("OPEN"))))
    assert tree.lint() == []


def test_a_type_may_evolve_between_versions(tree: SchemaTree) -> None:
    """Only latest versions are compared, so v2 may add a symbol v1 lacked."""
    tree.add_event(event("OrderPlaced", fld("status", status("OPEN"))), version=1)
    tree.add_event(event("OrderPlaced", fld("status", status("OPEN", "SHUT"))), version=2)
    assert tree.lint() == []
