"""The compatibility checker as a plain Python API."""

from __future__ import annotations

import json

import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from evp.schema.compatibility import (
    CompatibilityLevel,
    IncompatibilityType,
    VersionedSchema,
    check,
)
from evp.schema.errors import InvalidCompatibilityLevelError
from evp.schema.parsed import parse_schema
from tests.registry.schemas import USER_BREAKING, USER_V1, USER_V2, enum, field, record


def test_adding_a_field_with_a_default_is_backward_compatible() -> None:
    """A new optional field can read old data."""
    assert check(USER_V2, [USER_V1], "BACKWARD").is_compatible


def test_adding_a_field_without_default_breaks_backward() -> None:
    """A new required field is reported with its name, path and both fragments."""
    (problem,) = check(USER_BREAKING, [USER_V1], "BACKWARD").problems
    assert problem.type is IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE
    assert problem.path == "/fields/1"
    assert problem.info == "email"
    assert json.loads(problem.reader) == {"name": "email", "type": "string"}
    assert json.loads(problem.writer)["name"] == "User"
    assert (problem.reader_role, problem.writer_role, problem.version) == ("new", "old", 1)


def test_removing_a_required_field_breaks_forward() -> None:
    """Old readers cannot read new data lacking a field they require."""
    (problem,) = check(USER_V1, [USER_BREAKING], "FORWARD").problems
    assert problem.type is IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE
    assert problem.reader_role == "old"


def test_type_change_is_a_type_mismatch_at_the_field_type() -> None:
    """Changing long to string is reported at /fields/0/type with both types."""
    (problem,) = check(record(field("id", "string")), [USER_V1], "BACKWARD").problems
    assert problem.type is IncompatibilityType.TYPE_MISMATCH
    assert problem.path == "/fields/0/type"
    assert (problem.reader, problem.writer) == ('"string"', '"long"')
    assert problem.info == "reader type: STRING not compatible with writer type: LONG"


def test_promotions_are_compatible() -> None:
    """An int written can be read as a long."""
    assert check(record(field("n", "long")), [record(field("n", "int"))], "BACKWARD").is_compatible


def test_removed_enum_symbol_is_reported_with_the_symbols() -> None:
    """Dropping a symbol the old schema could write is MISSING_ENUM_SYMBOLS."""
    old = record(field("c", enum("RED", "GREEN", "BLUE")))
    new = record(field("c", enum("RED")))
    (problem,) = check(new, [old], "BACKWARD").problems
    assert problem.type is IncompatibilityType.MISSING_ENUM_SYMBOLS
    assert (problem.path, problem.info) == ("/fields/0/type/symbols", "[BLUE, GREEN]")


def test_enum_default_makes_removed_symbols_readable() -> None:
    """A reader enum with a default reads unknown symbols as the default."""
    old = record(field("c", enum("RED", "GREEN")))
    new = record(field("c", enum("RED", default="RED")))
    assert check(new, [old], "BACKWARD").is_compatible


def test_narrowed_union_misses_a_branch() -> None:
    """A union losing a branch the writer used is MISSING_UNION_BRANCH at that branch."""
    old = record(field("v", ["null", "string"]))
    new = record(field("v", ["null"]))
    (problem,) = check(new, [old], "BACKWARD").problems
    assert problem.type is IncompatibilityType.MISSING_UNION_BRANCH
    assert problem.path == "/fields/0/type/1"


def test_renamed_record_is_a_name_mismatch() -> None:
    """A record renamed without an alias is NAME_MISMATCH at /name."""
    (problem,) = check(record(field("id", "long"), name="Person"), [USER_V1], "BACKWARD").problems
    assert (problem.type, problem.path) == (IncompatibilityType.NAME_MISMATCH, "/name")


def test_alias_allows_a_rename() -> None:
    """A renamed record listing the old name as an alias is compatible."""
    renamed = record(field("id", "long"), name="Person", aliases=["User"])
    assert check(renamed, [USER_V1], "BACKWARD").is_compatible


def test_relative_alias_allows_a_rename_within_the_namespace() -> None:
    """An alias without a dot names the old type in the reader's namespace, as in Java."""
    old = record(field("id", "long"), namespace="shop")
    renamed = record(field("id", "long"), name="Person", namespace="shop", aliases=["User"])
    assert check(renamed, [old], "BACKWARD").is_compatible


def test_relative_alias_does_not_reach_another_namespace() -> None:
    """A relative alias resolves in the reader's namespace, so a writer elsewhere mismatches."""
    old = record(field("id", "long"), namespace="legacy")
    renamed = record(field("id", "long"), name="Person", namespace="shop", aliases=["User"])
    (problem,) = check(renamed, [old], "BACKWARD").problems
    assert (problem.type, problem.path) == (IncompatibilityType.NAME_MISMATCH, "/name")


def test_resized_fixed_is_a_size_mismatch() -> None:
    """Changing a fixed's size is FIXED_SIZE_MISMATCH at its size."""
    old = record(field("f", {"type": "fixed", "name": "F", "size": 4}))
    new = record(field("f", {"type": "fixed", "name": "F", "size": 8}))
    (problem,) = check(new, [old], "BACKWARD").problems
    assert (problem.type, problem.path) == (
        IncompatibilityType.FIXED_SIZE_MISMATCH,
        "/fields/0/type/size",
    )


