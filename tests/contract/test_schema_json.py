"""Normalized schema text: one text per schema, whatever its layout or namespace style."""

from __future__ import annotations

import json

from evp.contract.schema_json import normalized_json, qualify


def test_qualify_prefixes_short_names_only() -> None:
    """Short names take the enclosing namespace; dotted names are already full."""
    assert qualify("Line", "shop.orders") == "shop.orders.Line"
    assert qualify("shop.common.Envelope", "shop.orders") == "shop.common.Envelope"
    assert qualify("Line", None) == "Line"


def test_namespace_styles_normalize_to_the_same_text() -> None:
    """A namespace key and a dotted full name give identical normalized text."""
    with_namespace = {
        "type": "record",
        "namespace": "shop.orders",
        "name": "Placed",
        "fields": [
            {"name": "line", "type": {"type": "record", "name": "Line", "fields": []}},
            {"name": "again", "type": "Line"},
        ],
    }
    full_names = {
        "name": "shop.orders.Placed",
        "type": "record",
        "fields": [
            {"type": {"fields": [], "name": "shop.orders.Line", "type": "record"}, "name": "line"},
            {"type": "shop.orders.Line", "name": "again"},
        ],
    }
    assert normalized_json(with_namespace) == normalized_json(full_names)


def test_normalized_text_is_compact_and_ordered() -> None:
    """Keys come in a fixed order and the JSON has no spaces."""
    text = normalized_json({"fields": [], "name": "A", "type": "record", "doc": "d"})
    assert text == '{"type":"record","name":"A","doc":"d","fields":[]}'
    assert json.loads(text)["name"] == "A"
