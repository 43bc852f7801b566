"""Avro schema JSON helpers: names, and the normalized text every tool agrees on.

The normalized form writes every named type with its full name and no ``namespace`` key,
keys in a fixed order, compactly. Schemas read from files and schemas read back from a
registry (which may reorder keys or move namespaces) normalize to the same text, which is
what makes codegen output identical from either source.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["NAMED_KINDS", "PRIMITIVES", "normalize", "normalized_json", "qualify"]

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED_KINDS = frozenset({"record", "error", "enum", "fixed"})

_KEY_ORDER = (
    "type",
    "name",
    "doc",
    "fields",
    "symbols",
    "items",
    "values",
    "size",
    "logicalType",
    "precision",
    "scale",
    "default",
    "order",
    "aliases",
)


def qualify(name: str, namespace: str | None) -> str:
    """The full name of ``name`` written inside ``namespace``."""
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def normalize(schema: Any, namespace: str | None = None) -> Any:
    """Return ``schema`` in normalized form (full names, fixed key order)."""
    if isinstance(schema, str):
        return schema if schema in PRIMITIVES else qualify(schema, namespace)
    if isinstance(schema, list):
        return [normalize(branch, namespace) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    out: dict[str, Any] = {}
    if isinstance(kind, str) and kind in NAMED_KINDS and isinstance(schema.get("name"), str):
        full = qualify(schema["name"], schema.get("namespace", namespace))
        namespace = full.rpartition(".")[0] or None
        out["name"] = full
        if isinstance(schema.get("aliases"), list):
            out["aliases"] = [qualify(a, namespace) for a in schema["aliases"]]
    for key, value in schema.items():
        if key in ("name", "namespace", "aliases") and "name" in out:
            continue
        if key == "fields" and isinstance(value, list):
            out[key] = [_normalize_field(f, namespace) for f in value]
        elif key in ("items", "values") or (key == "type" and not isinstance(value, str)):
            out[key] = normalize(value, namespace)
        elif key == "type" and isinstance(value, str) and value not in _KINDS:
            out[key] = normalize(value, namespace)
        else:
            out[key] = value
    return _ordered(out)


def _normalize_field(field: Any, namespace: str | None) -> Any:
    if not isinstance(field, dict):
        return field
    normalized = {k: normalize(v, namespace) if k == "type" else v for k, v in field.items()}
    return _ordered(normalized, _FIELD_KEY_ORDER)


_KINDS = PRIMITIVES | NAMED_KINDS | {"array", "map"}


_FIELD_KEY_ORDER = ("name", "type", "doc", "default", "order", "aliases")


def _ordered(node: dict[str, Any], order: tuple[str, ...] = _KEY_ORDER) -> dict[str, Any]:
    rank = {key: index for index, key in enumerate(order)}
    return dict(sorted(node.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def normalized_json(schema: Any) -> str:
    """The normalized schema as compact JSON text."""
    return json.dumps(normalize(schema), separators=(",", ":"), ensure_ascii=False)
