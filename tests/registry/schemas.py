"""Builders of Avro schema texts for the registry tests."""

from __future__ import annotations

import json
from typing import Any


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    """A record field as JSON."""
    return {"name": name, "type": type_, **extra}


def record(*fields: dict[str, Any], name: str = "User", **extra: Any) -> str:
    """A record schema text with ``fields``."""
    return json.dumps({"type": "record", "name": name, "fields": list(fields), **extra})


def enum(*symbols: str, name: str = "Colour", **extra: Any) -> dict[str, Any]:
    """An enum schema as JSON."""
    return {"type": "enum", "name": name, "symbols": list(symbols), **extra}


USER_V1 = record(field("id", "long"))
USER_V2 = record(field("id", "long"), field("email", "string", default=""))
USER_BREAKING = record(field("id", "long"), field("email", "string"))
