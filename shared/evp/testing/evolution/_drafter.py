"""Random schema parts for evolutions: types, fresh names, and defaults that fastavro honours.

No default holds a ``bytes`` or ``fixed`` value. The spec maps such a default's JSON
string to bytes ("Default values for bytes and fixed fields are JSON strings, where
Unicode code points 0-255 are mapped to unsigned 8-bit byte values 0-255"), but fastavro
fills in the JSON string itself, so a reader using one would yield a datum its own schema
rejects; fields whose type only admits such a default get none.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from evp.testing.evolution._tree import positions, union_key

__all__ = ["Drafter", "repair_defaults"]

_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)
# A type kind, weighted by repetition; "ref" names a type defined earlier.
_KINDS = (
    *("null", "boolean", "int", "long", "float", "double", "bytes", "string"),
    *("array", "map", "enum", "enum", "fixed", "record", "record", "union", "union", "ref"),
)
_NESTED_KINDS = frozenset({"array", "map", "record", "union"})
_LOGICAL = {
    "int": ({"type": "int", "logicalType": "date"},),
    "long": (
        {"type": "long", "logicalType": "timestamp-millis"},
        {"type": "long", "logicalType": "timestamp-micros"},
    ),
    "string": ({"type": "string", "logicalType": "uuid"},),
}


class Drafter:
    """Draws types, fresh names and defaults; ``definitions`` are the named types in scope."""

    def __init__(self, draw: DrawFn) -> None:
        self.draw = draw
        self.definitions: dict[str, dict[str, Any]] = {}
        self.namespace: str | None = None
        self._counter = itertools.count(1)

    def fresh(self, prefix: str) -> str:
        """A name used nowhere in either schema."""
        return f"{prefix}{next(self._counter)}"

    def root(self) -> dict[str, Any]:
        """A top-level record, in namespace ``evo`` or none."""
        if self.draw(st.booleans()):
            self.namespace = "evo"
        record = self.record(2, fields=(1, 4))
        if self.namespace is not None:
            record["namespace"] = self.namespace
        return record

    def record(
        self, depth: int, *, plain: bool = False, fields: tuple[int, int] = (1, 3)
    ) -> dict[str, Any]:
        """A record with fresh names; registered for reference once complete, never inside."""
        name = self.fresh("R")
        count = self.draw(st.integers(*fields))
        members = [self.field(depth, plain=plain) for _ in range(count)]
        record = {"type": "record", "name": name, "fields": members}
        self.definitions[name] = record
        return record

    def field(
        self, depth: int, *, default: bool | None = None, plain: bool = False
    ) -> dict[str, Any]:
        """A field, with a default when asked (or by chance when ``None``); ``plain`` as for types.

        A plain type always admits a default, so a field asked for one always has one.
        """
        if default is None:
            default = self.draw(st.booleans())
        kind = self.type(depth, plain=plain or default)
        field: dict[str, Any] = {"name": self.fresh("f"), "type": kind}
        values = self.defaults(kind) if default else None
        if values is not None:
            field["default"] = self.draw(values)
        return field

    def type(self, depth: int, *, plain: bool = False, taken: frozenset[str] = frozenset()) -> Any:
        """A schema nested at most ``depth`` deep; ``plain`` ones admit a default (no bytes).

        ``taken`` is what sibling branches rule out when drawing a union branch (see
        :meth:`taken`).
        """
        # A plain type refers to enums only: a record's default may need bytes somewhere.
        refs = [
            name
            for name, node in self.definitions.items()
            if name not in taken
            and node["type"] not in taken
            and not (plain and node["type"] != "enum")
        ]
        kinds = [
            kind
            for kind in _KINDS
            if kind not in taken
            and (depth > 0 or kind not in _NESTED_KINDS)
            and not (plain and kind in ("bytes", "fixed"))
            and (kind != "ref" or refs)
        ]
        kind = self.draw(st.sampled_from(kinds))
        if kind == "ref":
            return self.draw(st.sampled_from(refs))
        logical = _LOGICAL.get(kind, ())
        if logical and self.draw(st.integers(0, 3)) == 0:
            return copy.deepcopy(self.draw(st.sampled_from(logical)))
        if kind == "bytes" and self.draw(st.integers(0, 3)) == 0:
            precision = self.draw(st.integers(1, 8))
            scale = self.draw(st.integers(0, precision))
            return {
                "type": "bytes",
                "logicalType": "decimal",
                "precision": precision,
                "scale": scale,
            }
        return self._build(kind, depth, plain)

    def _build(self, kind: str, depth: int, plain: bool) -> Any:
        if kind == "array":
            return {"type": "array", "items": self.type(depth - 1, plain=plain)}
        if kind == "map":
            return {"type": "map", "values": self.type(depth - 1, plain=plain)}
        if kind == "record":
            return self.record(depth - 1, plain=plain)
        if kind == "union":
            return self.union(depth - 1, plain=plain)
        if kind == "enum":
            count = self.draw(st.integers(1, 4))
            enum: dict[str, Any] = {
                "type": "enum",
                "name": self.fresh("E"),
                "symbols": [self.fresh("S") for _ in range(count)],
            }
            if self.draw(st.integers(0, 3)) == 0:
                enum["default"] = self.draw(st.sampled_from(enum["symbols"]))
            self.definitions[enum["name"]] = enum
            return enum
        if kind == "fixed":
            size = self.draw(st.integers(1, 4))
            fixed: dict[str, Any] = {"type": "fixed", "name": self.fresh("F"), "size": size}
            self.definitions[fixed["name"]] = fixed
            return fixed
        return kind

    def union(self, depth: int, *, plain: bool = False) -> list[Any]:
        """Two or three branches, no two of the same unnamed type."""
        branches: list[Any] = []
        for _ in range(self.draw(st.integers(2, 3))):
            branches.append(self.type(max(depth, 0), plain=plain, taken=self.taken(branches)))
        return branches

    def taken(self, branches: list[Any]) -> frozenset[str]:
        """What a new branch of a union of ``branches`` may not be: their keys, or a union."""
        return frozenset({"union", *(union_key(branch) for branch in branches)})

    def defaults(self, schema: Any) -> SearchStrategy[Any] | None:
        """JSON defaults valid for ``schema`` and holding no bytes; ``None`` if there are none."""
        schema = self.resolve(schema)
        if isinstance(schema, list):
            return self.defaults(schema[0])
        kind = schema if isinstance(schema, str) else schema["type"]
        logical = None if isinstance(schema, str) else schema.get("logicalType")
        if logical == "uuid":
            return st.uuids().map(str)
        if logical in ("date", "timestamp-millis", "timestamp-micros"):
            return st.integers(0, 2**31 - 1)
        if kind in ("array", "map"):
            inner = self.defaults(schema["items" if kind == "array" else "values"])
            if inner is None:
                return st.just([] if kind == "array" else {})
            if kind == "array":
                return st.lists(inner, max_size=2)
            return st.dictionaries(st.text(max_size=3), inner, max_size=2)
        if kind == "record":
            fields = {f["name"]: self.defaults(f["type"]) for f in schema["fields"]}
            if any(values is None for values in fields.values()):
                return None
            return st.fixed_dictionaries({k: v for k, v in fields.items() if v is not None})
        if kind == "enum":
            return st.sampled_from(schema["symbols"])
        return _PRIMITIVE_DEFAULTS.get(kind)

    def resolve(self, schema: Any) -> Any:
        """``schema``, or the definition it names."""
        if isinstance(schema, str) and schema in self.definitions:
            return self.definitions[schema]
        return schema


_PRIMITIVE_DEFAULTS: dict[str, SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "int": st.integers(*_INT_RANGE),
    "long": st.integers(*_LONG_RANGE),
    "float": st.floats(width=32, allow_nan=False, allow_infinity=False),
    "double": st.floats(allow_nan=False, allow_infinity=False),
    "string": st.text(max_size=4),
}


def _fits(drafter: Drafter, schema: Any, value: Any) -> bool:
    """Whether ``value`` is a complete, bytes-free default for ``schema``."""
    schema = drafter.resolve(schema)
    if isinstance(schema, list):
        return _fits(drafter, schema[0], value)
    kind = schema if isinstance(schema, str) else schema["type"]
    if kind in ("bytes", "fixed"):
        return False
    if isinstance(schema, dict) and schema.get("logicalType") == "uuid":
        return isinstance(value, str) and _is_uuid(value)
    if kind in ("int", "long"):
        low, high = _INT_RANGE if kind == "int" else _LONG_RANGE
        return type(value) is int and low <= value <= high
    if kind in ("float", "double"):
        return type(value) in (int, float)
    if kind == "array":
        return isinstance(value, list) and all(_fits(drafter, schema["items"], v) for v in value)
    if kind == "map":
        return isinstance(value, dict) and all(
            _fits(drafter, schema["values"], v) for v in value.values()
        )
    if kind == "record":
        fields = schema["fields"]
        return (
            isinstance(value, dict)
            and set(value) == {f["name"] for f in fields}
            and all(_fits(drafter, f["type"], value[f["name"]]) for f in fields)
        )
    if kind == "enum":
        return value in schema["symbols"]
    expected = {"null": type(None), "boolean": bool, "string": str}[kind]
    return type(value) is expected


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def repair_defaults(drafter: Drafter, schema: dict[str, Any]) -> None:
    """Draw a fresh default wherever an edit made one invalid; drop it if none exists."""
    for _, node, _ in positions(schema):
        if not (isinstance(node, dict) and node["type"] == "record"):
            continue
        for field in node["fields"]:
            if "default" in field and not _fits(drafter, field["type"], field["default"]):
                values = drafter.defaults(field["type"])
                if values is None:
                    del field["default"]
                else:
                    field["default"] = drafter.draw(values)
