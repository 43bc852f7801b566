"""The schema-derived strategy: valid datums of every Avro type, within each type's bounds."""

from __future__ import annotations

import datetime
import decimal
import io
import uuid
from typing import Any

import fastavro
import pytest
from fastavro.validation import validate
from hypothesis import find, given
from hypothesis import strategies as st

from evp.testing.strategies import MAX_DATETIME, MIN_DATETIME, from_schema

ADDRESS = {
    "type": "record",
    "name": "Address",
    "fields": [
        {"name": "street", "type": "string"},
        {"name": "zip", "type": ["null", "string"], "default": None},
    ],
}
SUIT = {"type": "enum", "name": "Suit", "symbols": ["HEARTS", "SPADES"], "default": "HEARTS"}
DIGEST = {"type": "fixed", "name": "Digest", "size": 16}
NODE = {
    "type": "record",
    "name": "Node",
    "fields": [
        {"name": "value", "type": "int"},
        {"name": "children", "type": {"type": "array", "items": "Node"}},
        {"name": "next", "type": ["null", "Node"]},
    ],
}


def _field(name: str, schema: Any) -> dict[str, Any]:
    return {"name": name, "type": schema}


# Every primitive, complex and logical type fastavro knows, once each; named types are
# defined before the union that names them (fastavro's validate cannot tag inline ones).
EVERYTHING: dict[str, Any] = {
    "type": "record",
    "name": "Everything",
    "namespace": "test.strategies",
    "fields": [
        _field("null", "null"),
        _field("boolean", "boolean"),
        _field("int", "int"),
        _field("long", "long"),
        _field("float", "float"),
        _field("double", "double"),
        _field("bytes", "bytes"),
        _field("string", "string"),
        _field("money", {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3}),
        _field(
            "fixed_money",
            {
                "type": "fixed",
                "name": "Money",
                "size": 4,
                "logicalType": "decimal",
                "precision": 9,
                "scale": 2,
            },
        ),
        _field("uuid", {"type": "string", "logicalType": "uuid"}),
        _field("date", {"type": "int", "logicalType": "date"}),
        _field("time_millis", {"type": "int", "logicalType": "time-millis"}),
        _field("time_micros", {"type": "long", "logicalType": "time-micros"}),
        _field("ts_millis", {"type": "long", "logicalType": "timestamp-millis"}),
        _field("ts_micros", {"type": "long", "logicalType": "timestamp-micros"}),
        _field("local_millis", {"type": "long", "logicalType": "local-timestamp-millis"}),
        _field("local_micros", {"type": "long", "logicalType": "local-timestamp-micros"}),
        _field(
            "duration", {"type": "fixed", "name": "Span", "size": 12, "logicalType": "duration"}
        ),
        _field("suit", SUIT),
        _field("digest", DIGEST),
        _field("address", ADDRESS),
        _field("tree", NODE),
        _field("ints", {"type": "array", "items": "int"}),
        _field("ratios", {"type": "map", "values": "double"}),
        _field("nested", {"type": "map", "values": {"type": "array", "items": "Address"}}),
        _field("optional", ["null", "string"]),
        _field("named", ["null", "Address", "Suit", "Digest", "string", "bytes"]),
        _field("numbers", ["float", "long"]),
    ],
}


def _decimal_schema(base: str, precision: int, scale: int, size: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": base, "logicalType": "decimal"}
    schema.update(precision=precision, scale=scale)
    if base == "fixed":
        schema.update(name="Amount", size=size)
    return schema


def _round_trip(schema: dict[str, Any], datum: Any) -> Any:
    """``datum`` written by fastavro with ``schema`` and read back, union tags included."""
    parsed = fastavro.parse_schema(schema)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, datum)
    buffer.seek(0)
    return fastavro.schemaless_reader(
        buffer, parsed, None, return_named_type=True, return_named_type_override=True
    )


def _depth(node: dict[str, Any] | None) -> int:
    if node is None:
        return 0
    below = [_depth(child) for child in node["children"]] + [_depth(node["next"])]
    return 1 + max(below)


@given(from_schema(EVERYTHING))
def test_every_datum_validates_against_its_schema(datum: Any) -> None:
    """Every datum of a schema covering every Avro type passes fastavro's validation."""
    assert validate(datum, EVERYTHING)


