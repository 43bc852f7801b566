"""What a reader should see, by the Avro specification's resolution rules: the test oracle.

Written from the specification rather than with fastavro, so the evolution properties check
the codec's resolution against an independent account of it. Datums are in fastavro's
logical representation, as :func:`evp.testing.strategies.from_schema` yields them.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from typing import Any

import fastavro

__all__ = ["added_fields", "default_of", "resolve"]

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_NAMED = frozenset({"record", "error", "enum", "fixed"})
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}
# Wide enough that no decimal default is ever rounded.
_EXACT = decimal.Context(prec=100)


def resolve(datum: Any, writer_text: str, reader_text: str) -> Any:
    """The value a reader of ``reader_text`` sees in ``datum`` written with ``writer_text``."""
    writer = _Schema(writer_text)
    reader = _Schema(reader_text)
    return _Resolution(writer, reader).value(datum, writer.root, reader.root)


def added_fields(older_text: str, newer_text: str) -> list[str]:
    """Top-level fields the newer schema has and the older one lacks, in the newer's order."""
    older = {field["name"] for field in json.loads(older_text)["fields"]}
    return [f["name"] for f in json.loads(newer_text)["fields"] if f["name"] not in older]


def default_of(schema_text: str, field_name: str) -> Any:
    """The logical value of a top-level field's JSON default."""
    schema = _Schema(schema_text)
    field = next(f for f in schema.root["fields"] if f["name"] == field_name)
    return schema.default(field["type"], field["default"])


class _Schema:
    """A parsed schema with its named types, so names can be followed."""

    def __init__(self, text: str) -> None:
        self.named: dict[str, Any] = {}
        self.root: Any = fastavro.parse_schema(json.loads(text), self.named)

    def deref(self, schema: Any) -> Any:
        while isinstance(schema, str) and schema in self.named:
            schema = self.named[schema]
        return schema

    def kind(self, schema: Any) -> str:
        schema = self.deref(schema)
        if isinstance(schema, list):
            return "union"
        return str(schema["type"]) if isinstance(schema, dict) else str(schema)

    def several_named(self, union: list[Any]) -> bool:
        return sum(self.kind(branch) in _NAMED for branch in union) > 1

    def default(self, schema: Any, value: Any) -> Any:
        """The logical value of JSON ``value`` as a default of ``schema``."""
        schema = self.deref(schema)
        if isinstance(schema, list):
            first = self.deref(schema[0])
            inner = self.default(first, value)
            tagged = self.several_named(schema) and self.kind(first) in _NAMED
            return (first["name"], inner) if tagged else inner
        kind = self.kind(schema)
        logical = schema.get("logicalType") if isinstance(schema, dict) else None
        if kind in ("record", "error"):
            return {
                f["name"]: self.default(f["type"], value.get(f["name"], f.get("default")))
                for f in schema["fields"]
            }
        if kind == "array":
            return [self.default(schema["items"], item) for item in value]
        if kind == "map":
            return {key: self.default(schema["values"], item) for key, item in value.items()}
        if kind in ("float", "double"):
            return float(value)
        if kind in ("bytes", "fixed"):
            raw = value.encode("latin-1")
            if logical == "decimal":
                unscaled = int.from_bytes(raw, "big", signed=True)
                return decimal.Decimal(unscaled).scaleb(-schema.get("scale", 0), _EXACT)
            return raw
        if logical == "uuid":
            return uuid.UUID(value)
        return _logical_int(logical, value) if logical else value


def _logical_int(logical: str, value: int) -> Any:
    """The logical value of an int or long default."""
    match logical:
        case "date":
            return _EPOCH.date() + datetime.timedelta(days=value)
        case "time-millis" | "time-micros":
            micros = value * 1000 if logical == "time-millis" else value
            return (datetime.datetime.min + datetime.timedelta(microseconds=micros)).time()
        case "timestamp-millis" | "local-timestamp-millis":
            stamp = _EPOCH + datetime.timedelta(milliseconds=value)
        case "timestamp-micros" | "local-timestamp-micros":
            stamp = _EPOCH + datetime.timedelta(microseconds=value)
        case _:
            return value
    return stamp.replace(tzinfo=None) if logical.startswith("local-") else stamp


class _Resolution:
    """Resolves datums of one writer schema against one reader schema."""

    def __init__(self, writer: _Schema, reader: _Schema) -> None:
        self._writer = writer
        self._reader = reader

    def value(self, datum: Any, writer: Any, reader: Any) -> Any:
        writer = self._writer.deref(writer)
        reader = self._reader.deref(reader)
        if isinstance(writer, list):
            branch, datum = self._writer_branch(datum, writer)
            return self.value(datum, branch, reader)
        if isinstance(reader, list):
            branch = next(b for b in reader if self._matches(writer, b))
            inner = self.value(datum, writer, branch)
            tagged = self._reader.several_named(reader) and self._reader.kind(branch) in _NAMED
            return (self._reader.deref(branch)["name"], inner) if tagged else inner
        kind = self._reader.kind(reader)
        if kind in ("record", "error"):
            return self._record(datum, writer, reader)
        if kind == "enum":
            return datum if datum in reader["symbols"] else reader["default"]
        if kind == "array":
            return [self.value(item, writer["items"], reader["items"]) for item in datum]
        if kind == "map":
            return {k: self.value(v, writer["values"], reader["values"]) for k, v in datum.items()}
        return _promote(datum, self._writer.kind(writer), kind)

    def _record(self, datum: dict[str, Any], writer: Any, reader: Any) -> dict[str, Any]:
        written = {field["name"]: field for field in writer["fields"]}
        out = {}
        for field in reader["fields"]:
            names = [field["name"], *field.get("aliases", ())]
            source = next((written[name] for name in names if name in written), None)
            if source is None:
                out[field["name"]] = self._reader.default(field["type"], field["default"])
            else:
                out[field["name"]] = self.value(
                    datum[source["name"]], source["type"], field["type"]
                )
        return out

    def _writer_branch(self, datum: Any, union: list[Any]) -> tuple[Any, Any]:
        if isinstance(datum, tuple):
            name, inner = datum
            branch = next(b for b in union if self._writer.deref(b).get("name") == name)
            return branch, inner
        if datum is None:
            return "null", None
        others = [branch for branch in union if branch != "null"]
        if len(others) != 1:
            raise NotImplementedError("the oracle resolves unions of null and one other type")
        return others[0], datum

    def _matches(self, writer: Any, reader: Any) -> bool:
        """Whether a reader's union branch accepts what the writer wrote."""
        writer_kind = self._writer.kind(writer)
        reader_kind = self._reader.kind(reader)
        if writer_kind in _NAMED or reader_kind in _NAMED:
            return (
                writer_kind == reader_kind
                and self._writer.deref(writer)["name"] == self._reader.deref(reader)["name"]
            )
        return writer_kind == reader_kind or reader_kind in _PROMOTIONS.get(writer_kind, ())


def _promote(datum: Any, writer_kind: str, reader_kind: str) -> Any:
    if reader_kind in ("float", "double") and writer_kind in ("int", "long"):
        return float(datum)
    if reader_kind == "string" and writer_kind == "bytes":
        return datum.decode()
    if reader_kind == "bytes" and writer_kind == "string":
        return datum.encode()
    return datum
