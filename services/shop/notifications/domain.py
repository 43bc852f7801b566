"""What the emails say, and when to try again: pure functions, no I/O.

Three templates: a welcome on registration, and one email per terminal order (confirmed or
cancelled, the reason in words). A subject depends only on the event that caused the
email, so it is known from the start; the body also needs the read models (the user's
name, the order's total) and is written when the email is sent.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from decimal import Decimal

from evp.events import CancellationReason

__all__ = [
    "Email",
    "Facts",
    "Template",
    "body",
    "message_id",
    "reason_in_words",
    "retry_delay",
    "subject",
]


class Template(enum.StrEnum):
    """Which email a notification is."""

    WELCOME = "welcome"
    ORDER_CONFIRMED = "order_confirmed"
    ORDER_CANCELLED = "order_cancelled"


_REASONS = {
    CancellationReason.CUSTOMER_REQUEST: "you asked us to cancel it",
    CancellationReason.OUT_OF_STOCK: "some of its items are out of stock",
    CancellationReason.PAYMENT_FAILED: "the payment did not go through",
    CancellationReason.TIMED_OUT: "the payment was not confirmed in time",
    CancellationReason.UNKNOWN: "of a problem on our side",
}


def reason_in_words(reason: CancellationReason) -> str:
    """Why an order was cancelled, as the email says it ("... because <this>")."""
    return _REASONS.get(reason, _REASONS[CancellationReason.UNKNOWN])


@dataclasses.dataclass(frozen=True)
class Facts:
    """What an email's body says, gathered from its event and the read models."""

    name: str | None = None
    address: str | None = None
    order_id: uuid.UUID | None = None
    total: Decimal | None = None
    currency: str | None = None
    reason: CancellationReason | None = None
    detail: str | None = None


@dataclasses.dataclass(frozen=True)
class Email:
    """A composed email: its subject and plain-text body."""

    subject: str
    text: str


def _order_ref(order_id: uuid.UUID | None) -> str:
    # The first 8 hex digits: what the shop shows customers as the order number.
    return order_id.hex[:8].upper() if order_id is not None else "(unknown)"


def subject(
    template: Template, *, name: str | None = None, order_id: uuid.UUID | None = None
) -> str:
    """The subject line, from the facts its event carries."""
    match template:
        case Template.WELCOME:
            return f"Welcome to the shop, {name}" if name else "Welcome to the shop"
        case Template.ORDER_CONFIRMED:
            return f"Your order {_order_ref(order_id)} is confirmed"
        case Template.ORDER_CANCELLED:
            return f"Your order {_order_ref(order_id)} was cancelled"


def body(template: Template, facts: Facts) -> str:
    """The plain-text body."""
    greeting = f"Hello {facts.name}," if facts.name else "Hello,"
    amount = (
        f" ({facts.total.quantize(Decimal('0.01')):f} {facts.currency})"
        if facts.total is not None and facts.currency
        else ""
    )
    order = f"your order {_order_ref(facts.order_id)}{amount}"
    match template:
        case Template.WELCOME:
            lines = [
                "welcome to the shop! Your account is ready"
                + (f"; you sign in with {facts.address}." if facts.address else ".")
            ]
        case Template.ORDER_CONFIRMED:
            lines = [f"{order} is confirmed: it is paid and its items are set aside for you."]
        case Template.ORDER_CANCELLED:
            reason = reason_in_words(facts.reason or CancellationReason.UNKNOWN)
            lines = [f"{order} was cancelled because {reason}."]
            if facts.detail:
                lines.append(f"Details: {facts.detail}")
            lines.append("If you were charged, the payment will be refunded.")
    return "\n\n".join([greeting, *lines, "The shop"]) + "\n"


def message_id(notification_id: uuid.UUID, sender: str) -> str:
    """The ``Message-ID`` of a notification's email: the same on every attempt.

    A message sent again after a crash (see :mod:`shop.notifications.sender`) carries the
    id of the first, so the receiving side can recognise it as the same message.
    """
    domain = sender.rpartition("@")[2] or "shop.local"
    return f"<{notification_id}@{domain}>"


def retry_delay(attempts: int, *, base: float, cap: float) -> float:
    """Seconds to wait after ``attempts`` failed attempts: ``base``, doubling, up to ``cap``."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))
