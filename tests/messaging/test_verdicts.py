"""Deciding once per (writer id, reader class) whether the reader can read the writer."""

from __future__ import annotations

import json

from evp.events import OrderCancelled, OrderPlaced
from evp.messaging.verdicts import ReadVerdicts

from .samples import OrderPlacedV1


def test_a_compatible_writer_has_no_problems() -> None:
    """The v2 reader reads what v1 wrote: no problems."""
    assert ReadVerdicts().problems(1, OrderPlacedV1.AVRO_SCHEMA, OrderPlaced) == ()


def test_an_incompatible_writer_has_its_problems_listed() -> None:
    """A writer lacking a field the reader needs (without default) is refused with the reason."""
    writer = json.loads(OrderCancelled.AVRO_SCHEMA)
    writer["fields"] = [f for f in writer["fields"] if f["name"] != "reason"]
    problems = ReadVerdicts().problems(7, json.dumps(writer), OrderCancelled)
    assert problems
    assert "reason" in problems[0]


def test_verdicts_are_cached_per_writer_and_reader() -> None:
    """A verdict is computed once per (schema id, reader class)."""
    verdicts = ReadVerdicts()
    verdicts.problems(1, OrderPlacedV1.AVRO_SCHEMA, OrderPlaced)
    verdicts.problems(1, "not even json", OrderPlaced)
    assert len(verdicts) == 1
