"""Dead letters: the ``dlq-*`` headers written for a message, and reading them back."""

from __future__ import annotations

import json

from confluent_kafka import Message

from evp.avro.errors import IncompatibleWriter
from evp.messaging import headers as h
from evp.messaging.dead_letter import DeadLetter, Reason, dead_letter_of
from evp.messaging.headers import header
from evp.schema import IncompatibilityType, check

READER = (
    '{"type":"record","name":"Order","namespace":"shop","fields":['
    '{"name":"id","type":"string"},{"name":"note","type":"string"}]}'
)
WRITER = (
    '{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"}]}'
)


def _original() -> Message:
    return Message(topic="orders", partition=2, offset=41, key=b"k", value=b"\x00body", headers=[])


def _refusal() -> IncompatibleWriter:
    problems = check(READER, [WRITER], "BACKWARD").problems
    return IncompatibleWriter(
        reader="shop.Order", writer="shop.Order", schema_id=9, problems=problems
    )


def _read_back(letter_headers: list[tuple[str, str | bytes | None]]) -> DeadLetter:
    stored = Message(
        topic="orders.dlq", partition=0, offset=0, key=b"k", value=b"", headers=letter_headers
    )
    return DeadLetter.from_message(stored)


def test_an_incompatible_writer_letter_carries_its_problems_as_json() -> None:
    """The dlq-problems header holds each problem's type, path, message and both fragments."""
    letter = dead_letter_of(
        _original(), reason=Reason.INCOMPATIBLE_WRITER, error=_refusal(), group="g", attempts=0
    )
    (problem,) = json.loads(header(letter.headers, h.DLQ_PROBLEMS) or b"null")
    assert problem["type"] == "READER_FIELD_MISSING_DEFAULT_VALUE"
    assert problem["path"] == "/fields/1"
    assert "note" in problem["message"]
    assert json.loads(problem["reader"])["name"] == "note"
    assert json.loads(problem["writer"])["name"] == "Order"


def test_problems_are_read_back_as_typed_values() -> None:
    """DeadLetter.from_message turns the header back into the problems that were written."""
    refusal = _refusal()
    letter = dead_letter_of(
        _original(), reason=Reason.INCOMPATIBLE_WRITER, error=refusal, group="g", attempts=0
    )
    read = _read_back(list(letter.headers))
    assert read.problems == refusal.problems
    assert read.problems[0].type is IncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE


def test_other_letters_have_no_problems_header() -> None:
    """A handler failure has no compatibility problems to carry."""
    letter = dead_letter_of(
        _original(), reason=Reason.HANDLER_FAILED, error=LookupError("x"), group="g", attempts=3
    )
    assert header(letter.headers, h.DLQ_PROBLEMS) is None
    assert _read_back(list(letter.headers)).problems == ()


def test_a_garbled_problems_header_reads_as_none() -> None:
    """A problems header that is not the expected JSON does not hide the rest of the letter."""
    read = _read_back([(h.DLQ_REASON, b"incompatible-writer"), (h.DLQ_PROBLEMS, b"[{")])
    assert read.problems == ()
    assert read.reason == "incompatible-writer"
