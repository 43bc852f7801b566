"""The Avro layer's errors keep what they are about as structured fields."""

from __future__ import annotations

from evp.avro.errors import IncompatibleWriter
from evp.schema import check

READER = (
    '{"type":"record","name":"Order","namespace":"shop","fields":['
    '{"name":"id","type":"string"},{"name":"note","type":"string"}]}'
)
WRITER = (
    '{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"}]}'
)


def _refusal() -> IncompatibleWriter:
    problems = check(READER, [WRITER], "BACKWARD").problems
    return IncompatibleWriter(
        reader="shop.Order", writer="shop.Order", schema_id=3, problems=problems
    )


def test_incompatible_writer_carries_the_checker_problems() -> None:
    """The refusal holds the compatibility problems as typed values, not text."""
    (problem,) = _refusal().problems
    assert problem.path == "/fields/1"
    assert problem.info == "note"


def test_incompatible_writer_prints_each_problem() -> None:
    """Its text names the writer and every problem with its path and detail."""
    text = str(_refusal())
    assert "schema id 3" in text
    assert "READER_FIELD_MISSING_DEFAULT_VALUE at /fields/1" in text
    assert "[note]" in text
