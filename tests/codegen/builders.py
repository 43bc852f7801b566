"""Tiny schema trees for schema-tooling tests, built in a temporary folder from Python dicts.

A fresh :class:`SchemaTree` holds the shared envelope and currency and lints clean; each test
adds the one thing its rule should catch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evp.contract.catalog import load_catalog
from evp.contract.findings import Finding
from evp_codegen.lint import lint

__all__ = ["SchemaTree", "codes", "enum", "event", "fld", "record"]

Schema = dict[str, Any]


def fld(name: str, type_: Any, **extra: Any) -> Schema:
    """A documented field."""
    return {"name": name, "type": type_, "doc": f"The {name}.", **extra}


def record(name: str, *fields: Schema, **extra: Any) -> Schema:
    """A documented record."""
    return {"type": "record", "name": name, "doc": f"A {name}.", "fields": list(fields), **extra}


def enum(name: str, *symbols: str, **extra: Any) -> Schema:
    """A documented enum."""
    return {"type": "enum", "name": name, "doc": f"A {name}.", "symbols": list(symbols), **extra}


def event(name: str, *fields: Schema, namespace: str = "shop.orders", **extra: Any) -> Schema:
    """An event record: the envelope, an ``order_id`` key, then ``fields``."""
    return record(
        name,
        fld("envelope", "shop.common.Envelope"),
        fld("order_id", "string"),
        *fields,
        namespace=namespace,
        **extra,
    )


ENVELOPE = record(
    "Envelope",
    fld("event_id", {"type": "string", "logicalType": "uuid"}),
    fld("timestamp", {"type": "long", "logicalType": "timestamp-millis"}),
    namespace="shop.common",
)
CURRENCY = enum("Currency", "EUR", "USD", namespace="shop.common")


@dataclass
class SchemaTree:
    """A ``schemas/`` folder under construction."""

    root: Path
    events: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(
        default_factory=lambda: {"namespace": "shop", "envelope": "shop.common.Envelope"}
    )

    def __post_init__(self) -> None:
        self.write("common/Envelope.avsc", ENVELOPE)
        self.write("common/Currency.avsc", CURRENCY)

    def write(self, relative: str, schema: Schema) -> Path:
        """Write ``schema`` as JSON at ``relative`` below the root."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
        return path

    def add_event(
        self, schema: Schema, *, version: int = 1, domain: str = "orders", folder: str = ""
    ) -> Path:
        """Write ``schema`` as version ``version`` of its subject and list it in the catalog."""
        folder = folder or schema["name"]
        self.events[f"shop.{domain}.{folder}"] = "order_id"
        return self.write(f"{domain}/{folder}/v{version}.avsc", schema)

    def write_catalog(self) -> Path:
        """Write ``catalog.toml`` for the events added so far."""
        lines = [f'{key} = "{value}"' for key, value in self.settings.items()]
        lines += ["[topics.orders]", 'doc = "Orders."', "[topics.users]", 'doc = "Users."']
        for full_name, key in sorted(self.events.items()):
            topic = full_name.split(".")[1]
            lines += [f'[events."{full_name}"]', f'topic = "{topic}"', f'key = "{key}"']
        path = self.root / "catalog.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def lint(self) -> list[Finding]:
        """Write the catalog and lint the tree."""
        self.write_catalog()
        return lint(load_catalog(self.root))


def codes(findings: list[Finding], root: Path) -> set[tuple[str, str, str]]:
    """Each finding as ``(file relative to root, JSON path, rule id)``."""
    return {(str(f.path.relative_to(root)), f.json_path, f.rule) for f in findings}
