"""Holds expire when the order's saga never finishes, so stock cannot leak."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from evp.avro.logical import utc_now
from evp.events import (
    ReleaseReason,
    ReservationFailureReason,
    StockLine,
    StockReleased,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
)
from evp.messaging import EventBus
from shop.inventory.handlers import release_expired
from tests.shop.inventory.conftest import Headers, StartInventory
from tests.shop.inventory.support import (
    add_product,
    answers,
    has,
    held_by,
    place_order,
    stock_row,
    stored,
)


async def test_a_forgotten_hold_expires(
    inventory: StartInventory, admin: Headers, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its expiry a hold is released with StockReleased(EXPIRED), in the order's flow."""
    monkeypatch.setenv("INVENTORY_HOLD_TTL_S", "0.2")
    monkeypatch.setenv("INVENTORY_EXPIRY_INTERVAL_S", "0.05")
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 2))
        held = await held_by(service, order_id)
        await service.wait_for(lambda: has(service, StockReleased, order_id))
        (released,) = await answers(service, StockReleased, order_id)
        book = await stock_row(service, "BOOK-1")
    assert released.reason is ReleaseReason.EXPIRED
    assert released.reservation_id == held.hold_id
    assert released.lines == [StockLine(sku="BOOK-1", quantity=2)]
    assert released.envelope.causation_id == held.envelope.event_id
    assert released.envelope.correlation_id == held.envelope.correlation_id
    assert released.envelope.timestamp >= held.expires_at
    assert book == {"added": 5, "held": 0, "reserved": 0, "available": 5}


async def test_an_expired_hold_cannot_be_reserved(
    inventory: StartInventory, admin: Headers, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payment that succeeds after the hold expired gets StockReservationFailed."""
    monkeypatch.setenv("INVENTORY_HOLD_TTL_S", "0.1")
    monkeypatch.setenv("INVENTORY_EXPIRY_INTERVAL_S", "0.05")
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 2))
        held = await held_by(service, order_id)
        await service.wait_for(lambda: has(service, StockReleased, order_id))
        await bus.publish(
            StockReservationRequested.new(
                order_id=order_id, hold_id=held.hold_id, payment_id=uuid.uuid4(), source="orders"
            )
        )
        await service.wait_for(lambda: has(service, StockReservationFailed, order_id))
        (failed,) = await answers(service, StockReservationFailed, order_id)
    assert failed.reason is ReservationFailureReason.INSUFFICIENT_STOCK


async def test_a_reserved_hold_does_not_expire(
    inventory: StartInventory, admin: Headers, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once paid for, the units stay reserved past the hold's expiry time."""
    monkeypatch.setenv("INVENTORY_HOLD_TTL_S", "0.5")
    monkeypatch.setenv("INVENTORY_EXPIRY_INTERVAL_S", "0.05")
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 2))
        held = await held_by(service, order_id)
        await bus.publish(
            StockReservationRequested.new(
                order_id=order_id, hold_id=held.hold_id, payment_id=uuid.uuid4(), source="orders"
            )
        )
        await service.wait_for(lambda: has(service, StockReserved, order_id))
        await asyncio.sleep((held.expires_at - utc_now()).total_seconds() + 0.3)
        released = await answers(service, StockReleased, order_id)
        book = await stock_row(service, "BOOK-1")
    assert released == []
    assert book == {"added": 5, "held": 0, "reserved": 2, "available": 3}


async def test_replicas_expiring_at_once_release_each_hold_once(
    inventory: StartInventory, admin: Headers, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrent expiry passes skip each other's locked holds: one StockReleased per hold."""
    monkeypatch.setenv("INVENTORY_HOLD_TTL_S", "0.1")
    monkeypatch.setenv("INVENTORY_EXPIRY_INTERVAL_S", "3600")  # only the passes below
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=20)
        orders = [await place_order(bus, ("BOOK-1", 1)) for _ in range(8)]
        for order_id in orders:
            await held_by(service, order_id)
        await asyncio.sleep(0.2)
        now = utc_now()
        passes = await asyncio.gather(
            *(release_expired(service.runtime.store, now) for _ in range(4))
        )
        released = await stored(service, StockReleased)
        book = await stock_row(service, "BOOK-1")
    assert sum(passes) == 8
    assert sorted(str(e.order_id) for e in released) == sorted(str(o) for o in orders)
    assert book == {"added": 20, "held": 0, "reserved": 0, "available": 20}
