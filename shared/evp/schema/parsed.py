"""Parsing a schema text into a validated :class:`ParsedSchema`.

Avro's Python parser accepts field defaults that do not match their type; Confluent's
(Java) registry rejects them, and so does :func:`parse_schema`, union defaults included
(a union's default must match its first branch).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import avro.name
import avro.schema

from evp.schema.canonical import canonical_form, fingerprint
from evp.schema.errors import InvalidSchemaError

__all__ = ["ParsedSchema", "Reference", "parse_schema"]

_INT_RANGE = range(-(2**31), 2**31)
_LONG_RANGE = range(-(2**63), 2**63)


@dataclass(frozen=True)
class Reference:
    """A named type this schema takes from ``subject`` at ``version``."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, Any]:
        """The reference as Confluent's API spells it."""
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True, eq=False)
class ParsedSchema:
    """A schema Avro accepted, with its canonical text and identity."""

    avro: avro.schema.Schema
    canonical: str
    fingerprint: str
    references: tuple[Reference, ...] = ()

    def __str__(self) -> str:
        return self.canonical


def parse_schema(
    text: str,
    *,
    references: Sequence[Reference] = (),
    dependencies: Sequence[str] = (),
    normalize: bool = False,
) -> ParsedSchema:
    """Parse and validate ``text``; ``dependencies`` are the referenced schema texts.

    ``dependencies`` must come in dependency order (a schema after those it uses); their
    named types become visible to ``text``. Raises :class:`InvalidSchemaError`.
    """
    try:
        data = _load_json(text)
        names = avro.name.Names()
        for dependency in dependencies:
            _make(_load_json(dependency), names)
        parsed = _make(data, names)
        for node in _types(parsed, set()):
            if isinstance(node, avro.schema.RecordSchema):
                _check_defaults(node)
            if isinstance(node, avro.schema.NamedSchema):
                _qualify_aliases(node)
        canonical = canonical_form(data, normalize=normalize)
        # Lone surrogates survive json.loads but cannot be stored as UTF-8.
        canonical.encode()
    except RecursionError as error:
        raise InvalidSchemaError("schema is nested too deeply") from error
    except UnicodeEncodeError as error:
        raise InvalidSchemaError("schema contains invalid Unicode") from error
    return ParsedSchema(
        avro=parsed,
        canonical=canonical,
        references=tuple(references),
        fingerprint=fingerprint(canonical, [ref.to_json() for ref in references]),
    )


def _load_json(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InvalidSchemaError(f"not valid JSON: {error}") from error


def _make(data: object, names: avro.name.Names) -> avro.schema.Schema:
    try:
        # Avro warns (rather than fails) on logical types it ignores, as Java does; under
        # warnings-as-errors that would turn a valid schema into a crash.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return avro.schema.make_avsc_object(data, names)
    # The parser signals bad input with many exception types (TypeError and
    # AttributeError included); all of them mean the same thing here.
    except Exception as error:
        raise InvalidSchemaError(str(error) or type(error).__name__) from error


def _types(schema: avro.schema.Schema, seen: set[str]) -> Iterator[avro.schema.Schema]:
    """Every type ``schema`` holds, itself included; each named type once."""
    if isinstance(schema, avro.schema.NamedSchema):
        if schema.fullname in seen:
            return
        seen.add(schema.fullname)
    yield schema
    if isinstance(schema, avro.schema.RecordSchema):
        for item in schema.fields:
            yield from _types(item.type, seen)
    elif isinstance(schema, avro.schema.ArraySchema):
        yield from _types(schema.items, seen)
    elif isinstance(schema, avro.schema.MapSchema):
        yield from _types(schema.values, seen)
    elif isinstance(schema, avro.schema.UnionSchema):
        for branch in schema.schemas:
            yield from _types(branch, seen)


def _check_defaults(schema: avro.schema.RecordSchema) -> None:
    for item in schema.fields:
        if item.has_default and not _is_valid_default(item.type, item.default):
            raise InvalidSchemaError(
                f"Invalid default for field {item.name}: {json.dumps(item.default)} "
                f"not a {json.dumps(item.type.to_json())}"
            )


def _qualify_aliases(schema: avro.schema.NamedSchema) -> None:
    # Avro's checker compares a writer's full name with the reader's aliases as written,
    # but an alias without a dot names a type in the reader's namespace (Java resolves it
    # so, and Confluent accepts such renames); qualifying them here makes the verdicts agree.
    aliases = schema.props.get("aliases")
    if isinstance(aliases, list) and schema.namespace:
        schema.props["aliases"] = [
            alias if not isinstance(alias, str) or "." in alias else f"{schema.namespace}.{alias}"
            for alias in aliases
        ]


def _is_valid_default(schema: avro.schema.Schema, value: object) -> bool:
    kind = schema.type
    if isinstance(schema, avro.schema.UnionSchema):
        return bool(schema.schemas) and _is_valid_default(schema.schemas[0], value)
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("int", "long"):
        bounds = _INT_RANGE if kind == "int" else _LONG_RANGE
        return isinstance(value, int) and not isinstance(value, bool) and value in bounds
    if kind in ("float", "double"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("bytes", "string", "fixed"):
        return isinstance(value, str)
    if isinstance(schema, avro.schema.EnumSchema):
        return isinstance(value, str) and value in schema.symbols
    if isinstance(schema, avro.schema.ArraySchema):
        return isinstance(value, list) and all(_is_valid_default(schema.items, v) for v in value)
    if isinstance(schema, avro.schema.MapSchema):
        return isinstance(value, Mapping) and all(
            _is_valid_default(schema.values, v) for v in value.values()
        )
    if isinstance(schema, avro.schema.RecordSchema):
        if not isinstance(value, Mapping):
            return False
        return all(
            _is_valid_default(item.type, value[item.name])
            if item.name in value
            else item.has_default
            for item in schema.fields
        )
    return False
