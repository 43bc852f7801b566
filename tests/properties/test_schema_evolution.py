"""Random schema evolutions: the registry's verdicts hold for the data fastavro writes and reads.

Pairs come from :func:`evp.testing.evolution.evolutions`. Where the registry calls a pair
compatible, every datum must resolve; where it does not, a few data are tried in search of
one that fails, and the share of incompatible verdicts with such a counterexample is
printed by a later test. Run with ``--hypothesis-show-statistics`` to see the mutation
kinds and verdicts behind each property.

The bugs these properties found (in fastavro, and one in the checker) are each pinned by
a strict xfail test at the end; the properties leave out exactly the data that meet one.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import fastavro
import pytest
from fastavro.read import SchemaResolutionError
from fastavro.validation import ValidationError, validate
from hypothesis import HealthCheck, Phase, assume, event, given, note, reject, settings, target
from hypothesis import strategies as st

from evp.schema.compatibility import CompatibilityLevel, check
from evp.schema.parsed import parse_schema
from evp.testing.evolution import Evolution, evolutions
from evp.testing.strategies import from_schema

# Data tried per incompatible pair before giving up on a counterexample.
_DATA_PER_PAIR = 5
# Pairs drawn to measure the mix of verdicts.
_MIX_SAMPLE = 200

# Incompatible BACKWARD verdicts seen, and how many had a counterexample, across examples.
_TALLY: Counter[str] = Counter()


def _is_compatible(evolution: Evolution, level: CompatibilityLevel) -> bool:
    """The registry's verdict on the pair, labelled for Hypothesis's statistics."""
    result = check(json.dumps(evolution.new), [json.dumps(evolution.old)], level)
    for mutation in evolution.mutations:
        event(f"mutation: {mutation.kind}")
    event(f"{level} verdict", "compatible" if result.is_compatible else "incompatible")
    note(f"old: {json.dumps(evolution.old)}")
    note(f"new: {json.dumps(evolution.new)}")
    note(f"mutations: {[str(m) for m in evolution.mutations]}; {result}")
    return result.is_compatible


class _KnownFastavroBug(Exception):
    """A fastavro bug pinned by an xfail test below stood in the way of resolving a datum."""


def _resolve(writer: dict[str, Any], reader: dict[str, Any], datum: Any) -> Any:
    """``datum`` written with ``writer`` and read with ``reader``, checked against ``reader``.

    Raises fastavro's resolution or validation error when the reader cannot take the datum,
    and :class:`_KnownFastavroBug` when fastavro, not the pair, is to blame.
    """
    with _blaming_known_bugs(datum):
        encoded = _write(writer, datum)
        try:
            return _valid_read(writer, reader, encoded)
        except ValidationError:
            # test_writer_logical_type_yields_to_the_reader_type: blame fastavro only if
            # the same bytes read without logical types make a valid datum.
            _valid_read(_plain(writer), _plain(reader), encoded)
            raise _KnownFastavroBug(
                "writer's logical type kept by a reader of another type"
            ) from None


def _valid_read(writer: dict[str, Any], reader: dict[str, Any], encoded: bytes) -> Any:
    result = _read(writer, reader, encoded)
    validate(result, _parsed(reader), strict=True)
    return result


@contextlib.contextmanager
def _blaming_known_bugs(datum: Any) -> Iterator[None]:
    """Turn the errors of known fastavro bugs into :class:`_KnownFastavroBug`."""
    try:
        yield
    except (ValueError, TypeError) as error:
        bug = _known_bug(error, datum)
        if bug is None:
            raise
        raise _KnownFastavroBug(bug) from error


def _known_bug(error: ValueError | TypeError, datum: Any) -> str | None:
    """Which fastavro bug, pinned by the xfail test named beside it, raised ``error``."""
    message = str(error)
    if isinstance(error, UnicodeDecodeError):
        # test_bytes_not_in_utf8_promote_to_a_string
        return "bytes not in UTF-8 promoted to string"
    if isinstance(error, TypeError) and "unhashable" in message:
        # test_named_reference_resolves_against_a_union
        return "named type read by a union defining it"
    if isinstance(error, TypeError) and message.startswith("string indices must be integers"):
        # test_named_definition_resolves_against_a_union_referring_to_it
        return "named type read by a union referring to it"
    if isinstance(error, TypeError):
        return None
    if message.startswith("Invalid isoformat string"):
        # test_union_of_date_and_enum_writes_a_symbol (validation fails the same way)
        return "date conversion raised while matching a union branch"
    if message == "ordinal must be >= 1" or message.endswith("is out of range"):
        # test_union_of_date_and_long_round_trips_a_long
        return "long written in a date branch, out of the dates Python has"
    if message == "badly formed hexadecimal UUID string":
        # test_union_of_uuid_and_enum_round_trips_a_symbol
        return "uuid branch written for a string that is no UUID"
    if "do not match" in message and _holds_tuple(datum):
        # test_tuple_notation_writes_inside_a_union_branch
        return "tuple notation inside a union branch"
    return None


def _holds_tuple(datum: Any) -> bool:
    if isinstance(datum, tuple):
        return True
    if isinstance(datum, dict):
        return any(_holds_tuple(value) for value in datum.values())
    return isinstance(datum, list) and any(_holds_tuple(item) for item in datum)


def _write(writer: dict[str, Any], datum: Any) -> bytes:
    """``datum`` encoded by fastavro with ``writer``."""
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, _parsed(writer), datum)
    return buffer.getvalue()


def _read(writer: dict[str, Any], reader: dict[str, Any], encoded: bytes) -> Any:
    """What fastavro reads with ``reader`` from bytes ``writer`` wrote."""
    return fastavro.schemaless_reader(
        io.BytesIO(encoded), _parsed(writer), _parsed(reader), handle_unicode_errors="replace"
    )


def _resolves(writer: dict[str, Any], reader: dict[str, Any], datum: Any) -> None:
    """:func:`_resolve`, leaving out the example when a known fastavro bug is in the way."""
    try:
        _resolve(writer, reader, datum)
    except _KnownFastavroBug as bug:
        event(f"left out: {bug}")
        reject()


def _plain(schema: Any) -> Any:
    """``schema`` without logical types: the same encoding, read as the underlying types."""
    if isinstance(schema, list):
        return [_plain(branch) for branch in schema]
    if isinstance(schema, dict):
        return {key: _plain(value) for key, value in schema.items() if key != "logicalType"}
    return schema


def _parsed(schema: dict[str, Any]) -> Any:
    return fastavro.parse_schema(schema, named_schemas={})


def _data(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    return from_schema(json.dumps(schema))


@given(evolutions())
def test_evolved_schemas_are_valid_avro(evolution: Evolution) -> None:
    """Both schemas of every pair parse in the registry and in fastavro."""
    for schema in (evolution.old, evolution.new):
        parse_schema(json.dumps(schema))
        _parsed(schema)


@given(evolution=evolutions(), data=st.data())
def test_backward_compatible_new_schema_reads_data_of_the_old(
    evolution: Evolution, data: st.DataObject
) -> None:
    """Whenever the registry calls a pair BACKWARD compatible, the new schema reads old data."""
    assume(_is_compatible(evolution, CompatibilityLevel.BACKWARD))
    datum = data.draw(_data(evolution.old), label="datum written with the old schema")
    _resolves(evolution.old, evolution.new, datum)


@given(evolution=evolutions(), data=st.data())
def test_forward_compatible_old_schema_reads_data_of_the_new(
    evolution: Evolution, data: st.DataObject
) -> None:
    """Whenever the registry calls a pair FORWARD compatible, the old schema reads new data."""
    assume(_is_compatible(evolution, CompatibilityLevel.FORWARD))
    datum = data.draw(_data(evolution.new), label="datum written with the new schema")
    _resolves(evolution.new, evolution.old, datum)


@given(evolution=evolutions(), data=st.data())
def test_backward_incompatible_pairs_are_searched_for_a_counterexample(
    evolution: Evolution, data: st.DataObject
) -> None:
    """Old data the new schema cannot read fails with a resolution or validation error."""
    assume(not _is_compatible(evolution, CompatibilityLevel.BACKWARD))
    failures = 0
    for index in range(_DATA_PER_PAIR):
        datum = data.draw(_data(evolution.old), label=f"datum {index}")
        try:
            _resolve(evolution.old, evolution.new, datum)
        except (SchemaResolutionError, ValidationError):
            failures += 1
        except _KnownFastavroBug:
            pass  # Says nothing about this pair; any other crash is a bug to report.
    _TALLY["incompatible"] += 1
    _TALLY["counterexample"] += failures > 0
    event("counterexample", "found" if failures else "not found")
    target(failures / _DATA_PER_PAIR, label="share of old data the new schema cannot read")


def test_share_of_incompatible_verdicts_with_a_counterexample_is_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The share of BACKWARD-incompatible pairs with a counterexample is printed, and not nil."""
    total, found = _TALLY["incompatible"], _TALLY["counterexample"]
    if not total:
        pytest.skip("the counterexample search did not run in this session")
    with capsys.disabled():
        print(
            f"\nschema evolution: {found} of {total} BACKWARD-incompatible verdicts "
            f"({found / total:.0%}) had a counterexample among {_DATA_PER_PAIR} data"
        )
    assert found > 0


