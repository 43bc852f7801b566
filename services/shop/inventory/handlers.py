"""The inventory's steps of the order saga, and the task that expires forgotten holds.

Each step locks the order's hold and then the products of its lines (in SKU order), lets
:class:`~shop.inventory.domain.Inventory` decide, and writes the new levels, the hold and
the event answering the saga in the handler's transaction: all of it commits with the
mark that the event was handled, or none of it does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
import uuid

import asyncpg

from evp.avro import Event
from evp.avro.logical import utc_now
from evp.events import (
    OrderPlaced,
    ReleaseReason,
    ReleaseRequestReason,
    ReservationFailureReason,
    StockHeld,
    StockReleased,
    StockReleaseRequested,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
)
from evp.eventstore.errors import ConcurrencyError, RecorderError
from evp.eventstore.postgres import PostgresTransaction
from evp.eventstore.store import EventStore
from evp.postgres.migrations import AnyConnection
from evp.service import HandlerContext, ServiceRuntime
from shop.inventory import tables
from shop.inventory.domain import Inventory, Refusal, requested_lines
from shop.inventory.settings import settings_of
from shop.inventory.tables import StoredHold

__all__ = [
    "EXPIRY_BATCH",
    "SOURCE",
    "expire_holds",
    "on_order_placed",
    "on_release_requested",
    "on_reservation_requested",
    "release_expired",
]

SOURCE = "inventory"
EXPIRY_BATCH = 100
"""Holds expired per transaction, so one pass never locks a great many rows at once."""

_RELEASE_REASONS = {
    ReleaseRequestReason.PAYMENT_FAILED: ReleaseReason.PAYMENT_FAILED,
    ReleaseRequestReason.TIMED_OUT: ReleaseReason.TIMED_OUT,
    ReleaseRequestReason.CUSTOMER_REQUEST: ReleaseReason.ORDER_CANCELLED,
}

_TRANSIENT = (
    ConcurrencyError,
    RecorderError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.InterfaceError,
    OSError,
)
"""What a pass of the expiry task may meet and try again later (the database away, a lost
race); anything else is a bug and ends the task, which readiness then reports."""

_log = logging.getLogger("shop.inventory")


async def on_order_placed(event: OrderPlaced, context: HandlerContext) -> None:
    """Hold every line of the order, or none and say why (``StockReservationFailed``)."""
    connection = context.transaction.connection
    stored = await tables.lock_hold(connection, event.order_id)
    if stored is not None:
        return  # decided before: a second OrderPlaced for the order changes nothing
    lines = requested_lines((line.sku, line.quantity) for line in event.lines)
    inventory = Inventory(await tables.lock_levels(connection, {line.sku for line in lines}))
    ttl = datetime.timedelta(seconds=settings_of(context.runtime).hold_ttl_s)
    expires_at = utc_now() + ttl
    outcome = inventory.hold(event.order_id, lines, hold_id=uuid.uuid4(), expires_at=expires_at)
    if outcome is None:
        return  # decided before
    answer: Event
    if isinstance(outcome, Refusal):
        answer = _failed(event, event.order_id, outcome)
    else:
        answer = StockHeld.new(
            hold_id=outcome.hold_id,
            order_id=event.order_id,
            lines=list(outcome.lines),
            expires_at=expires_at,
            source=SOURCE,
            caused_by=event,
        )
    await _commit(context, inventory, event.order_id, None, answer)


async def on_reservation_requested(
    event: StockReservationRequested, context: HandlerContext
) -> None:
    """The order paid: its hold becomes a reservation (``StockReserved``), or, when the
    hold is gone (expired, released), ``StockReservationFailed``."""
    connection = context.transaction.connection
    stored, inventory = await _load(connection, event.order_id)
    reserved = inventory.reserve(event.order_id, event.hold_id)
    answer: Event
    if reserved is None:
        answer = _failed(
            event, event.order_id, Refusal(ReservationFailureReason.INSUFFICIENT_STOCK)
        )
    else:
        answer = StockReserved.new(
            reservation_id=reserved.hold_id,
            order_id=event.order_id,
            lines=list(reserved.lines),
            source=SOURCE,
            caused_by=event,
        )
    await _commit(context, inventory, event.order_id, stored, answer)


async def on_release_requested(event: StockReleaseRequested, context: HandlerContext) -> None:
    """Give back what the order holds or reserved; every request gets its
    ``StockReleased`` (with no lines when nothing was held any more)."""
    connection = context.transaction.connection
    stored, inventory = await _load(connection, event.order_id)
    released = inventory.release(event.order_id, hold_id=event.hold_id)
    answer = StockReleased.new(
        reservation_id=released.hold_id,
        order_id=event.order_id,
        lines=list(released.lines),
        reason=_RELEASE_REASONS.get(event.reason, ReleaseReason.UNKNOWN),
        source=SOURCE,
        caused_by=event,
    )
    await _commit(context, inventory, event.order_id, stored, answer)


async def release_expired(store: EventStore[PostgresTransaction], now: datetime.datetime) -> int:
    """Release up to :data:`EXPIRY_BATCH` holds held past their expiry at ``now``, each
    with ``StockReleased(EXPIRED)`` in its saga's flow; how many were released."""
    async with store.transaction() as transaction:
        connection = transaction.connection
        expiring = await tables.expiring_holds(connection, now, limit=EXPIRY_BATCH)
        if not expiring:
            return 0
        skus = {line.sku for stored in expiring for line in stored.hold.lines}
        inventory = Inventory(
            await tables.lock_levels(connection, skus), [s.hold for s in expiring]
        )
        released = {hold.order_id: hold for hold in inventory.expire(now)}
        await tables.save_levels(connection, inventory.levels.values())
        for stored in expiring:
            hold = released[stored.hold.order_id]
            answer = _linked(
                StockReleased.new(
                    reservation_id=hold.hold_id,
                    order_id=hold.order_id,
                    lines=list(hold.lines),
                    reason=ReleaseReason.EXPIRED,
                    source=SOURCE,
                    correlation_id=stored.flow,
                ),
                cause=stored.cause,
            )
            version = stored.stream_version + 1
            await tables.save_hold(
                connection, dataclasses.replace(stored, hold=hold, stream_version=version)
            )
            await store.append(
                tables.hold_stream(hold.order_id),
                [answer],
                expected_version=stored.stream_version,
                transaction=transaction,
            )
        return len(released)


