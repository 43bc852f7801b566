"""The notifications service running in a test, with a bus to feed it and ways to look in."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from evp.avro import Event
from evp.events import (
    CancellationReason,
    Currency,
    NotificationFailed,
    NotificationSent,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    UserRegistered,
)
from evp.messaging import EventBus, MessagingSettings
from evp.service import ServiceSettings
from evp.service.testing import RunningService, running_service
from evp.web import KeySet, Role, TokenIssuer, TokenVerifier
from shop.notifications.app import service

__all__ = ["Mailroom", "cancelled", "confirmed", "mailroom", "placed", "registered"]

ADMIN_ID = uuid.UUID("00000000-0000-4000-8000-00000000ad01")


def registered(email: str | None = None, name: str = "Ada") -> UserRegistered:
    """A new user's registration."""
    user_id = uuid.uuid4()
    address = email or f"user-{user_id.hex[:8]}@example.com"
    return UserRegistered.new(user_id=user_id, email=address, display_name=name, source="users")


def placed(user_id: uuid.UUID, total: str = "20.00") -> OrderPlaced:
    """An order of ``user_id``'s for ``total`` euros."""
    return OrderPlaced.new(
        order_id=uuid.uuid4(),
        user_id=user_id,
        lines=[OrderLine(sku="BOOK-1", quantity=1, unit_price=Decimal(total))],
        total=Decimal(total),
        currency=Currency.EUR,
        source="orders",
    )


def confirmed(order: OrderPlaced) -> OrderConfirmed:
    """``order``'s confirmation."""
    return OrderConfirmed.new(
        order_id=order.order_id,
        reservation_id=uuid.uuid4(),
        payment_id=uuid.uuid4(),
        source="orders",
        caused_by=order,
    )


def cancelled(
    order: OrderPlaced, reason: CancellationReason, detail: str | None = None
) -> OrderCancelled:
    """``order``'s cancellation for ``reason``."""
    return OrderCancelled.new(
        order_id=order.order_id, reason=reason, detail=detail, source="orders", caused_by=order
    )


@dataclass
class Mailroom:
    """The running service, a bus publishing others' events, and a token issuer."""

    service: RunningService
    bus: EventBus
    issuer: TokenIssuer

    async def publish(self, *events: Event) -> None:
        """Publish ``events`` in order, as their services would."""
        for event in events:
            await self.bus.publish(event)

    def headers(self, user_id: uuid.UUID, role: Role = Role.CUSTOMER) -> dict[str, str]:
        """A bearer token's header for ``user_id``."""
        token = self.issuer.issue(user_id, f"{user_id.hex[:8]}@example.com", role).access_token
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        """An admin's bearer token header."""
        return self.headers(ADMIN_ID, Role.ADMIN)

    async def sink(self) -> list[dict[str, Any]]:
        """What the embedded sink received, newest first (as an admin reads it)."""
        response = await self.service.http.get("/notifications/sink", headers=self.admin)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def wait_for_mail(
        self, count: int, match: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> list[dict[str, Any]]:
        """Wait until the sink holds ``count`` messages matching ``match``; those messages."""
        found: list[dict[str, Any]] = []

        async def enough() -> bool:
            found[:] = [m for m in await self.sink() if match(m)]
            return len(found) >= count

        await self.service.wait_for(enough, timeout=30)
        return found

    async def rows(self) -> list[dict[str, Any]]:
        """The notifications table, oldest first."""
        async with self.service.runtime.recorder.pool.acquire() as connection:
            rows = await connection.fetch("SELECT * FROM notifications ORDER BY created_at")
        return [dict(row) for row in rows]

    async def outcomes(self) -> list[NotificationSent | NotificationFailed]:
        """The NotificationSent and NotificationFailed events the service stored."""
        return [
            r.event
            for r in await self.service.runtime.store.read_all(0)
            if isinstance(r.event, NotificationSent | NotificationFailed)
        ]

    async def settled(self, count: int) -> bool:
        """Whether ``count`` notifications ended (NotificationSent or NotificationFailed)."""
        return len(await self.outcomes()) >= count

    async def address_of(self, user_id: uuid.UUID) -> str | None:
        """The address the recipients model holds for ``user_id``."""
        async with self.service.runtime.recorder.pool.acquire() as connection:
            email: str | None = await connection.fetchval(
                "SELECT email FROM notification_recipients WHERE user_id = $1", user_id
            )
        return email

    def handled(self, outcome: str) -> float:
        """How many events the service's own handlers took with ``outcome``."""
        return sum(
            sample.value
            for metric in self.service.runtime.metrics.registry.collect()
            for sample in metric.samples
            if sample.name == "evp_events_handled_total"
            and sample.labels.get("group") == "notifications"
            and sample.labels.get("outcome") == outcome
        )


@contextlib.asynccontextmanager
async def mailroom(
    settings: ServiceSettings, messaging: MessagingSettings
) -> AsyncIterator[Mailroom]:
    """Start the notifications service (settings from the environment) and a bus to feed it."""
    keys = KeySet.generate()
    verifier = TokenVerifier.local(keys, issuer="evp-users", audience="evp")
    issuer = TokenIssuer(keys, issuer="evp-users", audience="evp")
    async with (
        running_service(service, settings, verifier=verifier) as running,
        EventBus(messaging, service="test") as bus,
    ):
        yield Mailroom(running, bus, issuer)
