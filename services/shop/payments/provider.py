"""The payment provider behind a Protocol, and the deterministic simulated one.

A provider charges a payment token once per order: the order id is the idempotency key, so
asking again for the same order (a retried handler) returns the first answer and charges
nothing more. Its answer is approved, declined, or pending (it will know later: the payment
completes once ``due_at`` has passed, when :meth:`PaymentProvider.outcome` is asked).

:class:`SimulatedProvider` answers from documented test tokens, like the ones payment
providers publish for their sandboxes:

==================  =========================================================
``tok_ok``          approved, reference ``sim_<order id hex>``
``tok_declined``    declined, ``CARD_DECLINED``
``tok_slow``        pending; approved once the configured delay has passed
anything else       declined, ``CARD_DECLINED``, detail "unknown test token"
==================  =========================================================

Any amount above the configured limit is declined with ``INSUFFICIENT_FUNDS``.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from evp.events import Currency, PaymentFailureReason

__all__ = [
    "TOKEN_DECLINED",
    "TOKEN_OK",
    "TOKEN_SLOW",
    "Approved",
    "ChargeOutcome",
    "Declined",
    "PaymentProvider",
    "Pending",
    "RefundOutcome",
    "RefundRefused",
    "Refunded",
    "SimulatedProvider",
]

TOKEN_OK = "tok_ok"
"""Approves the charge."""
TOKEN_DECLINED = "tok_declined"
"""Declines the charge: ``CARD_DECLINED``."""
TOKEN_SLOW = "tok_slow"
"""Answers pending; the approval comes after the configured delay (the saga times out)."""

_UNKNOWN_TOKEN = "unknown test token"


@dataclasses.dataclass(frozen=True, slots=True)
class Approved:
    """The charge was captured; ``reference`` is the provider's id for it."""

    reference: str


@dataclasses.dataclass(frozen=True, slots=True)
class Declined:
    """The charge was refused, and why."""

    reason: PaymentFailureReason
    detail: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Pending:
    """No answer yet: ask :meth:`PaymentProvider.outcome` again once ``due_at`` has passed."""

    reference: str
    due_at: datetime.datetime


ChargeOutcome = Approved | Declined | Pending
"""What the provider said about a charge."""


@dataclasses.dataclass(frozen=True, slots=True)
class Refunded:
    """The captured amount was given back; ``reference`` is the provider's id for it."""

    reference: str


@dataclasses.dataclass(frozen=True, slots=True)
class RefundRefused:
    """The provider would not refund the capture, and why."""

    detail: str


RefundOutcome = Refunded | RefundRefused
"""What the provider said about a refund."""


class PaymentProvider(Protocol):
    """Charges and refunds, each idempotent: asking twice does it once."""

    async def charge(
        self, order_id: uuid.UUID, token: str, amount: Decimal, currency: Currency
    ) -> ChargeOutcome:
        """Charge ``amount`` to ``token`` for ``order_id``, the idempotency key."""
        ...

    async def outcome(self, reference: str) -> ChargeOutcome:
        """What became of the pending charge ``reference``."""
        ...

    async def refund(self, reference: str, amount: Decimal, currency: Currency) -> RefundOutcome:
        """Give back ``amount`` of the capture ``reference``; idempotent by ``reference``."""
        ...


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class SimulatedProvider:
    """A provider answering from test tokens, deterministically, with no network.

    Its answers depend only on the request (and, for ``tok_slow``, the clock), so a new
    instance after a restart says what the old one said. It keeps the charges and refunds
    it was asked for, to show that each happened once.
    """

    def __init__(
        self,
        *,
        decline_above: Decimal,
        slow_approval: datetime.timedelta,
        clock: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        self.decline_above = decline_above
        self.slow_approval = slow_approval
        self._clock = clock
        self._charges: dict[uuid.UUID, ChargeOutcome] = {}
        self._pending: dict[str, Pending] = {}
        self._refunds: dict[str, Refunded] = {}
        self.charge_requests: list[uuid.UUID] = []
        """Every order id :meth:`charge` was called with, repeats included."""

    @property
    def charges(self) -> dict[uuid.UUID, ChargeOutcome]:
        """The first answer for each order charged: one entry per order, whatever the repeats."""
        return dict(self._charges)

    @property
    def refunds(self) -> dict[str, Refunded]:
        """The refunds made, by the capture's reference."""
        return dict(self._refunds)

    async def charge(
        self, order_id: uuid.UUID, token: str, amount: Decimal, currency: Currency
    ) -> ChargeOutcome:
        """The test token's answer; a repeat for ``order_id`` gets the first answer again."""
        self.charge_requests.append(order_id)
        if order_id not in self._charges:
            answer = self._answer(order_id, token, amount)
            self._charges[order_id] = answer
            if isinstance(answer, Pending):
                self._pending[answer.reference] = answer
        return self._charges[order_id]

    async def outcome(self, reference: str) -> ChargeOutcome:
        """Still pending before its ``due_at``, approved after (only ``tok_slow`` pends).

        A pending charge this instance does not remember (it was made before a restart) is
        one whose caller kept it until its ``due_at``: it is approved.
        """
        if not reference.startswith("sim_"):
            return Declined(PaymentFailureReason.UNKNOWN, f"no charge {reference}")
        pending = self._pending.get(reference)
        if pending is not None and self._clock() < pending.due_at:
            return pending
        return Approved(reference)

    async def refund(self, reference: str, amount: Decimal, currency: Currency) -> RefundOutcome:
        """Refunded, once per capture: a repeat gets the first refund back."""
        if reference not in self._refunds:
            self._refunds[reference] = Refunded(f"re_{reference}")
        return self._refunds[reference]

    def _answer(self, order_id: uuid.UUID, token: str, amount: Decimal) -> ChargeOutcome:
        reference = f"sim_{order_id.hex}"
        if token not in (TOKEN_OK, TOKEN_DECLINED, TOKEN_SLOW):
            return Declined(PaymentFailureReason.CARD_DECLINED, _UNKNOWN_TOKEN)
        if token == TOKEN_DECLINED:
            return Declined(PaymentFailureReason.CARD_DECLINED, "the card was declined")
        if amount > self.decline_above:
            return Declined(
                PaymentFailureReason.INSUFFICIENT_FUNDS,
                f"amount above the test limit of {self.decline_above}",
            )
        if token == TOKEN_SLOW:
            return Pending(reference, self._clock() + self.slow_approval)
        return Approved(reference)
