"""Hypothesis strategies derived from Avro schemas, and typed events built from their datums.

:func:`from_schema` walks any schema and yields datums in fastavro's *logical* representation
(``Decimal``, aware UTC ``datetime``, ``UUID`` ...), so the same value can be written by
fastavro over the full schema and compared with what the platform writes. :func:`events`
turns such datums into generated event instances.

Union values follow fastavro's conventions, so every datum survives a fastavro round trip
unchanged: in a union with more than one named type, named values use the tuple notation
``(full name, value)`` that fastavro (and the codec) reads back; unnamed values fastavro
would write with a named branch (a string that is an enum symbol, bytes of a fixed's size)
are left out, as are untagged values an earlier decimal branch would take (any ``Decimal``,
and any bytes if it is a decimal on bytes); and an int in a union with a floating branch is
exact in 32 bits.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import fastavro
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from evp.avro.record import Event
from evp.avro.schema import parse_plain

__all__ = ["MAX_DATETIME", "MIN_DATETIME", "events", "from_schema", "to_datum", "to_event"]

E = TypeVar("E", bound=Event)

_UTC = datetime.UTC
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
# Timestamps and dates stay within these bounds: wide enough to cross the epoch and leap
# years in both directions, narrow enough that every Avro tool converts them alike.
MIN_DATETIME = datetime.datetime(1900, 1, 1, tzinfo=_UTC)
MAX_DATETIME = datetime.datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=_UTC)
_MICROS_RANGE = (
    (MIN_DATETIME - _EPOCH) // datetime.timedelta(microseconds=1),
    (MAX_DATETIME - _EPOCH) // datetime.timedelta(microseconds=1),
)
# An int or long in a union with a float branch may be written as that float (fastavro
# prefers floating branches), so it must be exactly representable in 32 bits.
_FLOAT_EXACT_INT = 2**24
_NAMED_KINDS = frozenset({"record", "error", "enum", "fixed"})
_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def from_schema(
    schema: str | dict[str, Any] | list[Any],
    *,
    max_items: int = 4,
    max_recursion: int = 2,
) -> SearchStrategy[Any]:
    """Datums of ``schema`` (JSON text or its parsed form) in fastavro's logical representation.

    Arrays and maps hold at most ``max_items`` entries; a recursive record nests inside
    itself at most ``max_recursion`` times. Raises ``ValueError`` when the schema has no
    finite datum within those bounds, and fastavro's ``SchemaParseException`` when it is
    not valid Avro.
    """
    if isinstance(schema, str):
        return _from_text(schema, max_items, max_recursion)
    named: dict[str, Any] = {}
    parsed = fastavro.parse_schema(schema, named)
    strategy = _Builder(named, max_items, max_recursion).build(parsed)
    if strategy is None:
        raise ValueError(f"no finite datum within {max_recursion} level(s) of recursion")
    return strategy


@functools.lru_cache(maxsize=256)
def _from_text(schema_text: str, max_items: int, max_recursion: int) -> SearchStrategy[Any]:
    # Schema texts are the common case (events, catalog versions): build each strategy once.
    return from_schema(json.loads(schema_text), max_items=max_items, max_recursion=max_recursion)


def events(event_class: type[E]) -> SearchStrategy[E]:
    """Instances of a generated event class, covering every value its schema allows."""
    return from_schema(event_class.AVRO_SCHEMA).map(functools.partial(to_event, event_class))


def to_event(event_class: type[E], datum: Any) -> E:
    """The event holding ``datum``: written by fastavro over the full schema, read plain.

    Building events through fastavro's own bytes keeps the generated conversions honest:
    the event carries exactly what any Avro reader would see in that datum.
    """
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, _parse_logical(event_class.AVRO_SCHEMA), datum)
    plain = _read(buffer, parse_plain(event_class.AVRO_SCHEMA))
    if not isinstance(plain, dict):
        raise TypeError(f"{event_class.__name__}'s schema is not a record")
    return event_class.from_avro(plain)


def to_datum(event: Event) -> Any:
    """The logical datum an event holds, as fastavro reads its encoding over the full schema."""
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parse_plain(event.AVRO_SCHEMA), event.to_avro())
    return _read(buffer, _parse_logical(event.AVRO_SCHEMA))


def _read(buffer: io.BytesIO, schema: Any) -> Any:
    """Read ``buffer`` from the start as the codec does: tagged values of multi-named unions."""
    buffer.seek(0)
    return fastavro.schemaless_reader(
        buffer, schema, None, return_named_type=True, return_named_type_override=True
    )


@functools.lru_cache(maxsize=256)
def _parse_logical(schema_text: str) -> Any:
    return fastavro.parse_schema(json.loads(schema_text), named_schemas={})


class _Builder:
    """Builds the strategy of one parsed schema; ``None`` means no datum within the bounds."""

    def __init__(self, named: dict[str, Any], max_items: int, max_recursion: int) -> None:
        self._named = named
        self._max_items = max_items
        self._max_recursion = max_recursion
        self._open: Counter[str] = Counter()  # records being built, by name

    def build(self, schema: Any) -> SearchStrategy[Any] | None:
        schema = self._deref(schema)
        if isinstance(schema, list):
            return self._union(schema)
        if isinstance(schema, str):
            return _primitive(schema)
        kind = schema["type"]
        logical = _logical(schema)
        if logical is not None:
            return logical
        if kind in ("record", "error"):
            return self._record(schema)
        if kind == "enum":
            return st.sampled_from(schema["symbols"])
        if kind == "fixed":
            return st.binary(min_size=schema["size"], max_size=schema["size"])
        if kind == "array":
            items = self.build(schema["items"])
            if items is None:
                return st.just([])
            return st.lists(items, max_size=self._max_items)
        if kind == "map":
            values = self.build(schema["values"])
            if values is None:
                return st.just({})
            return st.dictionaries(st.text(), values, max_size=self._max_items)
        return _primitive(kind)

    def _record(self, schema: dict[str, Any]) -> SearchStrategy[Any] | None:
        name = schema["name"]
        if self._open[name] > self._max_recursion:
            return None
        self._open[name] += 1
        try:
            fields = {field["name"]: self.build(field["type"]) for field in schema["fields"]}
        finally:
            self._open[name] -= 1
        if any(strategy is None for strategy in fields.values()):
            return None
        return st.fixed_dictionaries({k: v for k, v in fields.items() if v is not None})

    def _union(self, branches: list[Any]) -> SearchStrategy[Any] | None:
        kinds = [self._kind(branch) for branch in branches]
        tagged = sum(kind in _NAMED_KINDS for kind in kinds) > 1
        has_float = any(kind in ("float", "double") for kind in kinds)
        named = [
            self._deref(b) for b, kind in zip(branches, kinds, strict=True) if kind in _NAMED_KINDS
        ]
        symbols = {symbol for b in named if b["type"] == "enum" for symbol in b["symbols"]}
        fixed_sizes = {b["size"] for b in named if b["type"] == "fixed"}
        options: list[SearchStrategy[Any]] = []
        # fastavro writes an untagged value with the first branch that accepts it. A decimal
        # branch accepts every Decimal (rescaling it, or raising when it does not fit) and,
        # on bytes, all bytes too: a later branch's untagged values of those kinds would not
        # come back from that branch, so they are left out.
        takes_decimals = takes_bytes = False
        for branch, kind in zip(branches, kinds, strict=True):
            decimal = _is_decimal(self._deref(branch))
            untagged = not (tagged and kind in _NAMED_KINDS)
            taken = takes_decimals if decimal else (takes_bytes and kind in ("bytes", "fixed"))
            takes_decimals = takes_decimals or decimal
            takes_bytes = takes_bytes or (decimal and kind == "bytes")
            if untagged and taken:
                continue
            if has_float and kind in ("int", "long") and not _logical_name(branch):
                options.append(st.integers(-_FLOAT_EXACT_INT, _FLOAT_EXACT_INT))
                continue
            strategy = self.build(branch)
            if strategy is None:
                continue
            if tagged and kind in _NAMED_KINDS:
                strategy = strategy.map(functools.partial(_tag, self._deref(branch)["name"]))
            elif kind == "string" and symbols:
                strategy = strategy.filter(_not_in(symbols))
            elif kind == "bytes" and fixed_sizes and not decimal:
                strategy = strategy.filter(_size_not_in(fixed_sizes))
            options.append(strategy)
        return st.one_of(options) if options else None

    def _deref(self, schema: Any) -> Any:
        """``schema`` with names and ``{"type": <schema>}`` wrappers followed."""
        while True:
            if isinstance(schema, str) and schema in self._named:
                schema = self._named[schema]
            elif isinstance(schema, dict) and (
                isinstance(schema["type"], dict | list) or schema["type"] in self._named
            ):
                schema = schema["type"]
            else:
                return schema

    def _kind(self, schema: Any) -> str:
        schema = self._deref(schema)
        if isinstance(schema, list):
            return "union"
        return str(schema["type"]) if isinstance(schema, dict) else str(schema)


def _tag(name: str, value: Any) -> tuple[str, Any]:
    return (name, value)


def _not_in(symbols: set[str]) -> Callable[[str], bool]:
    return lambda value: value not in symbols


def _size_not_in(sizes: set[int]) -> Callable[[bytes], bool]:
    return lambda value: len(value) not in sizes


def _primitive(kind: str) -> SearchStrategy[Any]:
    match kind:
        case "null":
            return st.none()
        case "boolean":
            return st.booleans()
        case "int":
            return st.integers(-(2**31), 2**31 - 1)
        case "long":
            return st.integers(-(2**63), 2**63 - 1)
        case "float":
            return st.floats(width=32, allow_nan=False)
        case "double":
            return st.floats(allow_nan=False)
        case "bytes":
            return st.binary()
        case "string":
            return st.text()
    raise ValueError(f"unknown Avro type {kind!r}")


def _logical_name(schema: Any) -> str | None:
    if not isinstance(schema, dict) or not isinstance(schema.get("type"), str):
        return None
    logical = schema.get("logicalType")
    return f"{schema['type']}-{logical}" if isinstance(logical, str) else None


def _is_decimal(schema: Any) -> bool:
    """Whether ``schema`` yields ``Decimal`` values rather than those of its base type."""
    return _logical_name(schema) in ("bytes-decimal", "fixed-decimal") and (
        _decimals(schema) is not None
    )


def _logical(schema: dict[str, Any]) -> SearchStrategy[Any] | None:
    """The strategy of a logical type fastavro converts, or ``None`` to use the base type."""
    match _logical_name(schema):
        case "bytes-decimal" | "fixed-decimal":
            return _decimals(schema)
        case "string-uuid":
            return st.uuids()
        case "int-date":
            return st.dates(MIN_DATETIME.date(), MAX_DATETIME.date())
        case "int-time-millis":
            return st.times().map(_truncate_time_to_millis)
        case "long-time-micros":
            return st.times()
        case "long-timestamp-millis":
            return _datetimes(1000).map(_aware)
        case "long-timestamp-micros":
            return _datetimes(1).map(_aware)
        case "long-local-timestamp-millis":
            return _datetimes(1000).map(_naive)
        case "long-local-timestamp-micros":
            return _datetimes(1).map(_naive)
    return None  # Not converted by fastavro (e.g. duration): the base type's values.


def _decimals(schema: dict[str, Any]) -> SearchStrategy[decimal.Decimal] | None:
    precision = schema.get("precision")
    scale = schema.get("scale", 0)
    if not isinstance(precision, int) or not isinstance(scale, int) or not 0 <= scale <= precision:
        return None  # An invalid decimal annotation is ignored, as the spec requires.
    # fastavro rejects a decimal on fixed whose precision the size cannot hold, so the
    # precision alone bounds the unscaled value.
    largest = 10**precision - 1
    return st.integers(-largest, largest).map(functools.partial(_decimal, scale))


def _decimal(scale: int, unscaled: int) -> decimal.Decimal:
    # Built from digits, so no context precision can round it; the exponent is the scale.
    digits = tuple(int(digit) for digit in str(abs(unscaled)))
    return decimal.Decimal((int(unscaled < 0), digits, -scale))


def _datetimes(step_micros: int) -> SearchStrategy[int]:
    low, high = (bound // step_micros for bound in _MICROS_RANGE)
    return st.integers(low, high).map(lambda n: n * step_micros)


def _aware(micros: int) -> datetime.datetime:
    return _EPOCH + datetime.timedelta(microseconds=micros)


def _naive(micros: int) -> datetime.datetime:
    return _aware(micros).replace(tzinfo=None)


def _truncate_time_to_millis(value: datetime.time) -> datetime.time:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)
