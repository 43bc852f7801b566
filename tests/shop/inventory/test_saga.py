"""The inventory's steps of the order saga, fed over Kafka as the orders service feeds them."""

from __future__ import annotations

import asyncio
import datetime
import uuid

from evp.avro.logical import utc_now
from evp.events import (
    ReleaseReason,
    ReleaseRequestReason,
    ReservationFailureReason,
    StockHeld,
    StockLine,
    StockReleased,
    StockReleaseRequested,
    StockReservationFailed,
    StockReservationRequested,
    StockReserved,
    StockShortage,
)
from evp.messaging import EventBus
from evp.service.testing import RunningService
from tests.shop.inventory.conftest import Headers, StartInventory
from tests.shop.inventory.support import (
    add_product,
    answers,
    has,
    held_by,
    order_placed,
    place_order,
    stock_row,
    stored,
)


async def _request_release(
    bus: EventBus, order_id: uuid.UUID, hold_id: uuid.UUID, reason: ReleaseRequestReason
) -> None:
    await bus.publish(
        StockReleaseRequested.new(
            order_id=order_id, hold_id=hold_id, reason=reason, source="orders"
        )
    )


async def _request_reservation(bus: EventBus, order_id: uuid.UUID, hold_id: uuid.UUID) -> None:
    await bus.publish(
        StockReservationRequested.new(
            order_id=order_id, hold_id=hold_id, payment_id=uuid.uuid4(), source="orders"
        )
    )


