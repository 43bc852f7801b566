"""The start-up check: every reply the saga waits for can read its latest registered schema."""

from __future__ import annotations

import json

import pytest

from evp.events import PaymentFailed, StockHeld
from shop.orders.errors import UnreadableReply
from shop.orders.participants import RegisteredSchema, check_participants
from shop.orders.saga import ORDER_SAGA


class FakeLatest:
    """Latest schemas as the generated classes have them, with some subjects changed."""

    def __init__(self, changed: dict[str, str | None] | None = None) -> None:
        self.changed = changed or {}
        self.asked: list[str] = []

    def latest(self, subject: str) -> RegisteredSchema | None:
        self.asked.append(subject)
        if subject in self.changed:
            text = self.changed[subject]
            return None if text is None else RegisteredSchema(900 + len(self.asked), text)
        for _, reply in ORDER_SAGA.replies():
            if subject == reply.SUBJECT:
                return RegisteredSchema(len(self.asked), reply.AVRO_SCHEMA)
        raise AssertionError(f"unexpected subject {subject}")


def _without_hold_id(schema: str) -> str:
    """``schema`` without ``hold_id``: a reader that needs it (no default) cannot read it."""
    parsed = json.loads(schema)
    parsed["fields"] = [f for f in parsed["fields"] if f["name"] != "hold_id"]
    return json.dumps(parsed)


def test_readable_replies_pass_and_every_one_is_checked() -> None:
    """Today's schemas: the check passes, having asked for each reply's subject."""
    latest = FakeLatest()
    checked = check_participants(ORDER_SAGA, latest)
    assert checked == len(ORDER_SAGA.replies())
    assert StockHeld.SUBJECT in latest.asked
    assert PaymentFailed.SUBJECT in latest.asked


def test_an_unreadable_reply_fails_naming_the_step_and_the_event() -> None:
    """A StockHeld without the hold_id the saga reads cannot be read: start-up fails."""
    latest = FakeLatest({StockHeld.SUBJECT: _without_hold_id(StockHeld.AVRO_SCHEMA)})
    with pytest.raises(UnreadableReply) as raised:
        check_participants(ORDER_SAGA, latest)
    assert raised.value.step == "hold"
    assert raised.value.event == StockHeld.FULL_NAME
    assert "hold_id" in str(raised.value)


def test_an_unregistered_reply_fails_start_up() -> None:
    """A subject with no schema at all is named too."""
    latest = FakeLatest({PaymentFailed.SUBJECT: None})
    with pytest.raises(UnreadableReply, match="not registered") as raised:
        check_participants(ORDER_SAGA, latest)
    assert raised.value.step == "payment"
