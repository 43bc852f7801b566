"""The resolution oracle on hand-picked schemas, so the evolution properties mean something."""

from __future__ import annotations

import datetime
import decimal
import json
from typing import Any

from tests.properties.resolution import added_fields, default_of, resolve


def _record(*fields: dict[str, Any]) -> str:
    return json.dumps({"type": "record", "name": "test.R", "fields": list(fields)})


SUIT_V1 = {"type": "enum", "name": "Suit", "symbols": ["A", "B"], "default": "A"}
SUIT_V2 = {**SUIT_V1, "symbols": ["A", "B", "C"]}


def test_a_field_the_reader_adds_takes_its_default() -> None:
    """A reader field the writer lacks holds its JSON default."""
    writer = _record({"name": "x", "type": "int"})
    reader = _record(
        {"name": "x", "type": "int"}, {"name": "y", "type": "boolean", "default": True}
    )
    assert resolve({"x": 1}, writer, reader) == {"x": 1, "y": True}


def test_a_field_the_reader_drops_is_ignored() -> None:
    """A writer field the reader lacks does not appear in what the reader sees."""
    writer = _record({"name": "x", "type": "int"}, {"name": "y", "type": ["null", "string"]})
    reader = _record({"name": "x", "type": "int"})
    assert resolve({"x": 1, "y": "gone"}, writer, reader) == {"x": 1}


def test_an_unknown_enum_symbol_reads_as_the_reader_default() -> None:
    """A symbol only the writer knows becomes the reader's enum default."""
    writer = _record({"name": "s", "type": SUIT_V2})
    reader = _record({"name": "s", "type": SUIT_V1})
    assert resolve({"s": "C"}, writer, reader) == {"s": "A"}


def test_an_int_read_as_a_double_is_promoted() -> None:
    """An int the reader declares as a double is read as a float."""
    value = resolve(
        {"n": 3}, _record({"name": "n", "type": "int"}), _record({"name": "n", "type": "double"})
    )
    assert value == {"n": 3.0}
    assert isinstance(value["n"], float)


def test_logical_defaults_are_logical_values() -> None:
    """Decimal and timestamp defaults are read as ``Decimal`` and aware ``datetime``."""
    schema = _record(
        {
            "name": "d",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2},
            "default": "\u0001\u0000",
        },
        {"name": "t", "type": {"type": "long", "logicalType": "timestamp-millis"}, "default": 1000},
    )
    assert default_of(schema, "d") == decimal.Decimal("2.56")
    assert default_of(schema, "t") == datetime.datetime(1970, 1, 1, 0, 0, 1, tzinfo=datetime.UTC)


def test_added_fields_lists_only_new_top_level_fields() -> None:
    """Only fields the newer version introduces are reported as added."""
    older = _record({"name": "x", "type": "int"})
    newer = _record({"name": "x", "type": "int"}, {"name": "z", "type": "int", "default": 0})
    assert added_fields(older, newer) == ["z"]
