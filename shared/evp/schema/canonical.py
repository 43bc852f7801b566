"""The canonical text of an Avro schema: what the registry stores and compares.

Two schema texts that differ only in whitespace, the order of Avro's own keys or how names
are spelled (``"ns.Foo"`` or ``"Foo"`` inside ``ns``) have the same canonical text, and so
the same id. Unlike Avro's Parsing Canonical Form it keeps docs, defaults, aliases and
custom properties: a doc change is a new version, as in Confluent's registry. Custom
properties keep the order the text gives them, as there: reordering them is a new schema.

``normalize=True`` (Confluent's ``?normalize=true``) goes further: every name is written
fully qualified and no ``namespace`` keys remain, so schemas that only moved namespace
declarations around compare equal too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["canonical_form", "fingerprint"]

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})

_NAMED_KEYS = ("type", "name", "namespace", "doc", "aliases")
_KIND_KEYS = {
    "record": ("fields",),
    "error": ("fields",),
    "enum": ("symbols", "default"),
    "fixed": ("size",),
}
_FIELD_KEYS = ("name", "type", "doc", "default", "order", "aliases")


def canonical_form(schema: object, *, normalize: bool = False) -> str:
    """The canonical text of ``schema`` (parsed JSON of a schema Avro accepted)."""
    value = _Writer(normalize).schema(schema, None)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def fingerprint(canonical: str, references: Sequence[Mapping[str, Any]] = ()) -> str:
    """Identity of a schema: its canonical text together with the references it resolves."""
    payload = json.dumps([canonical, list(references)], separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _full_name(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _space(full_name: str) -> str | None:
    return full_name.rpartition(".")[0] or None


def _extras(node: Mapping[str, Any], known: Sequence[str]) -> dict[str, Any]:
    # Custom properties in the order the source gives them, after the known keys: as
    # Confluent's registry keeps them, so the same text gets the same id from both.
    return {key: value for key, value in node.items() if key not in known}


class _Writer:
    def __init__(self, normalize: bool) -> None:
        self.normalize = normalize

    def schema(self, node: object, namespace: str | None) -> Any:
        if isinstance(node, str):
            return node if node in PRIMITIVES else self.reference(node, namespace)
        if isinstance(node, list):
            return [self.schema(branch, namespace) for branch in node]
        if not isinstance(node, Mapping):
            return node
        kind = node.get("type")
        if kind in NAMED:
            return self.named(node, namespace)
        if kind == "array":
            return {"type": "array", "items": self.schema(node["items"], namespace)} | _extras(
                node, ("type", "items")
            )
        if kind == "map":
            return {"type": "map", "values": self.schema(node["values"], namespace)} | _extras(
                node, ("type", "values")
            )
        if kind in PRIMITIVES:
            extras = _extras(node, ("type",))
            return {"type": kind} | extras if extras else kind
        # {"type": "ns.Foo"} or {"type": {...}}: the wrapper adds nothing.
        return self.schema(kind, namespace)

    def reference(self, name: str, namespace: str | None) -> str:
        full = _full_name(name, namespace)
        if self.normalize or _space(full) != namespace:
            return full
        return full.rpartition(".")[2]

    def named(self, node: Mapping[str, Any], enclosing: str | None) -> dict[str, Any]:
        kind = node["type"]
        declared = node.get("namespace")
        # An explicit "" namespace means the null namespace, not "inherit".
        namespace = enclosing if declared is None else (declared or None)
        full = _full_name(node["name"], namespace)
        space = _space(full)
        out: dict[str, Any] = {"type": kind}
        if self.normalize:
            out["name"] = full
        else:
            out["name"] = full.rpartition(".")[2]
            if space != enclosing:
                out["namespace"] = space or ""
        if "doc" in node:
            out["doc"] = node["doc"]
        if "aliases" in node:
            out["aliases"] = [
                _full_name(alias, space) if self.normalize else alias for alias in node["aliases"]
            ]
        if kind in ("record", "error"):
            out["fields"] = [self.field(field, space) for field in node["fields"]]
        elif kind == "enum":
            out["symbols"] = list(node["symbols"])
            if "default" in node:
                out["default"] = node["default"]
        else:
            out["size"] = node["size"]
        return out | _extras(node, _NAMED_KEYS + _KIND_KEYS[kind])

    def field(self, node: Mapping[str, Any], namespace: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"name": node["name"], "type": self.schema(node["type"], namespace)}
        if "doc" in node:
            out["doc"] = node["doc"]
        if "default" in node:
            out["default"] = node["default"]
        if node.get("order", "ascending") != "ascending":
            out["order"] = node["order"]
        if "aliases" in node:
            out["aliases"] = list(node["aliases"])
        return out | _extras(node, _FIELD_KEYS)
