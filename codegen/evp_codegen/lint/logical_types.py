"""Logical types on the right base types, and decimals with a usable precision and scale.

Avro's Java parser ignores an invalid logical type instead of failing, so a ``uuid`` on an
``int`` or a ``timestamp-millis`` written on the field (not its type) silently becomes a plain
number: producers and consumers then disagree on what the value means.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, TypeGuard

from evp.contract.findings import Finding
from evp_codegen.lint.document import Corpus, SchemaDocument
from evp_codegen.lint.rules import INVALID_DECIMAL, INVALID_LOGICAL_TYPE, UNKNOWN_LOGICAL_TYPE

__all__ = ["BASE_TYPES", "check"]

BASE_TYPES: dict[str, frozenset[str]] = {
    "decimal": frozenset({"bytes", "fixed"}),
    "big-decimal": frozenset({"bytes"}),
    "uuid": frozenset({"string", "fixed"}),
    "date": frozenset({"int"}),
    "time-millis": frozenset({"int"}),
    "time-micros": frozenset({"long"}),
    "timestamp-millis": frozenset({"long"}),
    "timestamp-micros": frozenset({"long"}),
    "timestamp-nanos": frozenset({"long"}),
    "local-timestamp-millis": frozenset({"long"}),
    "local-timestamp-micros": frozenset({"long"}),
    "local-timestamp-nanos": frozenset({"long"}),
    "duration": frozenset({"fixed"}),
}
"""The base types each logical type of the Avro 1.12 specification may annotate."""

_FIXED_SIZES = {"uuid": 16, "duration": 12}


def check(corpus: Corpus) -> Iterator[Finding]:
    """Logical type findings for every document of ``corpus``."""
    for document in corpus.documents:
        for field in document.fields:
            if "logicalType" in field.schema:
                yield INVALID_LOGICAL_TYPE.at(
                    document.path,
                    f"{field.json_path}.logicalType",
                    f"logicalType {field.schema['logicalType']!r} on field {field.name!r} is "
                    "ignored by Avro; put it inside the field's type object",
                )
        for node in document.types:
            if isinstance(node.schema, dict) and "logicalType" in node.schema:
                yield from _logical_type(document, node.json_path, node.schema)


def _logical_type(document: SchemaDocument, path: str, schema: dict[str, Any]) -> Iterator[Finding]:
    logical = schema["logicalType"]
    base = schema.get("type")
    allowed = BASE_TYPES.get(logical) if isinstance(logical, str) else None
    where = f"{path}.logicalType"
    if allowed is None:
        yield UNKNOWN_LOGICAL_TYPE.at(
            document.path, where, f"unknown logicalType {logical!r} is read as plain {base}"
        )
        return
    if not isinstance(base, str) or base not in allowed:
        yield INVALID_LOGICAL_TYPE.at(
            document.path,
            where,
            f"{logical} must annotate {' or '.join(sorted(allowed))}, not {base}",
        )
        return
    size = _FIXED_SIZES.get(logical)
    if base == "fixed" and size is not None and schema.get("size") != size:
        yield INVALID_LOGICAL_TYPE.at(
            document.path,
            where,
            f"{logical} on a fixed needs size {size}, not {schema.get('size')}",
        )
    if logical == "decimal":
        yield from _decimal(document, path, schema)


def _decimal(document: SchemaDocument, path: str, schema: dict[str, Any]) -> Iterator[Finding]:
    precision = schema.get("precision")
    scale = schema.get("scale", 0)
    if not _is_int(precision) or precision <= 0:
        yield INVALID_DECIMAL.at(
            document.path,
            f"{path}.precision",
            f"decimal precision must be a positive integer, not {precision!r}",
        )
        return
    if not _is_int(scale) or not 0 <= scale <= precision:
        yield INVALID_DECIMAL.at(
            document.path,
            f"{path}.scale",
            f"decimal scale must be an integer from 0 to the precision {precision}, not {scale!r}",
        )
    size = schema.get("size")
    if schema.get("type") == "fixed" and _is_int(size) and size > 0:
        most = math.floor(math.log10(2 ** (8 * size - 1) - 1))
        if precision > most:
            yield INVALID_DECIMAL.at(
                document.path,
                f"{path}.precision",
                f"a fixed of {size} bytes holds at most {most} digits, not precision {precision}",
            )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
