"""What the shop promises, checked on what a client saw after the run; pure functions.

Each check takes the :class:`Observation` (gathered over HTTP, from the mail sink and the
dead-letter topics once every order ended) and returns a :class:`Verdict`: its name,
whether it held, the figures it compared, and the orders or SKUs that broke it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "TERMINAL",
    "Observation",
    "OrderSeen",
    "PaymentSeen",
    "Verdict",
    "check_all",
    "dead_letters",
    "emails",
    "order_ref",
    "payments",
    "stock",
    "terminal_once",
    "verdict",
]

TERMINAL = {"CONFIRMED": "OrderConfirmed", "CANCELLED": "OrderCancelled"}
"""A terminal status and the event that ends an order in it."""

_SHOWN = 5
"""Offenders named per verdict; the count says how many there were."""


@dataclass(frozen=True)
class OrderSeen:
    """An order as ``GET /orders/{id}`` answered it at the end (status ``None``: no answer)."""

    order_id: str
    kind: str
    customer: str
    lines: dict[str, int]
    status: str | None
    reason: str | None = None
    total: Decimal = Decimal("0")
    timeline: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaymentSeen:
    """An order's payment as ``GET /payments/{order_id}`` answered it."""

    status: str
    amount: Decimal
    refunded: bool


@dataclass
class Observation:
    """Everything the invariants are checked on."""

    orders: list[OrderSeen]
    stock_added: dict[str, int]
    """Per SKU, the units added before the first order (a fresh platform holds nothing)."""
    available: dict[str, int]
    payments: dict[str, PaymentSeen]
    """By order id; an order with no payment (never asked, or refused first) is absent."""
    emails: list[tuple[str, str]]
    """``(to, subject)`` of every message the mail sink received."""
    customers: list[str]
    dead_letters: dict[str, int]
    charge_events: int | None = None
    """``PaymentProcessed`` events counted by analytics (``None``: not known)."""


@dataclass(frozen=True)
class Verdict:
    """One invariant's outcome."""

    name: str
    passed: bool
    figures: dict[str, Any]
    offenders: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "name": self.name,
            "passed": self.passed,
            "figures": self.figures,
            "offenders": self.offenders,
        }


def order_ref(order_id: str) -> str:
    """The order number customers see in their email (first 8 hex digits, upper case)."""
    return order_id.replace("-", "")[:8].upper()


def terminal_once(seen: Observation) -> Verdict:
    """Every order placed ended CONFIRMED xor CANCELLED, and its timeline ends it once."""
    offenders = []
    for order in seen.orders:
        ends = [kind for kind in order.timeline if kind in TERMINAL.values()]
        if order.status not in TERMINAL:
            offenders.append(f"{order.order_id}: status {order.status} ({order.kind})")
        elif ends != [TERMINAL[order.status]]:
            offenders.append(f"{order.order_id}: {order.status} but timeline ends {ends}")
    by_status = Counter(order.status or "NO ANSWER" for order in seen.orders)
    return verdict(
        "each order terminal exactly once",
        offenders,
        placed=len(seen.orders),
        **{status.lower(): count for status, count in sorted(by_status.items())},
    )


def stock(seen: Observation) -> Verdict:
    """Per SKU: units added = available + units of confirmed orders (nothing held, none < 0)."""
    confirmed: Counter[str] = Counter()
    for order in seen.orders:
        if order.status == "CONFIRMED":
            confirmed.update(order.lines)
    offenders = []
    for sku, added in sorted(seen.stock_added.items()):
        available = seen.available.get(sku)
        if available is None or available < 0 or added != available + confirmed[sku]:
            offenders.append(
                f"{sku}: added {added} != available {available} + confirmed {confirmed[sku]}"
            )
    return verdict(
        "no stock oversold or leaked",
        offenders,
        skus=len(seen.stock_added),
        added=sum(seen.stock_added.values()),
        available=sum(seen.available.get(sku, 0) for sku in seen.stock_added),
        confirmed_units=sum(confirmed.values()),
    )


