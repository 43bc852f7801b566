"""What the emails say and when to retry: pure functions."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from evp.events import CancellationReason
from shop.notifications.domain import (
    Facts,
    Template,
    body,
    message_id,
    reason_in_words,
    retry_delay,
    subject,
)
from shop.notifications.ledger import notification_id


def test_the_retry_delay_doubles_up_to_the_cap() -> None:
    """Waits after 1, 2, 3, ... failures: base, 2x base, 4x base, then the cap."""
    delays = [retry_delay(n, base=1.0, cap=5.0) for n in range(1, 6)]
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]


@pytest.mark.parametrize("reason", list(CancellationReason))
def test_every_cancellation_reason_has_words(reason: CancellationReason) -> None:
    """No reason reaches a customer as an enum symbol."""
    words = reason_in_words(reason)
    assert words
    assert reason.value not in words


def test_a_cancelled_order_body_says_why_and_for_how_much() -> None:
    """The body names the order, its total and the reason, and the detail when there is one."""
    order_id = uuid.uuid4()
    facts = Facts(
        name="Ada",
        order_id=order_id,
        total=Decimal("9.5"),
        currency="EUR",
        reason=CancellationReason.OUT_OF_STOCK,
        detail="MUG: 0 left",
    )
    text = body(Template.ORDER_CANCELLED, facts)
    assert text.startswith("Hello Ada,")
    assert f"{order_id.hex[:8].upper()} (9.50 EUR) was cancelled because some of its" in text
    assert "MUG: 0 left" in text


def test_subjects_come_from_the_event_alone() -> None:
    """A welcome greets by name; an order's subject names the order number."""
    order_id = uuid.UUID("abcdef12-0000-4000-8000-000000000000")
    assert subject(Template.WELCOME, name="Ada") == "Welcome to the shop, Ada"
    assert (
        subject(Template.ORDER_CONFIRMED, order_id=order_id) == "Your order ABCDEF12 is confirmed"
    )


def test_a_notification_keeps_its_id_and_message_id() -> None:
    """The same (template, subject) always gives the same ids, so a resend is recognisable."""
    about = uuid.uuid4()
    first = notification_id(Template.WELCOME, about)
    assert first == notification_id(Template.WELCOME, about)
    assert first != notification_id(Template.ORDER_CONFIRMED, about)
    assert message_id(first, "shop@example.org") == f"<{first}@example.org>"