async def test_an_order_placed_holds_its_stock(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """Every line is held until the hold expires: available drops, held rises."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        await add_product(service, admin, "PEN-1", stock=5)
        before = utc_now()
        order_id = await place_order(bus, ("BOOK-1", 2), ("PEN-1", 1), ("BOOK-1", 1))
        held = await held_by(service, order_id)
        book, pen = await stock_row(service, "BOOK-1"), await stock_row(service, "PEN-1")
        shown = (await service.http.get("/products/BOOK-1")).json()
    assert held.lines == [StockLine(sku="BOOK-1", quantity=3), StockLine(sku="PEN-1", quantity=1)]
    ttl = datetime.timedelta(seconds=900)
    assert before + ttl <= held.expires_at <= utc_now() + ttl
    assert book == {"added": 5, "held": 3, "reserved": 0, "available": 2}
    assert pen == {"added": 5, "held": 1, "reserved": 0, "available": 4}
    assert shown["available"] == 2


async def test_the_answer_continues_the_orders_flow(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """StockHeld is caused by the OrderPlaced it answers, in the same correlation."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        placed = order_placed(uuid.uuid4(), ("BOOK-1", 1))
        await bus.publish(placed)
        held = await held_by(service, placed.order_id)
    assert held.envelope.causation_id == placed.envelope.event_id
    assert held.envelope.correlation_id == placed.envelope.correlation_id


async def test_an_order_for_more_than_is_available_holds_nothing(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """Too few units of one line: StockReservationFailed names the shortage, no line is held."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        await add_product(service, admin, "PEN-1", stock=1)
        order_id = await place_order(bus, ("BOOK-1", 2), ("PEN-1", 3))
        await service.wait_for(lambda: has(service, StockReservationFailed, order_id))
        (failed,) = await answers(service, StockReservationFailed, order_id)
        book = await stock_row(service, "BOOK-1")
    assert failed.reason is ReservationFailureReason.INSUFFICIENT_STOCK
    assert failed.shortages == [StockShortage(sku="PEN-1", requested=3, available=1)]
    assert book == {"added": 5, "held": 0, "reserved": 0, "available": 5}


async def test_an_order_of_an_unknown_sku_holds_nothing(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """A line of no product: StockReservationFailed(UNKNOWN_SKU) naming it."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 1), ("GHOST", 1))
        await service.wait_for(lambda: has(service, StockReservationFailed, order_id))
        (failed,) = await answers(service, StockReservationFailed, order_id)
        book = await stock_row(service, "BOOK-1")
    assert failed.reason is ReservationFailureReason.UNKNOWN_SKU
    assert failed.shortages == [StockShortage(sku="GHOST", requested=1, available=0)]
    assert book["held"] == 0


async def test_a_second_order_placed_for_the_same_order_changes_nothing(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """The same order placed again (a new event id) holds nothing more."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 2))
        await held_by(service, order_id)
        await bus.publish(order_placed(order_id, ("BOOK-1", 2)))
        marker = await place_order(bus, ("BOOK-1", 1))  # same topic, handled after it
        await held_by(service, marker)
        held = await answers(service, StockHeld, order_id)
        failed = await answers(service, StockReservationFailed, order_id)
        book = await stock_row(service, "BOOK-1")
    assert len(held) == 1
    assert failed == []
    assert book["held"] == 3


async def test_a_paid_order_reserves_its_hold(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """StockReservationRequested turns the hold into a reservation with the hold's id."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 2))
        held = await held_by(service, order_id)
        await _request_reservation(bus, order_id, held.hold_id)
        await service.wait_for(lambda: has(service, StockReserved, order_id))
        (reserved,) = await answers(service, StockReserved, order_id)
        book = await stock_row(service, "BOOK-1")
    assert reserved.reservation_id == held.hold_id
    assert reserved.lines == [StockLine(sku="BOOK-1", quantity=2)]
    assert book == {"added": 5, "held": 0, "reserved": 2, "available": 3}


async def test_reserving_a_released_hold_fails(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """A hold that is gone cannot be reserved: StockReservationFailed(INSUFFICIENT_STOCK)."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 2))
        held = await held_by(service, order_id)
        await _request_release(bus, order_id, held.hold_id, ReleaseRequestReason.TIMED_OUT)
        await _request_reservation(bus, order_id, held.hold_id)
        await service.wait_for(lambda: has(service, StockReservationFailed, order_id))
        (failed,) = await answers(service, StockReservationFailed, order_id)
        reserved = await answers(service, StockReserved, order_id)
        book = await stock_row(service, "BOOK-1")
    assert failed.reason is ReservationFailureReason.INSUFFICIENT_STOCK
    assert reserved == []
    assert book == {"added": 5, "held": 0, "reserved": 0, "available": 5}


async def test_a_failed_payment_releases_the_hold(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """StockReleaseRequested(PAYMENT_FAILED) gives the units back: StockReleased with them."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 2))
        held = await held_by(service, order_id)
        await _request_release(bus, order_id, held.hold_id, ReleaseRequestReason.PAYMENT_FAILED)
        await service.wait_for(lambda: has(service, StockReleased, order_id))
        (released,) = await answers(service, StockReleased, order_id)
        book = await stock_row(service, "BOOK-1")
    assert released.reason is ReleaseReason.PAYMENT_FAILED
    assert released.reservation_id == held.hold_id
    assert released.lines == [StockLine(sku="BOOK-1", quantity=2)]
    assert book == {"added": 5, "held": 0, "reserved": 0, "available": 5}


async def test_a_cancelled_order_releases_its_reservation(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """A customer's cancellation after payment gives reserved units back (ORDER_CANCELLED)."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 2))
        held = await held_by(service, order_id)
        await _request_reservation(bus, order_id, held.hold_id)
        await _request_release(bus, order_id, held.hold_id, ReleaseRequestReason.CUSTOMER_REQUEST)
        await service.wait_for(lambda: has(service, StockReleased, order_id))
        (released,) = await answers(service, StockReleased, order_id)
        book = await stock_row(service, "BOOK-1")
    assert released.reason is ReleaseReason.ORDER_CANCELLED
    assert released.lines == [StockLine(sku="BOOK-1", quantity=2)]
    assert book == {"added": 5, "held": 0, "reserved": 0, "available": 5}


async def test_every_release_request_is_answered_once(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """Two release requests get two StockReleased; the second gives nothing back."""
    async with inventory() as service:
        await add_product(service, admin, "BOOK-1", stock=5)
        order_id = await place_order(bus, ("BOOK-1", 2))
        held = await held_by(service, order_id)
        for _ in range(2):
            await _request_release(bus, order_id, held.hold_id, ReleaseRequestReason.TIMED_OUT)
        await service.wait_for(lambda: _count(service, StockReleased, order_id, 2), timeout=15)
        first, second = await answers(service, StockReleased, order_id)
        book = await stock_row(service, "BOOK-1")
    assert first.lines == [StockLine(sku="BOOK-1", quantity=2)]
    assert second.lines == []
    assert {first.reason, second.reason} == {ReleaseReason.TIMED_OUT}
    assert book["available"] == 5


async def test_releasing_an_order_never_held_is_answered_with_no_lines(
    inventory: StartInventory, bus: EventBus
) -> None:
    """A release request for an unknown order still gets its StockReleased, empty."""
    async with inventory() as service:
        order_id, hold_id = uuid.uuid4(), uuid.uuid4()
        await _request_release(bus, order_id, hold_id, ReleaseRequestReason.TIMED_OUT)
        await service.wait_for(lambda: has(service, StockReleased, order_id))
        (released,) = await answers(service, StockReleased, order_id)
    assert (released.reservation_id, released.lines) == (hold_id, [])


async def test_the_last_items_are_never_oversold_to_concurrent_orders(
    inventory: StartInventory, admin: Headers, bus: EventBus
) -> None:
    """Ten orders for the last three units, published at once: exactly three are held."""
    async with inventory() as service:
        await add_product(service, admin, "LAST-1", stock=3)
        placed = [order_placed(uuid.uuid4(), ("LAST-1", 1)) for _ in range(10)]
        await asyncio.gather(*(bus.publish(event) for event in placed))
        await service.wait_for(lambda: _answered(service, 10), timeout=30)
        held = await stored(service, StockHeld)
        failed = await stored(service, StockReservationFailed)
        book = await stock_row(service, "LAST-1")
    assert len(held) == 3
    assert len(failed) == 7
    assert {f.reason for f in failed} == {ReservationFailureReason.INSUFFICIENT_STOCK}
    assert book == {"added": 3, "held": 3, "reserved": 0, "available": 0}


async def _count(
    service: RunningService, kind: type[StockReleased], order_id: uuid.UUID, n: int
) -> bool:
    return len(await answers(service, kind, order_id)) >= n


async def _answered(service: RunningService, n: int) -> bool:
    held = await stored(service, StockHeld)
    failed = await stored(service, StockReservationFailed)
    return len(held) + len(failed) >= n