@given(from_schema(EVERYTHING))
def test_every_datum_survives_a_fastavro_round_trip(datum: Any) -> None:
    """fastavro writes and reads back every datum unchanged, union tags included."""
    assert _round_trip(EVERYTHING, datum) == datum


@given(from_schema('{"type": "string", "logicalType": "uuid"}'))
def test_a_schema_given_as_json_text_yields_its_logical_values(value: Any) -> None:
    """A schema given as JSON text is read like its parsed form (here: UUID objects)."""
    assert isinstance(value, uuid.UUID)


@given(st.data(), st.integers(1, 30), st.integers(0, 30))
def test_bytes_decimals_have_the_schema_scale_and_fit_its_precision(
    data: st.DataObject, precision: int, scale: int
) -> None:
    """A decimal on bytes has exactly the schema's scale and at most its precision in digits."""
    scale = min(scale, precision)
    value = data.draw(from_schema(_decimal_schema("bytes", precision, scale)))
    _, digits, exponent = value.as_tuple()
    assert exponent == -scale
    assert len(digits) <= precision


@given(st.data(), st.integers(1, 8))
def test_fixed_decimals_fit_their_size(data: st.DataObject, size: int) -> None:
    """A decimal on fixed at the widest precision its size allows fits in two's complement."""
    precision = len(str(2 ** (8 * size - 1) - 1)) - 1
    value = data.draw(from_schema(_decimal_schema("fixed", precision, 0, size)))
    assert -(2 ** (8 * size - 1)) <= int(value) < 2 ** (8 * size - 1)


@given(from_schema(_decimal_schema("bytes", 60, 10)))
def test_decimals_wider_than_the_default_context_keep_every_digit(value: decimal.Decimal) -> None:
    """A decimal with more digits than Python's default context has is still exact."""
    assert value.as_tuple().exponent == -10
    assert len(value.as_tuple().digits) <= 60


@given(from_schema({"type": "long", "logicalType": "timestamp-millis"}))
def test_millisecond_timestamps_are_utc_at_millisecond_precision(value: datetime.datetime) -> None:
    """A timestamp-millis value is an aware UTC datetime with whole milliseconds."""
    assert value.utcoffset() == datetime.timedelta(0)
    assert value.microsecond % 1000 == 0


@given(from_schema({"type": "long", "logicalType": "timestamp-micros"}))
def test_microsecond_timestamps_are_aware_and_within_range(value: datetime.datetime) -> None:
    """A timestamp-micros value is an aware datetime between the strategy's bounds."""
    assert value.tzinfo is not None
    assert MIN_DATETIME <= value <= MAX_DATETIME


@given(from_schema({"type": "long", "logicalType": "local-timestamp-millis"}))
def test_local_timestamps_are_naive(value: datetime.datetime) -> None:
    """A local-timestamp value carries no timezone."""
    assert value.tzinfo is None
    assert value.microsecond % 1000 == 0


@given(from_schema({"type": "int", "logicalType": "time-millis"}))
def test_millisecond_times_have_whole_milliseconds(value: datetime.time) -> None:
    """A time-millis value has no sub-millisecond part."""
    assert value.microsecond % 1000 == 0


@given(from_schema({"type": "int", "logicalType": "date"}))
def test_dates_are_within_range(value: datetime.date) -> None:
    """A date lies between the strategy's bounds."""
    assert MIN_DATETIME.date() <= value <= MAX_DATETIME.date()


@given(from_schema(DIGEST))
def test_fixed_values_have_the_fixed_size(value: bytes) -> None:
    """A fixed value has exactly the declared number of bytes."""
    assert len(value) == 16


@given(from_schema(["null", ADDRESS, SUIT]))
def test_unions_of_several_named_types_use_tuple_notation(value: Any) -> None:
    """A named value in a union with several named types is tagged with its full name."""
    assert value is None or value[0] in ("Address", "Suit")


@given(from_schema(["string", SUIT, DIGEST, "bytes"]))
def test_unnamed_values_beside_named_types_are_not_taken_for_them(value: Any) -> None:
    """Strings are never enum symbols and bytes never fixed-sized when tagged branches exist."""
    assert value not in ("HEARTS", "SPADES")
    assert not isinstance(value, bytes) or len(value) != 16


