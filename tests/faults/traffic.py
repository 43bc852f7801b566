"""What the fault tests send and watch: the saga's requests as orders sends them, and
consumers that record what the services answer."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

from evp.avro import Event
from evp.events import Currency, OrderLine, OrderPlaced, PaymentRequested
from evp.messaging import EventBus, MessagingSettings
from evp.service.inprocess import RunningService
from evp.web import KeySet, Role, TokenIssuer, TokenVerifier
from tests.messaging.probes import EventRecorder

__all__ = [
    "KEYS",
    "VERIFIER",
    "admin_headers",
    "dead_lettered",
    "order_placed",
    "payment_request",
    "recording",
]

KEYS = KeySet.generate()
"""The test's signing keys, standing in for the users service's."""
VERIFIER = TokenVerifier.local(KEYS, issuer="evp-users", audience="evp")
"""What services run without the users service verify bearer tokens with."""
_ISSUER = TokenIssuer(KEYS, issuer="evp-users", audience="evp")


def admin_headers() -> dict[str, str]:
    """An Authorization header carrying an admin's token signed with :data:`KEYS`."""
    token = _ISSUER.issue(uuid.uuid4(), "admin@shop.test", Role.ADMIN).access_token
    return {"Authorization": f"Bearer {token}"}


def order_placed(sku: str, *, order_id: uuid.UUID | None = None) -> OrderPlaced:
    """An order of one unit of ``sku`` at 10.00 EUR, as orders publishes it."""
    return OrderPlaced.new(
        order_id=order_id or uuid.uuid4(),
        user_id=uuid.uuid4(),
        lines=[OrderLine(sku=sku, quantity=1, unit_price=Decimal("10.00"))],
        total=Decimal("10.00"),
        currency=Currency.EUR,
        source="orders",
    )


def payment_request(
    token: str = "tok_ok", *, order_id: uuid.UUID | None = None
) -> PaymentRequested:
    """A request to charge 19.99 EUR for an order, as the order saga sends it."""
    return PaymentRequested.new(
        order_id=order_id or uuid.uuid4(),
        user_id=uuid.uuid4(),
        reservation_id=uuid.uuid4(),
        amount=Decimal("19.99"),
        currency=Currency.EUR,
        payment_token=token,
        source="orders",
    )


@contextlib.asynccontextmanager
async def recording(
    settings: MessagingSettings,
    events: Sequence[type[Event]],
    *,
    group: str = "observer",
    publishes: Sequence[type[Event]] = (),
) -> AsyncIterator[tuple[EventBus, EventRecorder]]:
    """A bus with a group of its own recording ``events``; it may publish anything, the
    schema ids of ``publishes`` looked up as it starts."""
    recorder = EventRecorder()
    bus = EventBus(settings, service=group, publishes=publishes)
    bus.subscriber(group=group, events=events)(recorder)
    async with bus:
        await bus.wait_assigned()
        yield bus, recorder


def dead_lettered(service: RunningService) -> float:
    """How many messages ``service``'s consumer groups have dead-lettered, for any reason."""
    return sum(
        sample.value
        for metric in service.runtime.metrics.registry.collect()
        for sample in metric.samples
        if sample.name == "evp_events_dead_lettered_total"
    )
