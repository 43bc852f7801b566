"""Checking an AsyncAPI document's internal references (``$ref``), for tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["references", "unresolved"]


def references(node: Any) -> Iterator[str]:
    """Every ``$ref`` anywhere in ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def unresolved(document: dict[str, Any]) -> list[str]:
    """The ``$ref``s of ``document`` that do not name an object inside it (JSON pointers)."""
    missing = []
    for ref in references(document):
        node: Any = document
        if not ref.startswith("#/"):
            missing.append(ref)
            continue
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            missing.append(ref)
    return missing
