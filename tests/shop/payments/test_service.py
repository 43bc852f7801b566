"""The payments service running on Kafka, the registry and Postgres: once per order."""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import TypeVar

import pytest

from evp.avro import Event
from evp.events import (
    Currency,
    PaymentFailed,
    PaymentFailureReason,
    PaymentMethod,
    PaymentProcessed,
    PaymentRefunded,
    PaymentRequested,
    RefundRequested,
)
from evp.messaging import EventBus, MessagingSettings
from evp.service import ServiceSettings
from evp.service.testing import RunningService, running_service
from evp.web import KeySet, Role, TokenIssuer, TokenVerifier
from shop.payments import ledger
from shop.payments.app import service
from shop.payments.domain import Payment, PaymentStatus
from shop.payments.parts import provider_of
from shop.payments.provider import SimulatedProvider

Settings = Callable[[str], ServiceSettings]
E = TypeVar("E", bound=Event)

KEYS = KeySet.generate()
VERIFIER = TokenVerifier.local(KEYS, issuer="evp-users", audience="evp")
ISSUER = TokenIssuer(KEYS, issuer="evp-users", audience="evp")
CUSTOMER = uuid.uuid4()


@pytest.fixture(autouse=True)
def quick_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pending payments are looked at every 50 ms, so the tests wait little."""
    monkeypatch.setenv("PAYMENTS_POLL_INTERVAL_S", "0.05")


@pytest.fixture
async def bus(messaging_settings: MessagingSettings) -> AsyncIterator[EventBus]:
    """A bus on the test's topics, playing the orders service."""
    async with EventBus(messaging_settings, service="orders") as running:
        yield running


@contextlib.asynccontextmanager
async def _payments(settings: ServiceSettings) -> AsyncIterator[RunningService]:
    async with running_service(service, settings, verifier=VERIFIER) as payments:
        yield payments


def _bearer(user_id: uuid.UUID, role: Role = Role.CUSTOMER) -> dict[str, str]:
    token = ISSUER.issue(user_id, f"{user_id.hex[:8]}@example.com", role).access_token
    return {"Authorization": f"Bearer {token}"}


def _request(
    token: str, *, order_id: uuid.UUID | None = None, amount: str = "19.99"
) -> PaymentRequested:
    return PaymentRequested.new(
        order_id=order_id or uuid.uuid4(),
        user_id=CUSTOMER,
        reservation_id=uuid.uuid4(),
        amount=Decimal(amount),
        currency=Currency.EUR,
        payment_token=token,
        source="orders",
    )


def _refund(payment: Payment) -> RefundRequested:
    return RefundRequested.new(
        order_id=payment.order_id,
        payment_id=payment.payment_id,
        amount=payment.amount,
        currency=payment.currency,
        reason="the saga timed out",
        source="orders",
    )


async def _events(payments: RunningService, kind: type[E]) -> list[E]:
    stored = await payments.runtime.store.read_all(0)
    return [r.event for r in stored if isinstance(r.event, kind)]


async def _has(payments: RunningService, kind: type[Event]) -> bool:
    return bool(await _events(payments, kind))


async def _payment(payments: RunningService, order_id: uuid.UUID) -> Payment | None:
    async with payments.runtime.recorder.pool.acquire() as connection:
        return await ledger.load(connection, order_id)


def _handled(payments: RunningService, event: type[Event], outcome: str = "handled") -> float:
    value = payments.runtime.metrics.registry.get_sample_value(
        "evp_events_handled_total",
        {
            "service": "payments",
            "group": "payments",
            "outcome": outcome,
            "event_type": event.FULL_NAME,
        },
    )
    return value or 0.0


def _provider(payments: RunningService) -> SimulatedProvider:
    provider = provider_of(payments.runtime)
    assert isinstance(provider, SimulatedProvider)
    return provider


async def _outcome(
    payments: RunningService, bus: EventBus, request: PaymentRequested, kind: type[E]
) -> E:
    """Publish ``request`` and wait for the one event of ``kind`` it leads to."""
    await bus.publish(request)
    await payments.wait_for(lambda: _has(payments, kind))
    (event,) = await _events(payments, kind)
    return event


# -- the test tokens --------------------------------------------------------------------


async def test_tok_ok_is_processed(settings_for: Settings, bus: EventBus) -> None:
    """``tok_ok``: PaymentProcessed by card, referenced, in the request's flow."""
    request = _request("tok_ok")
    async with _payments(settings_for("payments")) as payments:
        processed = await _outcome(payments, bus, request, PaymentProcessed)
    assert (processed.order_id, processed.amount, processed.currency) == (
        request.order_id,
        Decimal("19.99"),
        Currency.EUR,
    )
    assert processed.method is PaymentMethod.CARD
    assert processed.provider_reference == f"sim_{request.order_id.hex}"
    assert processed.envelope.causation_id == request.envelope.event_id
    assert processed.envelope.correlation_id == request.envelope.correlation_id


