"""The payment provider Protocol, and the simulated provider's documented test tokens."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest

from evp.events import Currency, PaymentFailureReason
from shop.payments.provider import (
    TOKEN_DECLINED,
    TOKEN_OK,
    TOKEN_SLOW,
    Approved,
    Declined,
    PaymentProvider,
    Pending,
    Refunded,
    SimulatedProvider,
)

START = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
LIMIT = Decimal("5000.00")
DELAY = datetime.timedelta(seconds=30)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime.datetime:
        return self.now


@dataclasses.dataclass(frozen=True)
class Sandbox:
    """A provider under test, with the tokens that make it approve, decline and pend."""

    provider: PaymentProvider
    clock: Clock
    approving: str
    declining: str
    pending: str


def _simulated() -> Sandbox:
    clock = Clock()
    provider = SimulatedProvider(decline_above=LIMIT, slow_approval=DELAY, clock=clock)
    return Sandbox(provider, clock, TOKEN_OK, TOKEN_DECLINED, TOKEN_SLOW)


SANDBOXES: dict[str, Callable[[], Sandbox]] = {"simulated": _simulated}


@pytest.fixture(params=sorted(SANDBOXES))
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """Each provider in turn, for the conformance tests."""
    return SANDBOXES[request.param]()


def _simulator() -> SimulatedProvider:
    return SimulatedProvider(decline_above=LIMIT, slow_approval=DELAY, clock=Clock())


# -- conformance: what every provider does ----------------------------------------------


async def test_a_repeated_charge_for_an_order_gets_the_first_answer(sandbox: Sandbox) -> None:
    """The order id is the idempotency key: asking again answers the same."""
    order_id = uuid.uuid4()
    first = await sandbox.provider.charge(
        order_id, sandbox.approving, Decimal("10.00"), Currency.EUR
    )
    again = await sandbox.provider.charge(
        order_id, sandbox.approving, Decimal("10.00"), Currency.EUR
    )
    assert isinstance(first, Approved)
    assert again == first


async def test_a_declined_charge_says_why(sandbox: Sandbox) -> None:
    """A decline carries a failure reason the events can name."""
    outcome = await sandbox.provider.charge(
        uuid.uuid4(), sandbox.declining, Decimal("10.00"), Currency.EUR
    )
    assert isinstance(outcome, Declined)
    assert outcome.reason is not PaymentFailureReason.UNKNOWN


async def test_a_pending_charge_is_settled_once_due(sandbox: Sandbox) -> None:
    """Asked before its due time a pending charge is still pending; after it, approved."""
    pending = await sandbox.provider.charge(
        uuid.uuid4(), sandbox.pending, Decimal("10.00"), Currency.EUR
    )
    assert isinstance(pending, Pending)
    assert await sandbox.provider.outcome(pending.reference) == pending
    sandbox.clock.now = pending.due_at
    assert await sandbox.provider.outcome(pending.reference) == Approved(pending.reference)


async def test_a_capture_is_refunded_once_however_often_asked(sandbox: Sandbox) -> None:
    """Refunding the same capture twice answers with the same refund."""
    approved = await sandbox.provider.charge(
        uuid.uuid4(), sandbox.approving, Decimal("10.00"), Currency.EUR
    )
    assert isinstance(approved, Approved)
    first = await sandbox.provider.refund(approved.reference, Decimal("10.00"), Currency.EUR)
    again = await sandbox.provider.refund(approved.reference, Decimal("10.00"), Currency.EUR)
    assert isinstance(first, Refunded)
    assert again == first


# -- the simulated provider's test tokens -----------------------------------------------


async def test_tok_ok_approves_with_a_reference_naming_the_order() -> None:
    """``tok_ok`` approves, with the reference ``sim_<order id hex>``."""
    provider = _simulator()
    order_id = uuid.uuid4()
    outcome = await provider.charge(order_id, TOKEN_OK, Decimal("19.99"), Currency.EUR)
    assert outcome == Approved(f"sim_{order_id.hex}")


async def test_tok_declined_declines_the_card() -> None:
    """``tok_declined`` declines with CARD_DECLINED."""
    provider = _simulator()
    outcome = await provider.charge(uuid.uuid4(), TOKEN_DECLINED, Decimal("1.00"), Currency.EUR)
    assert isinstance(outcome, Declined)
    assert outcome.reason is PaymentFailureReason.CARD_DECLINED


async def test_tok_slow_answers_pending_until_the_configured_delay() -> None:
    """``tok_slow`` is pending, due the configured delay after the charge."""
    provider = _simulator()
    outcome = await provider.charge(uuid.uuid4(), TOKEN_SLOW, Decimal("1.00"), Currency.EUR)
    assert isinstance(outcome, Pending)
    assert outcome.due_at == START + DELAY


async def test_an_unknown_token_is_declined_and_says_so() -> None:
    """A token that is not one of the documented ones declines, naming the reason."""
    provider = _simulator()
    outcome = await provider.charge(uuid.uuid4(), "tok_nope", Decimal("1.00"), Currency.EUR)
    assert outcome == Declined(PaymentFailureReason.CARD_DECLINED, "unknown test token")


@pytest.mark.parametrize("token", [TOKEN_OK, TOKEN_SLOW])
async def test_an_amount_above_the_limit_is_declined_for_lack_of_funds(token: str) -> None:
    """Above the limit even an approving token declines with INSUFFICIENT_FUNDS."""
    provider = _simulator()
    outcome = await provider.charge(uuid.uuid4(), token, LIMIT + Decimal("0.01"), Currency.EUR)
    assert isinstance(outcome, Declined)
    assert outcome.reason is PaymentFailureReason.INSUFFICIENT_FUNDS


async def test_an_amount_at_the_limit_is_approved() -> None:
    """The limit itself is still within it."""
    provider = _simulator()
    outcome = await provider.charge(uuid.uuid4(), TOKEN_OK, LIMIT, Currency.EUR)
    assert isinstance(outcome, Approved)


async def test_a_pending_charge_made_before_a_restart_is_approved_when_asked() -> None:
    """A new instance (the service restarted) approves a slow charge it never saw."""
    order_id = uuid.uuid4()
    provider = _simulator()
    assert await provider.outcome(f"sim_{order_id.hex}") == Approved(f"sim_{order_id.hex}")


async def test_the_simulated_provider_keeps_one_charge_per_order() -> None:
    """Repeats are counted as requests, not as charges."""
    provider = _simulator()
    order_id = uuid.uuid4()
    for _ in range(3):
        await provider.charge(order_id, TOKEN_OK, Decimal("5.00"), Currency.EUR)
    assert provider.charge_requests == [order_id] * 3
    assert list(provider.charges) == [order_id]
