"""Deciding once per (writer id, reader class) whether the reader can read the writer."""

from __future__ import annotations

import json

from evp.events import OrderCancelled, OrderPlaced
from evp.messaging.verdicts import ReadVerdicts
from evp.schema import IncompatibilityType, Problem

from .samples import OrderPlacedV1


def test_a_compatible_writer_has_no_problems() -> None:
    """The v2 reader reads what v1 wrote: no problems."""
    assert ReadVerdicts().problems(1, OrderPlacedV1.AVRO_SCHEMA, OrderPlaced) == ()


def test_an_incompatible_writer_has_its_problems_listed() -> None:
    """A writer lacking a field the reader needs (without default) is refused with the reason."""
    problems = ReadVerdicts().problems(7, _cancelled_without_reason(), OrderCancelled)
    assert problems
    assert problems[0].info == "reason"


def test_problems_stay_structured_values() -> None:
    """Each problem is the checker's typed value: its type, path and both fragments."""
    (problem,) = ReadVerdicts().problems(7, _cancelled_without_reason(), OrderCancelled)
    assert isinstance(problem, Problem)
    assert problem.type is IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE
    assert problem.path.startswith("/fields/")
    assert json.loads(problem.reader)["name"] == "reason"
    assert json.loads(problem.writer)["name"] == "OrderCancelled"


def _cancelled_without_reason() -> str:
    writer = json.loads(OrderCancelled.AVRO_SCHEMA)
    writer["fields"] = [f for f in writer["fields"] if f["name"] != "reason"]
    return json.dumps(writer)


def test_verdicts_are_cached_per_writer_and_reader() -> None:
    """A verdict is computed once per (schema id, reader class)."""
    verdicts = ReadVerdicts()
    verdicts.problems(1, OrderPlacedV1.AVRO_SCHEMA, OrderPlaced)
    verdicts.problems(1, "not even json", OrderPlaced)
    assert len(verdicts) == 1