def payments(seen: Observation) -> Verdict:
    """Charges minus refunds equal the confirmed totals; each order charged at most once."""
    charged = refunded = confirmed_total = Decimal("0.00")
    charges = 0
    offenders = []
    for order in seen.orders:
        payment = seen.payments.get(order.order_id)
        if order.status == "CONFIRMED":
            confirmed_total += order.total
        if payment is None:
            if order.status == "CONFIRMED":
                offenders.append(f"{order.order_id}: confirmed without a payment")
            continue
        if payment.status in {"PROCESSED", "REFUNDED"}:
            charged += payment.amount
            charges += 1
            if payment.amount != order.total:
                offenders.append(f"{order.order_id}: charged {payment.amount} for {order.total}")
        if payment.refunded or payment.status == "REFUNDED":
            refunded += payment.amount
        if order.status == "CONFIRMED" and payment.status != "PROCESSED":
            offenders.append(f"{order.order_id}: confirmed, payment {payment.status}")
        if order.status == "CANCELLED" and payment.status in {"PROCESSED", "PENDING"}:
            offenders.append(f"{order.order_id}: cancelled, payment {payment.status}")
    if charged - refunded != confirmed_total:
        offenders.insert(0, f"charged {charged} - refunded {refunded} != {confirmed_total}")
    if seen.charge_events is not None and seen.charge_events != charges:
        offenders.insert(0, f"{seen.charge_events} PaymentProcessed events for {charges} charges")
    return verdict(
        "charges minus refunds equal confirmed totals",
        offenders,
        charged=str(charged),
        refunded=str(refunded),
        confirmed_total=str(confirmed_total),
        charges=charges,
        charge_events=seen.charge_events,
    )


def emails(seen: Observation) -> Verdict:
    """One email per terminal order (saying how it ended) and one welcome per customer."""
    subjects = Counter(subject for _, subject in seen.emails)
    welcomes = Counter(to.lower() for to, subject in seen.emails if subject.startswith("Welcome"))
    offenders = []
    about_orders = 0
    for order in seen.orders:
        if order.status not in TERMINAL:
            continue
        ref = order_ref(order.order_id)
        mine = {s: n for s, n in subjects.items() if f" {ref} " in s}
        about_orders += sum(mine.values())
        word = "is confirmed" if order.status == "CONFIRMED" else "was cancelled"
        if sum(mine.values()) != 1 or not any(s.endswith(word) for s in mine):
            offenders.append(f"{order.order_id} ({order.status}): {mine or 'no email'}")
    for customer in seen.customers:
        if welcomes[customer.lower()] != 1:
            offenders.append(f"{customer}: {welcomes[customer.lower()]} welcome email(s)")
    return verdict(
        "one email per terminal order",
        offenders,
        received=len(seen.emails),
        about_orders=about_orders,
        terminal_orders=sum(1 for order in seen.orders if order.status in TERMINAL),
        welcomes=sum(welcomes[c.lower()] for c in seen.customers),
        customers=len(seen.customers),
    )


def dead_letters(seen: Observation) -> Verdict:
    """No event was dead-lettered."""
    offenders = [f"{topic}: {n}" for topic, n in sorted(seen.dead_letters.items()) if n]
    return verdict(
        "no dead letters",
        offenders,
        topics=len(seen.dead_letters),
        letters=sum(seen.dead_letters.values()),
    )


def check_all(seen: Observation) -> list[Verdict]:
    """Every invariant, in the order the report prints them."""
    return [terminal_once(seen), stock(seen), payments(seen), emails(seen), dead_letters(seen)]


def verdict(name: str, offenders: list[str], **figures: Any) -> Verdict:
    """The verdict ``name``: passed when there are no ``offenders`` (the first few are kept)."""
    shown = offenders[:_SHOWN]
    if len(offenders) > _SHOWN:
        shown.append(f"... and {len(offenders) - _SHOWN} more")
    return Verdict(name, not offenders, figures, shown)
