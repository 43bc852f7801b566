"""A few days of a shop's events with known figures, and how the tests run analytics on them.

Seven orders over three days of March 2026 (UTC): three confirmed (EUR and GBP), three
cancelled (one for lack of stock, two for failed payments, one of those just after
midnight), one still open; with the payments, a user and the stock that go with them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from evp.avro import Event
from evp.events import CancellationReason, Currency, OrderConfirmed, OrderPlaced, StockAdded
from evp.eventstore.outbox import DEFAULT_RELAY_NAME
from evp.messaging import EventBus, MessagingSettings
from evp.service import ServiceSettings
from evp.service.testing import RunningService, running_service
from evp.testing.samples import (
    order_cancelled,
    order_line,
    order_placed,
    payment_processed,
    payment_requested,
    user_registered,
)
from evp.web import KeySet, Role, TokenIssuer, TokenVerifier
from shop.analytics.app import service
from shop.analytics.projections import PROJECTIONS

E = TypeVar("E", bound=Event)

DAY_1 = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
KEYS = KeySet.generate()
VERIFIER = TokenVerifier.local(KEYS, issuer="evp-users", audience="evp")
_ISSUER = TokenIssuer(KEYS, issuer="evp-users", audience="evp")


def bearer(role: Role) -> dict[str, str]:
    """Headers with a token of a fresh user in ``role``."""
    token = _ISSUER.issue(uuid.uuid4(), "ada@example.com", role).access_token
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(Role.ADMIN)


def at(event: E, moment: datetime.datetime) -> E:
    """``event`` as if it happened at ``moment`` (the envelope's timestamp)."""
    envelope = dataclasses.replace(event.envelope, timestamp=moment)  # type: ignore[type-var]
    return dataclasses.replace(event, envelope=envelope)  # type: ignore[type-var]


@dataclasses.dataclass(frozen=True)
class Order:
    """One order of the history: what it cost, when it was placed, how its saga ended."""

    total: str
    currency: Currency
    placed: datetime.datetime
    outcome: CancellationReason | None = None
    """``None``: confirmed (unless ``seconds`` is ``None`` too: still open)."""
    seconds: float | None = None
    """From placement to the saga's end."""


ORDERS = (
    Order("74.48", Currency.EUR, DAY_1.replace(hour=9), seconds=12.5),
    Order("100.00", Currency.EUR, DAY_1.replace(hour=10), seconds=30),
    Order("20.00", Currency.USD, DAY_1.replace(hour=11), CancellationReason.OUT_OF_STOCK, 3),
    Order("50.00", Currency.GBP, DAY_1.replace(day=2, hour=8), seconds=45.25),
    Order(
        "10.00",
        Currency.EUR,
        DAY_1.replace(day=2, hour=23, minute=59, second=50),
        CancellationReason.PAYMENT_FAILED,
        20,
    ),
    Order(
        "15.00", Currency.USD, DAY_1.replace(day=2, hour=12), CancellationReason.PAYMENT_FAILED, 7
    ),
    Order("5.00", Currency.EUR, DAY_1.replace(day=3, hour=9)),
)
DURATIONS = [o.seconds for o in ORDERS if o.seconds is not None]


def order_events(order: Order) -> list[Event]:
    """The events of ``order``'s saga, at the times the order says."""
    placed = at(
        order_placed(
            lines=[order_line("SKU-1", 1, order.total)],
            currency=order.currency,
        ),
        order.placed,
    )
    if order.seconds is None:
        return [placed]
    ended = order.placed + datetime.timedelta(seconds=order.seconds)
    if order.outcome is not None:
        return [
            placed,
            at(
                order_cancelled(order_id=placed.order_id, reason=order.outcome, caused_by=placed),
                ended,
            ),
        ]
    request = at(payment_requested(placed, caused_by=placed), order.placed)
    paid = at(payment_processed(request, caused_by=request), ended)
    return [
        placed,
        request,
        paid,
        at(order_confirmed(placed, paid.payment_id, caused_by=paid), ended),
    ]


def order_confirmed(
    order: OrderPlaced, payment_id: uuid.UUID | None = None, *, caused_by: Event | None = None
) -> OrderConfirmed:
    """The confirmation of ``order``, caused by ``caused_by`` (else by the order)."""
    return OrderConfirmed.new(
        order_id=order.order_id,
        reservation_id=uuid.uuid4(),
        payment_id=payment_id or uuid.uuid4(),
        source="orders",
        caused_by=caused_by or order,
    )


def history() -> list[Event]:
    """Every event of the history: a user, some stock, and the seven orders' sagas."""
    user = at(user_registered(), DAY_1.replace(hour=8))
    stock = at(
        StockAdded.new(sku="SKU-1", quantity=100, on_hand=100, source="inventory"),
        DAY_1.replace(hour=8),
    )
    return [user, stock, *(event for order in ORDERS for event in order_events(order))]


async def publish(settings: MessagingSettings, events: Sequence[Event]) -> None:
    """Publish ``events`` as the shop's other services would."""
    async with EventBus(settings, service="test") as bus:
        await bus.publish_batch(events)


async def caught_up(running: RunningService, count: int) -> bool:
    """Whether analytics keeps ``count`` events and every read model has folded them."""
    recorder = running.runtime.recorder
    last = await recorder.last_position()
    if last < count:
        return False
    checkpoints = [await recorder.checkpoint(p.name) for p in PROJECTIONS]
    return all(checkpoint >= last for checkpoint in checkpoints)


async def relayed(running: RunningService) -> bool:
    """Whether the outbox relay has gone past every stored event."""
    recorder = running.runtime.recorder
    return await recorder.checkpoint(DEFAULT_RELAY_NAME) >= await recorder.last_position()


@contextlib.asynccontextmanager
async def analytics(settings: ServiceSettings) -> AsyncIterator[RunningService]:
    """The analytics service, running, accepting this module's tokens."""
    async with running_service(service, settings, verifier=VERIFIER) as running:
        yield running


async def get(running: RunningService, path: str, **params: Any) -> Any:
    """An admin's GET of ``path``, its JSON body (the status must be 200)."""
    response = await running.http.get(path, params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def money(amount: str) -> str:
    """``amount`` as the API writes money."""
    return f"{Decimal(amount):.2f}"