@given(from_schema(["float", "long"]))
def test_integers_beside_a_float_are_exact_in_32_bits(value: float) -> None:
    """An integer in a union with a float branch survives being written as a 32-bit float."""
    assert not isinstance(value, int) or abs(value) <= 2**24


@given(from_schema(NODE, max_recursion=2))
def test_recursive_records_nest_at_most_max_recursion_times(value: dict[str, Any]) -> None:
    """A record nests inside itself no deeper than the recursion bound allows."""
    assert _depth(value) <= 3


def test_a_schema_with_no_finite_datum_is_rejected() -> None:
    """A record that must contain itself has no finite datum, so no strategy."""
    endless = {"type": "record", "name": "Endless", "fields": [_field("next", "Endless")]}
    with pytest.raises(ValueError, match="no finite datum"):
        from_schema(endless)


@given(from_schema(["null", _decimal_schema("bytes", 4, 1)]))
def test_logical_branches_of_unions_yield_logical_values(value: Any) -> None:
    """A decimal branch of a union yields ``Decimal`` values, not raw bytes."""
    assert value is None or isinstance(value, decimal.Decimal)


# Branches for unions mixing fixed, bytes and decimals. The decimals differ in scale, so a
# value written with the other decimal branch comes back with the other scale.
FOUR = {"type": "fixed", "name": "Four", "size": 4}
MONEY = _decimal_schema("bytes", 6, 2)
PRICE = _decimal_schema("fixed", 4, 3, 4)  # Named "Amount".


def _mix(*branches: Any) -> dict[str, Any]:
    """A record defining ``FOUR`` and ``PRICE``, then a union of ``branches`` that may name them."""
    fields = [_field("four", FOUR), _field("price", PRICE), _field("value", list(branches))]
    return {"type": "record", "name": "Mix", "fields": fields}


def _mix_id(schema: dict[str, Any]) -> str:
    return ",".join(b if isinstance(b, str) else "money" for b in schema["fields"][2]["type"])


MIXES = [
    _mix("null", "Four", MONEY),
    _mix("null", MONEY, "Four"),
    _mix("bytes", MONEY),
    _mix(MONEY, "bytes"),
    _mix("Four", MONEY, "bytes"),
    _mix("Four", "Amount"),
    _mix("Amount", "bytes"),
    _mix("Amount", MONEY),
    _mix(MONEY, "Amount"),
    _mix("null", "Four", "Amount", MONEY),
]


@pytest.mark.parametrize("schema", MIXES, ids=_mix_id)
@given(data=st.data())
def test_unions_mixing_fixed_bytes_and_decimals_round_trip_exactly(
    schema: dict[str, Any], data: st.DataObject
) -> None:
    """Datums of unions mixing fixed, bytes and decimals validate and come back as they were."""
    datum = data.draw(from_schema(schema))
    assert validate(datum, schema)
    read = _round_trip(schema, datum)
    assert read == datum
    # A Decimal read back in another scale still compares equal; its repr shows the scale.
    assert repr(read["value"]) == repr(datum["value"])


def test_decimals_and_fixed_values_of_one_union_are_both_drawn() -> None:
    """A fixed before a decimal on bytes still yields values of both branches."""
    union = from_schema(["null", FOUR, MONEY])
    assert isinstance(find(union, lambda value: isinstance(value, bytes)), bytes)
    assert isinstance(
        find(union, lambda value: isinstance(value, decimal.Decimal)), decimal.Decimal
    )


@given(from_schema(["null", MONEY, FOUR, "bytes"]))
def test_bytes_behind_a_decimal_on_bytes_are_left_out(value: Any) -> None:
    """No bytes follow a decimal on bytes: fastavro would write them with the decimal branch."""
    assert not isinstance(value, bytes)


@given(from_schema([PRICE, MONEY]))
def test_decimals_behind_another_decimal_branch_are_left_out(value: decimal.Decimal) -> None:
    """Decimals come from the first decimal branch only: fastavro writes every one with it."""
    assert value.as_tuple().exponent == -3