def test_full_reports_both_directions_old_reader_first() -> None:
    """FULL lists what old readers cannot read before what the new reader cannot."""
    new = record(field("id", "string"))
    roles = [p.reader_role for p in check(new, [USER_V1], "FULL").problems]
    assert roles == ["old", "new"]


def test_non_transitive_levels_only_look_at_the_latest() -> None:
    """BACKWARD ignores an incompatible older version."""
    versions = [
        USER_V1,
        record(field("id", "string")),
        record(field("id", "string"), field("x", "int", default=0)),
    ]
    assert check(record(field("id", "string")), versions, "BACKWARD").is_compatible


def test_transitive_levels_look_at_every_version() -> None:
    """BACKWARD_TRANSITIVE finds the incompatible oldest version and names it."""
    versions = [USER_V1, record(field("id", "string"))]
    result = check(record(field("id", "string")), versions, "BACKWARD_TRANSITIVE")
    assert [p.version for p in result.problems] == [1]


def test_transitive_checks_stop_at_the_first_failing_version() -> None:
    """Like Confluent, a transitive check reports only the newest failing version by default."""
    versions = [USER_V1, USER_V1]
    new = record(field("id", "string"))
    assert {p.version for p in check(new, versions, "BACKWARD_TRANSITIVE").problems} == {2}
    every = check(new, versions, "BACKWARD_TRANSITIVE", stop_at_first=False)
    assert {p.version for p in every.problems} == {1, 2}


def test_none_accepts_anything() -> None:
    """Level NONE finds no problem even for a type change."""
    assert check(record(field("id", "string")), [USER_V1], CompatibilityLevel.NONE).is_compatible


def test_explicit_versions_are_reported() -> None:
    """Problems carry the version given with the existing schema."""
    result = check(USER_BREAKING, [VersionedSchema(7, parse_schema(USER_V1))], "BACKWARD")
    assert result.problems[0].version == 7


def test_verbose_messages_follow_confluents_format() -> None:
    """Confluent's {errorType…} strings, then the old version and schema, then the level."""
    messages = check(USER_BREAKING, [USER_V1], "BACKWARD").messages()
    assert messages[0].startswith(
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'email' at path "
        "'/fields/1' in the new schema has no default value and is missing in the old schema', "
        "additionalInfo:'email'"
    )
    assert messages[1:] == [
        "{oldSchemaVersion: 1}",
        f"{{oldSchema: '{parse_schema(USER_V1).canonical}'}}",
        "{validateFields: 'false', compatibility: 'BACKWARD'}",
    ]


def test_compatible_results_have_no_messages() -> None:
    """A compatible result has an empty message list."""
    assert check(USER_V2, [USER_V1], "BACKWARD").messages() == []


def test_levels_parse_case_blind() -> None:
    """Level names are accepted in any case."""
    assert CompatibilityLevel.parse("full_transitive") is CompatibilityLevel.FULL_TRANSITIVE


def test_unknown_levels_are_refused() -> None:
    """An unknown level raises InvalidCompatibilityLevelError."""
    with pytest.raises(InvalidCompatibilityLevelError):
        CompatibilityLevel.parse("SIDEWAYS")


PAIRS = {
    "nested record field": (
        record(field("a", json.loads(record(field("x", "int"), field("y", "int"), name="In")))),
        record(field("a", json.loads(record(field("x", "int"), name="In")))),
    ),
    "array items": (
        record(field("a", {"type": "array", "items": "string"})),
        record(field("a", {"type": "array", "items": "int"})),
    ),
    "map values": (
        record(field("a", {"type": "map", "values": "int"})),
        record(field("a", {"type": "map", "values": "long"})),
    ),
    "union reader, plain writer": (
        record(field("a", ["null", "int"])),
        record(field("a", "string")),
    ),
    "plain reader, union writer": (record(field("a", "int")), record(field("a", ["null", "int"]))),
    "recursive": (
        json.dumps(
            {
                "type": "record",
                "name": "Node",
                "fields": [
                    {"name": "next", "type": ["null", "Node"]},
                    {"name": "v", "type": "int"},
                ],
            }
        ),
        json.dumps(
            {
                "type": "record",
                "name": "Node",
                "fields": [
                    {"name": "next", "type": ["null", "Node"]},
                    {"name": "v", "type": "string"},
                ],
            }
        ),
    ),
    "compatible recursive": (
        json.dumps(
            {
                "type": "record",
                "name": "Node",
                "fields": [{"name": "next", "type": ["null", "Node"]}],
            }
        ),
        json.dumps(
            {
                "type": "record",
                "name": "Node",
                "fields": [{"name": "next", "type": ["null", "Node"]}],
            }
        ),
    ),
}


@pytest.mark.parametrize(("reader", "writer"), PAIRS.values(), ids=PAIRS.keys())
def test_problems_agree_with_avros_checker(reader: str, writer: str) -> None:
    """Problems are found exactly when Avro's own checker says the pair is incompatible."""
    verdict = ReaderWriterCompatibilityChecker().get_compatibility(
        parse_schema(reader).avro, parse_schema(writer).avro
    )
    expected = verdict.compatibility is SchemaCompatibilityType.incompatible
    assert (not check(reader, [writer], "BACKWARD").is_compatible) == expected