async def expire_holds(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    """Until ``stop`` is set, release expired holds every ``INVENTORY_EXPIRY_INTERVAL_S``."""
    interval = settings_of(runtime).expiry_interval_s
    while not stop.is_set():
        try:
            while await release_expired(runtime.store, utc_now()) == EXPIRY_BATCH:
                pass  # a full batch: more may be waiting
        except _TRANSIENT as error:
            # The database is down, or a saga step won a race: the next pass tries again.
            _log.warning("inventory: expiring holds failed, retrying: %s", error)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


# -- plumbing ----------------------------------------------------------------------------


async def _load(
    connection: AnyConnection, order_id: uuid.UUID
) -> tuple[StoredHold | None, Inventory]:
    """The order's hold and the stock levels of its lines, locked in that order."""
    stored = await tables.lock_hold(connection, order_id)
    if stored is None:
        return None, Inventory()
    skus = {line.sku for line in stored.hold.lines}
    return stored, Inventory(await tables.lock_levels(connection, skus), [stored.hold])


async def _commit(
    context: HandlerContext,
    inventory: Inventory,
    order_id: uuid.UUID,
    stored: StoredHold | None,
    answer: Event,
) -> None:
    """Write the levels and the order's hold, and append the answer to the order's stream."""
    connection = context.transaction.connection
    await tables.save_levels(connection, inventory.levels.values())
    version = 0 if stored is None else stored.stream_version
    hold = inventory.holds[order_id]
    if stored is None:
        # The saga's flow and this answer, which an expiry of the hold continues.
        new = StoredHold(
            hold, version + 1, answer.envelope.correlation_id, answer.envelope.event_id
        )
    else:
        new = dataclasses.replace(stored, hold=hold, stream_version=version + 1)
    await tables.save_hold(connection, new)
    await context.store.append(tables.hold_stream(order_id), [answer], expected_version=version)


def _failed(cause: Event, order_id: uuid.UUID, refusal: Refusal) -> StockReservationFailed:
    return StockReservationFailed.new(
        order_id=order_id,
        reason=refusal.reason,
        shortages=list(refusal.shortages),
        source=SOURCE,
        caused_by=cause,
    )


def _linked(event: StockReleased, *, cause: uuid.UUID | None) -> StockReleased:
    """``event`` as the answer to the event ``cause`` (an expiry has no handled event)."""
    if cause is None:
        return event
    envelope = dataclasses.replace(event.envelope, causation_id=cause)
    return dataclasses.replace(event, envelope=envelope)
