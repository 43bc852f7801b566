"""What each consumed event calls for: one pending notification, recorded once.

Each handler runs once per event id, and the row it records commits with that mark; the
sender (:mod:`shop.notifications.sender`) sends it. A handler never waits for a recipient:
an order's email is recorded even when the order or its user is not known yet, and is
sent once the read models know them (see :mod:`shop.notifications.ledger`).
"""

from __future__ import annotations

from evp.events import OrderCancelled, OrderConfirmed, UserRegistered
from evp.service import HandlerContext
from shop.notifications import domain, ledger
from shop.notifications.domain import Template

__all__ = ["on_order_cancelled", "on_order_confirmed", "on_user_registered"]


async def on_user_registered(event: UserRegistered, context: HandlerContext) -> None:
    """A new user gets a welcome, at the address they registered with (unless changed)."""
    welcome = ledger.NewNotification(
        template=Template.WELCOME,
        source=event,
        about=event.user_id,
        user_id=event.user_id,
        address_hint=event.email,
        name_hint=event.display_name,
        subject=domain.subject(Template.WELCOME, name=event.display_name),
    )
    await ledger.record(context.transaction.connection, welcome)


async def on_order_confirmed(event: OrderConfirmed, context: HandlerContext) -> None:
    """The user who placed a confirmed order is told so."""
    confirmed = ledger.NewNotification(
        template=Template.ORDER_CONFIRMED,
        source=event,
        about=event.order_id,
        order_id=event.order_id,
        subject=domain.subject(Template.ORDER_CONFIRMED, order_id=event.order_id),
    )
    await ledger.record(context.transaction.connection, confirmed)


async def on_order_cancelled(event: OrderCancelled, context: HandlerContext) -> None:
    """The user who placed a cancelled order is told so, and why."""
    cancelled = ledger.NewNotification(
        template=Template.ORDER_CANCELLED,
        source=event,
        about=event.order_id,
        order_id=event.order_id,
        reason=event.reason,
        detail=event.detail,
        subject=domain.subject(Template.ORDER_CANCELLED, order_id=event.order_id),
    )
    await ledger.record(context.transaction.connection, cancelled)
