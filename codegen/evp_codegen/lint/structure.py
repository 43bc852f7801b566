"""What Confluent's Java parser rejects and Python parsers let through: names and uniqueness.

fastavro accepts duplicate field names, invalid record names and duplicate union branches;
the registry's Java parser does not, so a schema that passes locally would fail to register.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from evp.contract.findings import Finding
from evp.contract.schema_json import PRIMITIVES, qualify
from evp_codegen.lint.document import Corpus, SchemaDocument
from evp_codegen.lint.rules import (
    DUPLICATE_FIELD,
    DUPLICATE_NAME,
    DUPLICATE_SYMBOL,
    INVALID_NAME,
    INVALID_UNION,
    PARSE_ERROR,
    UNKNOWN_TYPE,
)

__all__ = ["check", "is_avro_name"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_avro_name(name: str) -> bool:
    """Whether ``name`` is a simple Avro name (no dots)."""
    return _NAME.match(name) is not None


def check(corpus: Corpus) -> Iterator[Finding]:
    """Structural findings for every document of ``corpus``."""
    for document in corpus.documents:
        for json_path, message in document.malformed:
            yield PARSE_ERROR.at(document.path, json_path, message)
        yield from _names(document)
        yield from _duplicate_definitions(corpus, document)
        yield from _fields(document)
        yield from _symbols(document)
        yield from _unknown_types(corpus, document)
        yield from _unions(document)


def _names(document: SchemaDocument) -> Iterator[Finding]:
    for node in document.named:
        name = node.schema["name"]
        if not all(is_avro_name(part) for part in name.split(".")):
            yield INVALID_NAME.at(
                document.path, f"{node.json_path}.name", f"{node.kind} name {name!r} is not valid"
            )
        namespace = node.schema.get("namespace")
        if (
            isinstance(namespace, str)
            and namespace
            and not all(is_avro_name(part) for part in namespace.split("."))
        ):
            yield INVALID_NAME.at(
                document.path,
                f"{node.json_path}.namespace",
                f"namespace {namespace!r} is not valid",
            )
    for field in document.fields:
        if field.name is not None and not is_avro_name(field.name):
            yield INVALID_NAME.at(
                document.path,
                f"{field.json_path}.name",
                f"field name {field.name!r} of {field.record} is not valid",
            )


def _duplicate_definitions(corpus: Corpus, document: SchemaDocument) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    shared = corpus.catalog.shared_types
    for node in document.named:
        where = f"{node.json_path}.name"
        if node.full_name in seen:
            yield DUPLICATE_NAME.at(
                document.path,
                where,
                f"{node.full_name} is already defined at {seen[node.full_name]}",
            )
            continue
        seen[node.full_name] = node.json_path
        owner = shared.get(node.full_name)
        if owner is not None and owner.path != document.path:
            yield DUPLICATE_NAME.at(
                document.path,
                where,
                f"{node.full_name} is the shared type in {owner.path.parent.name}/"
                f"{owner.path.name}; refer to it by name instead of redefining it",
            )


def _fields(document: SchemaDocument) -> Iterator[Finding]:
    seen: dict[tuple[str, str], str] = {}
    for field in document.fields:
        if field.name is None:
            continue
        key = (field.record, field.name)
        if key in seen:
            yield DUPLICATE_FIELD.at(
                document.path,
                f"{field.json_path}.name",
                f"{field.record} already has a field {field.name!r} at {seen[key]}",
            )
        else:
            seen[key] = field.json_path


def _symbols(document: SchemaDocument) -> Iterator[Finding]:
    for node in document.named:
        symbols = node.schema.get("symbols")
        if node.kind != "enum" or not isinstance(symbols, list):
            continue
        seen: set[str] = set()
        for index, symbol in enumerate(symbols):
            where = f"{node.json_path}.symbols[{index}]"
            if not isinstance(symbol, str):
                continue
            if not is_avro_name(symbol):
                yield INVALID_NAME.at(
                    document.path, where, f"symbol {symbol!r} of {node.full_name} is not valid"
                )
            if symbol in seen:
                yield DUPLICATE_SYMBOL.at(
                    document.path, where, f"symbol {symbol!r} of {node.full_name} is repeated"
                )
            seen.add(symbol)


def _unknown_types(corpus: Corpus, document: SchemaDocument) -> Iterator[Finding]:
    defined_later = set(document.definitions())
    for reference in document.references:
        if reference.defined_before or reference.full_name in corpus.shared_names:
            continue
        if reference.full_name in defined_later:
            message = f"{reference.full_name} is used before it is defined"
        else:
            message = f"{reference.full_name} is not defined here nor a shared type"
        yield UNKNOWN_TYPE.at(document.path, reference.json_path, message)


def _unions(document: SchemaDocument) -> Iterator[Finding]:
    for node in document.types:
        if not isinstance(node.schema, list):
            continue
        seen: dict[str, int] = {}
        for index, branch in enumerate(node.schema):
            where = f"{node.json_path}[{index}]"
            if isinstance(branch, list):
                yield INVALID_UNION.at(
                    document.path, where, "a union cannot directly contain another union"
                )
                continue
            key = _branch_key(branch, node.namespace)
            if key is None:
                continue
            if key in seen:
                yield INVALID_UNION.at(
                    document.path, where, f"{key} is already branch {seen[key]} of this union"
                )
            else:
                seen[key] = index


def _branch_key(branch: Any, namespace: str | None) -> str | None:
    """What a union tells its branches apart by: the type's name (logical types do not count)."""
    if isinstance(branch, str):
        return branch if branch in PRIMITIVES else qualify(branch, namespace)
    if not isinstance(branch, dict):
        return None
    kind = branch.get("type")
    if kind in ("record", "error", "enum", "fixed"):
        name = branch.get("name")
        return qualify(name, branch.get("namespace", namespace)) if isinstance(name, str) else None
    if isinstance(kind, str):
        return kind if kind in PRIMITIVES | {"array", "map"} else qualify(kind, namespace)
    return None
