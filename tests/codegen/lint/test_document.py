"""The walk every rule reads: JSON paths, namespaces and name references."""

from __future__ import annotations

from pathlib import Path

from evp_codegen.lint.document import read_document
from tests.codegen.builders import enum, fld, record


def test_union_branches_and_array_items_have_paths() -> None:
    """A type inside a union branch's array is found at `.type[1].items`."""
    schema = record("R", fld("x", ["null", {"type": "array", "items": enum("E", "A")}]))
    document = read_document(Path("v1.avsc"), schema, "orders", "R")
    assert [n.json_path for n in document.named] == ["$", "$.fields[0].type[1].items"]


def test_nested_types_inherit_the_enclosing_namespace() -> None:
    """A nested type without a namespace takes its enclosing record's."""
    schema = record("R", fld("x", enum("E", "A")), namespace="shop.orders")
    document = read_document(Path("v1.avsc"), schema, "orders", "R")
    assert [n.full_name for n in document.named] == ["shop.orders.R", "shop.orders.E"]


def test_self_reference_counts_as_defined() -> None:
    """A recursive record refers to a name that is already defined."""
    schema = record("Node", fld("next", ["null", "Node"], default=None), namespace="shop.x")
    document = read_document(Path("v1.avsc"), schema, "x", "Node")
    [reference] = document.references
    assert (reference.full_name, reference.defined_before) == ("shop.x.Node", True)
