"""Helpers of the inventory's tests: products over HTTP, saga events, stored events, rows."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, TypeVar

from evp.avro import Event
from evp.events import Currency, OrderLine, OrderPlaced, StockHeld
from evp.messaging import EventBus
from evp.service.testing import RunningService

E = TypeVar("E", bound=Event)


async def add_product(
    inventory: RunningService, admin: dict[str, str], sku: str, stock: int = 0
) -> None:
    """Add ``sku`` at 10.00 EUR with ``stock`` units, as an admin would."""
    body = {"sku": sku, "name": f"Product {sku}", "price": "10.00", "currency": "EUR"}
    response = await inventory.http.post("/products", json={**body, "stock": stock}, headers=admin)
    assert response.status_code == 201, response.text


async def place_order(bus: EventBus, *lines: tuple[str, int]) -> uuid.UUID:
    """Publish ``OrderPlaced`` for ``lines`` as the orders service would; the order's id."""
    order_id = uuid.uuid4()
    await bus.publish(order_placed(order_id, *lines))
    return order_id


def order_placed(order_id: uuid.UUID, *lines: tuple[str, int]) -> OrderPlaced:
    """An ``OrderPlaced`` of ``lines`` at 10.00 EUR each."""
    return OrderPlaced.new(
        order_id=order_id,
        user_id=uuid.uuid4(),
        lines=[OrderLine(sku=s, quantity=q, unit_price=Decimal("10.00")) for s, q in lines],
        total=sum((Decimal("10.00") * q for _, q in lines), Decimal("0.00")),
        currency=Currency.EUR,
        source="orders",
    )


async def stored(inventory: RunningService, kind: type[E]) -> list[E]:
    """The events of ``kind`` the service stored, oldest first."""
    return [r.event for r in await inventory.runtime.store.read_all(0) if isinstance(r.event, kind)]


async def answers(inventory: RunningService, kind: type[E], order_id: uuid.UUID) -> list[E]:
    """The events of ``kind`` the service stored for ``order_id``."""
    return [e for e in await stored(inventory, kind) if getattr(e, "order_id", None) == order_id]


async def has(inventory: RunningService, kind: type[Event], order_id: uuid.UUID) -> bool:
    """Whether the service stored an event of ``kind`` for ``order_id``."""
    return bool(await answers(inventory, kind, order_id))


async def held_by(inventory: RunningService, order_id: uuid.UUID) -> StockHeld:
    """The order's ``StockHeld``, once the service stored it."""
    await inventory.wait_for(lambda: has(inventory, StockHeld, order_id))
    (held,) = await answers(inventory, StockHeld, order_id)
    return held


async def stock_row(inventory: RunningService, sku: str) -> dict[str, Any]:
    """The product's stock columns: added, held, reserved and available."""
    async with inventory.runtime.recorder.pool.acquire() as connection:
        row = await connection.fetchrow(
            "SELECT added, held, reserved, added - held - reserved AS available"
            " FROM products WHERE sku = $1",
            sku,
        )
    assert row is not None
    return dict(row)