def test_mutations_yield_both_verdicts_in_reasonable_proportion() -> None:
    """Over many generated pairs, at least a fifth are BACKWARD compatible and a fifth not."""
    verdicts: Counter[bool] = Counter()

    @settings(
        max_examples=_MIX_SAMPLE,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(evolutions())
    def sample(evolution: Evolution) -> None:
        verdicts[_is_compatible(evolution, CompatibilityLevel.BACKWARD)] += 1

    sample()
    assert min(verdicts[True], verdicts[False]) >= _MIX_SAMPLE / 5, verdicts


_ENUM = {"type": "enum", "name": "E", "symbols": ["A"]}


def _record(*fields: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"type": "record", "name": "R", "fields": list(fields)}
    if namespace is not None:
        record["namespace"] = namespace
    return record


@pytest.mark.xfail(
    raises=UnicodeDecodeError,
    strict=True,
    reason="fastavro promotes bytes with a strict decode() that ignores handle_unicode_errors",
)
def test_bytes_not_in_utf8_promote_to_a_string() -> None:
    """A string reader reads bytes that are not UTF-8, which the spec lets bytes promote to."""
    old = _record({"name": "a", "type": "bytes"})
    new = _record({"name": "a", "type": "string"})
    assert check(json.dumps(new), [json.dumps(old)], CompatibilityLevel.BACKWARD).is_compatible

    assert _read(old, new, _write(old, {"a": b"\xff"})) == {"a": "\ufffd"}


@pytest.mark.xfail(
    raises=AssertionError,
    strict=True,
    reason="fastavro fills in a bytes default as the JSON string rather than the bytes it maps to",
)
def test_bytes_default_fills_in_as_bytes() -> None:
    """A reader's bytes default is read as bytes: the spec maps code points 0-255 to bytes."""
    old = _record()
    new = _record({"name": "a", "type": "bytes", "default": "\u00ff"})

    assert _read(old, new, _write(old, {})) == {"a": b"\xff"}


def test_relative_type_alias_matches_the_writer_in_its_namespace() -> None:
    """A type alias without a namespace names a type in the alias owner's namespace, as in Java."""
    old = _record(
        {"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["A"]}}, namespace="ns"
    )
    renamed = {"type": "enum", "name": "F", "aliases": ["E"], "symbols": ["A"]}
    new = _record({"name": "a", "type": renamed}, namespace="ns")
    assert _read(old, new, _write(old, {"a": "A"})) == {"a": "A"}

    assert check(json.dumps(new), [json.dumps(old)], CompatibilityLevel.BACKWARD).is_compatible


@pytest.mark.xfail(
    raises=TypeError,
    strict=True,
    reason="fastavro looks up the reader's matching union branch by name even when it is a "
    "definition (named_schemas['reader'].get(<dict>))",
)
def test_named_reference_resolves_against_a_union() -> None:
    """A type the writer names by reference resolves against the reader's union defining it."""
    old = _record({"name": "a", "type": _ENUM}, {"name": "b", "type": "E"})
    new = _record({"name": "b", "type": ["null", _ENUM]})
    assert check(json.dumps(new), [json.dumps(old)], CompatibilityLevel.BACKWARD).is_compatible

    assert _read(old, new, _write(old, {"a": "A", "b": "A"})) == {"b": "A"}


@pytest.mark.xfail(
    raises=AssertionError,
    strict=True,
    reason="fastavro converts a value by the writer's logical type, whatever the reader's type",
)
def test_writer_logical_type_yields_to_the_reader_type() -> None:
    """A plain long reader reads a timestamp-millis writer's value as a long, not a datetime."""
    old = _record({"name": "a", "type": {"type": "long", "logicalType": "timestamp-millis"}})
    new = _record({"name": "a", "type": "long"})
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    assert check(json.dumps(new), [json.dumps(old)], CompatibilityLevel.BACKWARD).is_compatible

    assert _read(old, new, _write(old, {"a": epoch})) == {"a": 0}


@pytest.mark.xfail(
    raises=ValueError,
    strict=True,
    reason="fastavro's union writer lets the date conversion raise on a string that is no date "
    "instead of trying the next branch",
)
def test_union_of_date_and_enum_writes_a_symbol() -> None:
    """A union of a date and an enum writes one of the enum's symbols."""
    schema = _record({"name": "a", "type": [{"type": "int", "logicalType": "date"}, _ENUM]})

    assert _write(schema, {"a": "A"})


@pytest.mark.xfail(
    raises=ValueError,
    strict=True,
    reason="fastavro's union writer validates a branch without accepting tuple notation inside",
)
def test_tuple_notation_writes_inside_a_union_branch() -> None:
    """A record in a union writes a value of its own union of two enums in tuple notation."""
    other = {"type": "enum", "name": "F", "symbols": ["B"]}
    inner = {"type": "record", "name": "Q", "fields": [{"name": "b", "type": [_ENUM, other]}]}
    schema = _record({"name": "a", "type": ["null", inner]})

    assert _write(schema, {"a": {"b": ("F", "B")}})


@pytest.mark.xfail(
    raises=ValueError,
    strict=True,
    reason="fastavro's union writer puts any string in a uuid branch, which then fails to read",
)
def test_union_of_uuid_and_enum_round_trips_a_symbol() -> None:
    """A union of a uuid and an enum reads back one of the enum's symbols."""
    schema = _record({"name": "a", "type": [{"type": "string", "logicalType": "uuid"}, _ENUM]})

    assert _read(schema, schema, _write(schema, {"a": "A"})) == {"a": "A"}


@pytest.mark.xfail(
    raises=TypeError,
    strict=True,
    reason="fastavro hands the reader's union branch on as a bare name, which read_enum indexes",
)
def test_named_definition_resolves_against_a_union_referring_to_it() -> None:
    """A type the writer defines resolves against a reader's union that names it by reference."""
    old = _record({"name": "b", "type": _ENUM})
    new = _record(
        {"name": "a", "type": _ENUM, "default": "A"}, {"name": "b", "type": ["null", "E"]}
    )
    assert check(json.dumps(new), [json.dumps(old)], CompatibilityLevel.BACKWARD).is_compatible

    assert _read(old, new, _write(old, {"b": "A"})) == {"a": "A", "b": "A"}


@pytest.mark.xfail(
    raises=ValueError,
    strict=True,
    reason="fastavro's union writer puts an int in the date branch, whose reader then converts "
    "it to a date Python cannot hold",
)
def test_union_of_date_and_long_round_trips_a_long() -> None:
    """A union of a date and a long reads back a long before year 1 as that long."""
    schema = _record({"name": "a", "type": [{"type": "int", "logicalType": "date"}, "long"]})

    assert _read(schema, schema, _write(schema, {"a": -719163})) == {"a": -719163}
