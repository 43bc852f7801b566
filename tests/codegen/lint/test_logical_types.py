"""Logical types on the right base types, and decimals with a usable precision and scale."""

from __future__ import annotations

from typing import Any

from tests.codegen.builders import SchemaTree, codes, event, fld

V1 = "orders/OrderPlaced/v1.avsc"


def decimal(precision: Any, scale: Any = 2, base: str = "bytes", **extra: Any) -> dict[str, Any]:
    """A decimal type."""
    return {"type": base, "logicalType": "decimal", "precision": precision, "scale": scale, **extra}


def test_valid_logical_types_are_clean(tree: SchemaTree) -> None:
    """Each common logical type on its own base type passes."""
    tree.add_event(
        event(
            "OrderPlaced",
            fld("unit_price", decimal(12, 2)),
            fld("day", {"type": "int", "logicalType": "date"}),
            fld("at", {"type": "long", "logicalType": "timestamp-micros"}),
            fld("ref", {"type": "string", "logicalType": "uuid"}),
        )
    )
    assert tree.lint() == []


def test_uuid_on_int(tree: SchemaTree) -> None:
    """A uuid annotating an int is reported at the logicalType."""
    tree.add_event(event("OrderPlaced", fld("ref", {"type": "int", "logicalType": "uuid"})))
    findings = tree.lint()
    assert codes(findings, tree.root) == {
        (V1, "$.fields[2].type.logicalType", "INVALID_LOGICAL_TYPE")
    }
    assert "not int" in findings[0].message


def test_timestamp_millis_on_int(tree: SchemaTree) -> None:
    """timestamp-millis needs a long; on an int it would be read as a plain number."""
    ts = {"type": "int", "logicalType": "timestamp-millis"}
    tree.add_event(event("OrderPlaced", fld("at", ts)))
    assert codes(tree.lint(), tree.root) == {
        (V1, "$.fields[2].type.logicalType", "INVALID_LOGICAL_TYPE")
    }


def test_logical_type_written_on_the_field(tree: SchemaTree) -> None:
    """A logicalType key on the field itself is ignored by Avro, so it is reported."""
    tree.add_event(event("OrderPlaced", fld("at", "long", logicalType="timestamp-millis")))
    assert codes(tree.lint(), tree.root) == {
        (V1, "$.fields[2].logicalType", "INVALID_LOGICAL_TYPE")
    }


def test_unknown_logical_type_is_a_warning(tree: SchemaTree) -> None:
    """A misspelt logical type is a warning: Avro reads it as the base type."""
    tree.add_event(event("OrderPlaced", fld("at", {"type": "long", "logicalType": "timestamp"})))
    findings = tree.lint()
    assert codes(findings, tree.root) == {
        (V1, "$.fields[2].type.logicalType", "UNKNOWN_LOGICAL_TYPE")
    }
    assert findings[0].severity.value == "warning"


def test_decimal_with_zero_precision(tree: SchemaTree) -> None:
    """Precision must be positive."""
    tree.add_event(event("OrderPlaced", fld("unit_price", decimal(0, 0))))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type.precision", "INVALID_DECIMAL")}


def test_decimal_with_scale_above_precision(tree: SchemaTree) -> None:
    """Scale may not exceed precision."""
    tree.add_event(event("OrderPlaced", fld("unit_price", decimal(4, 6))))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type.scale", "INVALID_DECIMAL")}


def test_decimal_with_negative_scale(tree: SchemaTree) -> None:
    """Scale may not be negative."""
    tree.add_event(event("OrderPlaced", fld("unit_price", decimal(4, -1))))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type.scale", "INVALID_DECIMAL")}


def test_decimal_fixed_too_small_for_precision(tree: SchemaTree) -> None:
    """A 2-byte fixed holds at most 4 digits, so precision 6 is reported."""
    money = decimal(6, 2, base="fixed", name="Cents", size=2)
    tree.add_event(event("OrderPlaced", fld("unit_price", money)))
    assert codes(tree.lint(), tree.root) == {(V1, "$.fields[2].type.precision", "INVALID_DECIMAL")}
