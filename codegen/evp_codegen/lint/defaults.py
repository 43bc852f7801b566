"""Default values, checked the way Confluent's Java parser checks them.

fastavro accepts a union default that matches any branch; the Java parser (and so the
registry) accepts only one that matches the union's first branch. Record defaults must give
every field that has no default of its own. A bad default is found here with a JSON path that
continues into the default value itself, e.g. ``$.fields[3].default.lines[0].quantity``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from evp.contract.findings import Finding
from evp.contract.schema_json import qualify
from evp_codegen.lint.document import Corpus, FieldNode, SchemaDocument
from evp_codegen.lint.rules import ENUM_DEFAULT_NOT_SYMBOL, INVALID_DEFAULT, UNION_DEFAULT_MISMATCH

__all__ = ["check"]

_INT_RANGE = {"int": 2**31, "long": 2**63}


def check(corpus: Corpus) -> Iterator[Finding]:
    """Default value findings for every document of ``corpus``."""
    for document in corpus.documents:
        validator = _Validator(corpus, document)
        for field in document.fields:
            if "default" in field.schema and "type" in field.schema:
                yield from _field_default(validator, document, field)
        for node in document.named:
            if node.kind == "enum" and "default" in node.schema:
                default = node.schema["default"]
                symbols = node.schema.get("symbols")
                if not isinstance(symbols, list) or default not in symbols:
                    yield ENUM_DEFAULT_NOT_SYMBOL.at(
                        document.path,
                        f"{node.json_path}.default",
                        f"default {_show(default)} of enum {node.full_name} is not one of its "
                        f"symbols",
                    )


def _field_default(
    validator: _Validator, document: SchemaDocument, field: FieldNode
) -> Iterator[Finding]:
    where = f"{field.json_path}.default"
    value = field.schema["default"]
    schema = validator.unwrap(field.schema["type"])
    if isinstance(schema, list) and schema:
        if validator.problem(value, schema[0], field.namespace, where) is None:
            return
        matching = [
            index
            for index, branch in enumerate(schema)
            if validator.problem(value, branch, field.namespace, where) is None
        ]
        hint = (
            f"it matches branch {matching[0]} ({_describe(schema[matching[0]])}); put that first"
            if matching
            else "nor any other branch"
        )
        yield UNION_DEFAULT_MISMATCH.at(
            document.path,
            where,
            f"default {_show(value)} of field {field.name!r} does not match the union's first "
            f"branch {_describe(schema[0])}; {hint}",
        )
        return
    problem = validator.problem(value, schema, field.namespace, where)
    if problem is not None:
        at, reason = problem
        yield INVALID_DEFAULT.at(
            document.path, at, f"default of field {field.name!r} is invalid: {reason}"
        )


class _Validator:
    """Checks a JSON value against a schema, following named types where the file can see them."""

    def __init__(self, corpus: Corpus, document: SchemaDocument) -> None:
        self.corpus = corpus
        self.document = document

    def unwrap(self, schema: Any) -> Any:
        while isinstance(schema, dict) and isinstance(schema.get("type"), dict | list):
            schema = schema["type"]
        return schema

    def problem(
        self, value: Any, schema: Any, namespace: str | None, where: str
    ) -> tuple[str, str] | None:
        """``(json path, reason)`` when ``value`` is not valid for ``schema``, else None."""
        schema = self.unwrap(schema)
        if isinstance(schema, list):
            # A union inside a default value also takes its first branch's form.
            return self.problem(value, schema[0], namespace, where) if schema else None
        if isinstance(schema, dict):
            kind = schema.get("type")
            if kind in _PRIMITIVE_CHECKS:
                return _primitive(value, kind, where)
            if kind in ("record", "error", "enum", "fixed", "array", "map"):
                return self.complex(value, schema, namespace, where)
            schema = kind
        if not isinstance(schema, str):
            return None
        if schema in _PRIMITIVE_CHECKS:
            return _primitive(value, schema, where)
        node = self.corpus.lookup(self.document, qualify(schema, namespace))
        # Unknown names are reported as UNKNOWN_TYPE; their defaults cannot be judged.
        return None if node is None else self.problem(value, node.schema, node.namespace, where)

    def complex(
        self, value: Any, schema: dict[str, Any], namespace: str | None, where: str
    ) -> tuple[str, str] | None:
        kind = schema["type"]
        if kind in ("record", "error", "enum", "fixed"):
            name = schema.get("name")
            if not isinstance(name, str):
                return None
            full_name = qualify(name, schema.get("namespace", namespace))
            if kind == "enum":
                symbols = schema.get("symbols")
                if isinstance(symbols, list) and value not in symbols:
                    return where, f"{_show(value)} is not a symbol of {full_name}"
                return None
            if kind == "fixed":
                size = schema.get("size")
                if not _is_bytes(value) or len(value) != size:
                    return where, f"{_show(value)} is not a {size}-byte string for {full_name}"
                return None
            return self.record(value, schema, full_name, where)
        if kind == "array":
            if not isinstance(value, list):
                return where, f"{_show(value)} is not a JSON array"
            for index, item in enumerate(value):
                found = self.problem(item, schema.get("items"), namespace, f"{where}[{index}]")
                if found is not None:
                    return found
            return None
        if not isinstance(value, dict):
            return where, f"{_show(value)} is not a JSON object (a map)"
        for key, item in value.items():
            found = self.problem(item, schema.get("values"), namespace, f"{where}[{_show(key)}]")
            if found is not None:
                return found
        return None

    def record(
        self, value: Any, schema: dict[str, Any], full_name: str, where: str
    ) -> tuple[str, str] | None:
        if not isinstance(value, dict):
            return where, f"{_show(value)} is not a JSON object for record {full_name}"
        inner = full_name.rpartition(".")[0] or None
        fields = schema.get("fields")
        for entry in fields if isinstance(fields, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            name = entry["name"]
            if name in value:
                found = self.problem(value[name], entry.get("type"), inner, f"{where}.{name}")
                if found is not None:
                    return found
            elif "default" not in entry:
                return where, f"required field {name!r} of {full_name} is missing"
        return None


def _primitive(value: Any, kind: str, where: str) -> tuple[str, str] | None:
    if _PRIMITIVE_CHECKS[kind](value):
        if kind in _INT_RANGE and not -_INT_RANGE[kind] <= value < _INT_RANGE[kind]:
            return where, f"{value} is out of range for {kind}"
        return None
    return where, f"{_show(value)} is not a valid {kind}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_bytes(value: Any) -> bool:
    """Avro writes bytes defaults as strings of code points 0-255, one per byte."""
    return isinstance(value, str) and all(ord(c) <= 0xFF for c in value)


_PRIMITIVE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "int": _is_int,
    "long": _is_int,
    "float": _is_number,
    "double": _is_number,
    "bytes": _is_bytes,
    "string": lambda v: isinstance(v, str),
}


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _describe(branch: Any) -> str:
    if isinstance(branch, dict):
        name = branch.get("name")
        return _show(name if isinstance(name, str) else branch.get("type"))
    return _show(branch)
