"""Walking and editing a schema's JSON: places where a schema appears, and named types."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

__all__ = [
    "NAMED",
    "Path",
    "get",
    "hoist_definitions",
    "is_definition",
    "pointer",
    "positions",
    "put",
    "union_key",
]

Path = tuple[str | int, ...]

NAMED = frozenset({"record", "enum", "fixed"})


def positions(schema: Any, path: Path = ()) -> Iterator[tuple[Path, Any, list[Any] | None]]:
    """Every place a schema appears, in document order: path, node and enclosing union."""
    yield path, schema, None
    yield from _children(schema, path)


def _children(schema: Any, path: Path) -> Iterator[tuple[Path, Any, list[Any] | None]]:
    if isinstance(schema, list):
        for index, branch in enumerate(schema):
            yield (*path, index), branch, schema
            yield from _children(branch, (*path, index))
    elif isinstance(schema, dict):
        if schema["type"] == "record":
            for index, field in enumerate(schema["fields"]):
                yield from positions(field["type"], (*path, "fields", index, "type"))
        elif schema["type"] in ("array", "map"):
            key = "items" if schema["type"] == "array" else "values"
            yield from positions(schema[key], (*path, key))


def get(schema: Any, path: Path) -> Any:
    """The node at ``path``."""
    for step in path:
        schema = schema[step]
    return schema


def put(schema: Any, path: Path, value: Any) -> None:
    """Replace the node at ``path`` (never the root) with ``value``."""
    get(schema, path[:-1])[path[-1]] = value


def pointer(path: Path) -> str:
    """``path`` as a JSON pointer."""
    return "/" + "/".join(str(step) for step in path)


def is_definition(node: Any) -> bool:
    """Whether ``node`` defines a named type (rather than referring to one by name)."""
    return isinstance(node, dict) and node["type"] in NAMED


def union_key(branch: Any) -> str:
    """What makes a union branch distinct: its type, or its name for named types."""
    if isinstance(branch, str):
        return branch
    return str(branch["name"] if branch["type"] in NAMED else branch["type"])


def hoist_definitions(schema: dict[str, Any], lookup: dict[str, dict[str, Any]]) -> None:
    """Define each named type at its first use and refer to it by name after that.

    An edit that removes a definition leaves later references to it dangling; ``lookup``
    holds every definition by name, detached ones included, to put back at the first one.
    """
    defined: set[str] = set()

    def visit(node: Any) -> Any:
        if isinstance(node, str):
            if node in lookup and node not in defined:
                return visit(copy.deepcopy(lookup[node]))
            return node
        if isinstance(node, list):
            return [visit(branch) for branch in node]
        if node["type"] in NAMED:
            if node["name"] in defined:
                return node["name"]
            defined.add(node["name"])
        if node["type"] == "record":
            for field in node["fields"]:
                field["type"] = visit(field["type"])
        elif node["type"] in ("array", "map"):
            key = "items" if node["type"] == "array" else "values"
            node[key] = visit(node[key])
        return node

    visit(schema)