async def test_tok_declined_fails_as_card_declined(settings_for: Settings, bus: EventBus) -> None:
    """``tok_declined``: PaymentFailed, CARD_DECLINED."""
    async with _payments(settings_for("payments")) as payments:
        failed = await _outcome(payments, bus, _request("tok_declined"), PaymentFailed)
        assert await _events(payments, PaymentProcessed) == []
    assert failed.reason is PaymentFailureReason.CARD_DECLINED


async def test_an_unknown_token_fails_saying_so(settings_for: Settings, bus: EventBus) -> None:
    """A token that is not documented: PaymentFailed, CARD_DECLINED, "unknown test token"."""
    async with _payments(settings_for("payments")) as payments:
        failed = await _outcome(payments, bus, _request("tok_visa"), PaymentFailed)
    assert (failed.reason, failed.detail) == (
        PaymentFailureReason.CARD_DECLINED,
        "unknown test token",
    )


async def test_an_amount_above_the_configured_limit_fails(
    settings_for: Settings, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``PAYMENTS_DECLINE_ABOVE`` even ``tok_ok`` fails, INSUFFICIENT_FUNDS."""
    monkeypatch.setenv("PAYMENTS_DECLINE_ABOVE", "100.00")
    async with _payments(settings_for("payments")) as payments:
        failed = await _outcome(payments, bus, _request("tok_ok", amount="100.01"), PaymentFailed)
    assert failed.reason is PaymentFailureReason.INSUFFICIENT_FUNDS


# -- once per order ---------------------------------------------------------------------


async def test_a_second_request_for_an_order_charges_nothing(
    settings_for: Settings, bus: EventBus
) -> None:
    """Two PaymentRequested for one order (two event ids): one charge, one event."""
    first = _request("tok_ok")
    second = _request("tok_ok", order_id=first.order_id)
    async with _payments(settings_for("payments")) as payments:
        await bus.publish(first)
        await bus.publish(second)
        await payments.wait_for(lambda: _handled(payments, PaymentRequested) == 2)
        processed = await _events(payments, PaymentProcessed)
        charged = _provider(payments).charge_requests
    assert [p.order_id for p in processed] == [first.order_id]
    assert charged == [first.order_id]


async def test_a_payment_is_refunded_once(settings_for: Settings, bus: EventBus) -> None:
    """Two RefundRequested for a processed payment: one refund, one PaymentRefunded."""
    request = _request("tok_ok")
    async with _payments(settings_for("payments")) as payments:
        await _outcome(payments, bus, request, PaymentProcessed)
        payment = await _payment(payments, request.order_id)
        assert payment is not None
        await bus.publish(_refund(payment))
        await bus.publish(_refund(payment))
        await payments.wait_for(lambda: _handled(payments, RefundRequested) == 2)
        refunded = await _events(payments, PaymentRefunded)
        after = await _payment(payments, request.order_id)
        refunds = _provider(payments).refunds
    assert [(r.payment_id, r.amount, r.reason) for r in refunded] == [
        (payment.payment_id, Decimal("19.99"), "the saga timed out")
    ]
    assert after is not None
    assert after.status is PaymentStatus.REFUNDED
    assert list(refunds) == [f"sim_{request.order_id.hex}"]


async def test_a_failed_payment_has_nothing_to_refund(
    settings_for: Settings, bus: EventBus
) -> None:
    """A refund request for a declined payment records nothing."""
    request = _request("tok_declined")
    async with _payments(settings_for("payments")) as payments:
        await _outcome(payments, bus, request, PaymentFailed)
        payment = await _payment(payments, request.order_id)
        assert payment is not None
        await bus.publish(_refund(payment))
        await payments.wait_for(lambda: _handled(payments, RefundRequested) == 1)
        assert await _events(payments, PaymentRefunded) == []


# -- tok_slow: pending, then approved late ----------------------------------------------


async def _pending(payments: RunningService, bus: EventBus, request: PaymentRequested) -> Payment:
    await bus.publish(request)
    await payments.wait_for(lambda: _handled(payments, PaymentRequested) == 1)
    payment = await _payment(payments, request.order_id)
    assert payment is not None
    assert payment.status is PaymentStatus.PENDING
    return payment


async def test_a_slow_payment_is_processed_once_due_and_not_before(
    settings_for: Settings, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tok_slow``: pending with no event, then PaymentProcessed once the delay is over."""
    monkeypatch.setenv("PAYMENTS_SLOW_APPROVAL_S", "1.0")
    request = _request("tok_slow")
    async with _payments(settings_for("payments")) as payments:
        pending = await _pending(payments, bus, request)
        assert await _events(payments, PaymentProcessed) == []
        await payments.wait_for(lambda: _has(payments, PaymentProcessed))
        (processed,) = await _events(payments, PaymentProcessed)
        settled = await _payment(payments, request.order_id)
    assert pending.due_at is not None
    # Envelope timestamps keep milliseconds only.
    assert processed.envelope.timestamp >= pending.due_at - datetime.timedelta(milliseconds=1)
    assert processed.envelope.causation_id == request.envelope.event_id
    assert settled is not None
    assert settled.status is PaymentStatus.PROCESSED


async def test_a_slow_payment_is_completed_after_a_restart(
    settings_for: Settings, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pending when the service stops, it is processed by the next start, once."""
    monkeypatch.setenv("PAYMENTS_SLOW_APPROVAL_S", "0.5")
    # The first run never polls again after start-up: only the second can complete it.
    monkeypatch.setenv("PAYMENTS_POLL_INTERVAL_S", "3600")
    settings = settings_for("payments")
    request = _request("tok_slow")
    async with _payments(settings) as payments:
        await _pending(payments, bus, request)
    monkeypatch.setenv("PAYMENTS_POLL_INTERVAL_S", "0.05")
    async with _payments(settings) as payments:
        await payments.wait_for(lambda: _has(payments, PaymentProcessed))
        processed = await _events(payments, PaymentProcessed)
    assert [p.order_id for p in processed] == [request.order_id]


async def test_a_refund_asked_while_pending_follows_the_approval(
    settings_for: Settings, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refund requested before the late approval is made right after it."""
    monkeypatch.setenv("PAYMENTS_SLOW_APPROVAL_S", "0.5")
    request = _request("tok_slow")
    async with _payments(settings_for("payments")) as payments:
        pending = await _pending(payments, bus, request)
        await bus.publish(_refund(pending))
        await payments.wait_for(lambda: _has(payments, PaymentRefunded))
        stored = await payments.runtime.store.read_all(0)
        settled = await _payment(payments, request.order_id)
    assert [type(r.event) for r in stored] == [PaymentProcessed, PaymentRefunded]
    assert settled is not None
    assert settled.status is PaymentStatus.REFUNDED


async def test_the_poller_runs_with_the_service(settings_for: Settings) -> None:
    """Readiness counts the poller of pending payments among the running tasks."""
    async with _payments(settings_for("payments")) as payments:
        response = await payments.http.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["tasks"] == {"ok": True, "detail": "1 running"}


# -- GET /payments/{order_id} -----------------------------------------------------------


@pytest.fixture
async def paid(
    settings_for: Settings, bus: EventBus
) -> AsyncIterator[tuple[RunningService, PaymentProcessed]]:
    """The service, with one processed payment of CUSTOMER's."""
    async with _payments(settings_for("payments")) as payments:
        processed = await _outcome(payments, bus, _request("tok_ok"), PaymentProcessed)
        yield payments, processed


async def test_the_owner_sees_the_payment(paid: tuple[RunningService, PaymentProcessed]) -> None:
    """The customer who paid gets the payment, amounts as decimal strings."""
    payments, processed = paid
    response = await payments.http.get(f"/payments/{processed.order_id}", headers=_bearer(CUSTOMER))
    assert response.status_code == 200
    assert response.json() == {
        "order_id": str(processed.order_id),
        "payment_id": str(processed.payment_id),
        "status": "PROCESSED",
        "amount": "19.99",
        "currency": "EUR",
        "provider_reference": processed.provider_reference,
        "failure_reason": None,
        "refunded": False,
    }


async def test_another_customer_gets_a_404(paid: tuple[RunningService, PaymentProcessed]) -> None:
    """Someone else's payment is answered as missing."""
    payments, processed = paid
    response = await payments.http.get(
        f"/payments/{processed.order_id}", headers=_bearer(uuid.uuid4())
    )
    assert response.status_code == 404


async def test_an_admin_sees_any_payment(paid: tuple[RunningService, PaymentProcessed]) -> None:
    """An admin gets a customer's payment."""
    payments, processed = paid
    response = await payments.http.get(
        f"/payments/{processed.order_id}", headers=_bearer(uuid.uuid4(), Role.ADMIN)
    )
    assert response.status_code == 200
    assert response.json()["payment_id"] == str(processed.payment_id)


async def test_without_a_token_the_answer_is_401(
    paid: tuple[RunningService, PaymentProcessed],
) -> None:
    """No bearer token, no payment."""
    payments, processed = paid
    response = await payments.http.get(f"/payments/{processed.order_id}")
    assert response.status_code == 401


async def test_an_unknown_order_is_a_404(paid: tuple[RunningService, PaymentProcessed]) -> None:
    """An order with no payment is a 404 problem, even for an admin."""
    payments, _ = paid
    response = await payments.http.get(
        f"/payments/{uuid.uuid4()}", headers=_bearer(uuid.uuid4(), Role.ADMIN)
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
