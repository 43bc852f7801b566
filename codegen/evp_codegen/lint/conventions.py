"""The platform's contract conventions: layout, docs, the envelope, and money as decimals.

The folder a file sits in fixes its namespace and name, so a reader finds any type from its
full name alone. Every event starts with the envelope the runtime reads ids and causation
from. Money in a float loses cents, so money is always a decimal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evp.contract.catalog import CATALOG_FILE
from evp.contract.findings import Finding
from evp.contract.schema_json import qualify
from evp_codegen.lint.document import Corpus, FieldNode, SchemaDocument
from evp_codegen.lint.rules import (
    ENVELOPE_MISSING,
    MISSING_DOC,
    MONEY_AS_FLOAT,
    NAME_MISMATCH,
    NAMESPACE_MISMATCH,
)

__all__ = ["ENVELOPE_FIELD", "MONEY_WORDS", "check"]

ENVELOPE_FIELD = "envelope"

_MONEY_WORDS_TEXT = """
    amount amounts balance balances charge charges cost costs credit debit discount fee fees
    money payout price prices refund revenue salary subtotal surcharge tax taxes tip total
    totals vat
    """
MONEY_WORDS = frozenset(_MONEY_WORDS_TEXT.split())
"""Words that, as any part of a snake_case field name, say the field holds money."""


def check(corpus: Corpus) -> Iterator[Finding]:
    """Convention findings for every document of ``corpus``."""
    yield from _envelope_declared(corpus)
    for document in corpus.documents:
        yield from _layout(corpus, document)
        yield from _docs(document)
        yield from _money(document)
        if document.is_event:
            yield from _envelope_field(corpus, document)


def _layout(corpus: Corpus, document: SchemaDocument) -> Iterator[Finding]:
    expected = ".".join(filter(None, (corpus.catalog.namespace, document.domain)))
    for node in document.named:
        namespace = node.full_name.rpartition(".")[0]
        if namespace != expected:
            key = "namespace" if "namespace" in node.schema else "name"
            yield NAMESPACE_MISMATCH.at(
                document.path,
                f"{node.json_path}.{key}",
                f"{node.full_name} is in namespace {namespace or '(none)'}; files in "
                f"{document.domain}/ use {expected}",
            )
    root = document.root
    if root is not None and root.simple_name != document.expected_name:
        where = "folder" if document.is_event else "file"
        yield NAME_MISMATCH.at(
            document.path,
            "$.name",
            f"{root.kind} {root.simple_name} must be named {document.expected_name} "
            f"after its {where}",
        )


def _docs(document: SchemaDocument) -> Iterator[Finding]:
    for node in document.named:
        if node.kind != "fixed" and not _has_doc(node.schema):
            yield MISSING_DOC.at(
                document.path, node.json_path, f"{node.kind} {node.full_name} has no doc"
            )
    for field in document.fields:
        if not _has_doc(field.schema):
            yield MISSING_DOC.at(
                document.path,
                field.json_path,
                f"field {field.name!r} of {field.record} has no doc",
            )


def _has_doc(schema: dict[str, Any]) -> bool:
    doc = schema.get("doc")
    return isinstance(doc, str) and bool(doc.strip())


def _money(document: SchemaDocument) -> Iterator[Finding]:
    for field in document.fields:
        name = field.name
        if name is None or not MONEY_WORDS & set(name.lower().split("_")):
            continue
        floating = _floating_type(field.schema.get("type"))
        if floating is not None:
            yield MONEY_AS_FLOAT.at(
                document.path,
                f"{field.json_path}.type",
                f"field {name!r} of {field.record} holds money as {floating}; use "
                '{"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}',
            )


def _floating_type(schema: Any) -> str | None:
    """``"float"`` or ``"double"`` when values of ``schema`` can be one, looking through
    unions, arrays and maps (a list of prices is still money)."""
    if schema in ("float", "double"):
        return str(schema)
    if isinstance(schema, list):
        return next((f for f in map(_floating_type, schema) if f is not None), None)
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "array":
            return _floating_type(schema.get("items"))
        if kind == "map":
            return _floating_type(schema.get("values"))
        if kind in ("float", "double") or isinstance(kind, dict | list):
            return _floating_type(kind)
    return None


def _envelope_declared(corpus: Corpus) -> Iterator[Finding]:
    catalog = corpus.catalog
    if catalog.envelope not in catalog.shared_types:
        yield ENVELOPE_MISSING.at(
            catalog.root / CATALOG_FILE,
            "$.envelope",
            f"envelope type {catalog.envelope} is not a shared type under {catalog.root.name}/",
        )


def _envelope_field(corpus: Corpus, document: SchemaDocument) -> Iterator[Finding]:
    root = document.root
    if root is None or root.kind != "record":
        return
    envelope = corpus.catalog.envelope
    first: FieldNode | None = next((f for f in document.fields if f.record == root.full_name), None)
    if first is None or first.json_path != "$.fields[0]":
        yield ENVELOPE_MISSING.at(
            document.path,
            "$.fields",
            f"{root.full_name} has no fields; its first must be {ENVELOPE_FIELD}: {envelope}",
        )
        return
    if first.name != ENVELOPE_FIELD:
        yield ENVELOPE_MISSING.at(
            document.path,
            f"{first.json_path}.name",
            f"the first field of {root.full_name} is {first.name!r}; it must be "
            f"{ENVELOPE_FIELD}: {envelope}",
        )
        return
    found = _type_name(first.schema.get("type"), first.namespace)
    if found != envelope:
        yield ENVELOPE_MISSING.at(
            document.path,
            f"{first.json_path}.type",
            f"field {ENVELOPE_FIELD} of {root.full_name} has type {found}; it must be {envelope}",
        )


def _type_name(schema: Any, namespace: str | None) -> str:
    if isinstance(schema, str):
        return qualify(schema, namespace)
    if isinstance(schema, dict) and isinstance(schema.get("name"), str):
        return qualify(schema["name"], schema.get("namespace", namespace))
    return "a union" if isinstance(schema, list) else "an inline type"
