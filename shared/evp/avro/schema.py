"""Parsed schemas, cached by text: every schema is parsed once per process, never per message."""

from __future__ import annotations

import functools
import json
from typing import Any

import fastavro

__all__ = ["ParsedSchema", "full_name_of", "parse_plain", "strip_logical_types"]

ParsedSchema = Any  # fastavro's parsed form is an untyped dict/list/str tree


def strip_logical_types(schema: Any) -> Any:
    """``schema`` without ``logicalType`` annotations: generated code converts those itself."""
    if isinstance(schema, list):
        return [strip_logical_types(branch) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    if "logicalType" in schema and isinstance(schema.get("type"), str):
        kind = schema["type"]
        if kind == "fixed":
            return {k: v for k, v in schema.items() if k not in _LOGICAL_KEYS}
        return kind
    out = dict(schema)
    if isinstance(out.get("fields"), list):
        out["fields"] = [{**f, "type": strip_logical_types(f["type"])} for f in out["fields"]]
    for key in ("items", "values"):
        if key in out:
            out[key] = strip_logical_types(out[key])
    if isinstance(out.get("type"), dict | list):
        out["type"] = strip_logical_types(out["type"])
    return out


_LOGICAL_KEYS = frozenset({"logicalType", "precision", "scale"})


@functools.lru_cache(maxsize=4096)
def parse_plain(schema_text: str) -> ParsedSchema:
    """fastavro's parsed form of ``schema_text`` with logical types stripped.

    Raises ``ValueError`` (from JSON) or fastavro's ``SchemaParseException`` for invalid text.
    """
    return fastavro.parse_schema(strip_logical_types(json.loads(schema_text)), named_schemas={})


@functools.lru_cache(maxsize=4096)
def full_name_of(schema_text: str) -> str:
    """The full name of a schema's top-level named type, or its type name when unnamed."""
    schema = json.loads(schema_text)
    if isinstance(schema, dict) and isinstance(schema.get("name"), str):
        name: str = schema["name"]
        namespace = schema.get("namespace")
        return name if "." in name or not namespace else f"{namespace}.{name}"
    return str(schema.get("type") if isinstance(schema, dict) else schema)
