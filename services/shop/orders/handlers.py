"""The saga's drivers: replies from Kafka, deadlines from the poller, the start-up check.

Each reply is handled once per event id (the kit's claim) in a store transaction: the
reply is appended to the order's stream as a record (it is inventory's or payments' event;
``Service(records=...)`` keeps the relay from publishing it again), followed by the
commands it caused, and the deadline row changes in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from evp.events import (
    PaymentFailed,
    PaymentProcessed,
    PaymentRefunded,
    StockHeld,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from evp.eventstore.errors import EventStoreError
from evp.service import HandlerContext, ServiceRuntime
from shop.orders.participants import RegistryLatestSchemas, check_participants
from shop.orders.repository import OrderStore
from shop.orders.saga import ORDER_SAGA
from shop.orders.settings import OrdersSettings

__all__ = [
    "REPLIES",
    "Reply",
    "check_saga_participants",
    "on_reply",
    "orders_of",
    "poll_deadlines",
    "start",
]

_log = logging.getLogger("shop.orders")

Reply = (
    StockHeld
    | StockReservationFailed
    | StockReserved
    | StockReleased
    | PaymentProcessed
    | PaymentFailed
    | PaymentRefunded
)
REPLIES = (
    StockHeld,
    StockReservationFailed,
    StockReserved,
    StockReleased,
    PaymentProcessed,
    PaymentFailed,
    PaymentRefunded,
)
"""What the saga consumes; each is recorded in the order's stream, never republished."""


def orders_of(runtime: ServiceRuntime) -> OrderStore:
    """The orders of a running service, set up (settings read) on first use.

    Consumers start before the start-up hooks run, so a reply waiting in Kafka may be
    handled before :func:`start`; either sets this up, once.
    """
    orders = runtime.state.get("orders")
    if not isinstance(orders, OrderStore):
        settings = OrdersSettings.from_env()
        runtime.state["settings"] = settings
        orders = runtime.state["orders"] = OrderStore(runtime.store, runtime.recorder, settings)
    return orders


async def start(runtime: ServiceRuntime) -> None:
    """Read the settings (failing start-up when one is malformed) and set up the orders."""
    orders_of(runtime)


async def check_saga_participants(runtime: ServiceRuntime) -> None:
    """Refuse to start when a reply the saga waits for cannot read its latest schema."""
    latest = RegistryLatestSchemas(runtime.settings.messaging)
    checked = await asyncio.to_thread(check_participants, ORDER_SAGA, latest)
    _log.info("orders: the %d replies of the order saga are readable", checked)


async def on_reply(event: Reply, context: HandlerContext) -> None:
    """Record a reply in its order's stream and emit what the saga does about it."""
    await orders_of(context.runtime).decide(context.transaction, event.order_id, event)


async def poll_deadlines(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    """Fire due deadlines, each once, until the service stops.

    A deadline row outlives a restart (it is a table row), and is deleted in the
    transaction that appends what firing it emitted: it fires once.
    """
    orders = orders_of(runtime)
    interval = orders.settings.deadline_poll_interval
    while not stop.is_set():
        try:
            fired = await orders.fire_due_deadline()
        except (EventStoreError, asyncpg.PostgresError, OSError) as error:
            # Transient (the database restarting, a conflicting append): the row is still
            # there, so the next poll fires it.
            _log.warning("orders: firing a deadline failed, retrying: %s", error)
            fired = False
        if not fired:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
