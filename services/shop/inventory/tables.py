"""The inventory's own tables: products with their stock levels, and each order's hold.

They change only inside a transaction that also appends the events saying so (a
handler's, a route's or the expiry task's), so state and events commit together or not
at all. Rows are locked before they are read for a change, always in the same order (the
order's hold first, then products by SKU), so concurrent steps wait for each other
instead of deadlocking; ``CHECK`` constraints refuse negative or oversold stock as the
last line of defence.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import uuid
from collections.abc import Collection, Iterable
from typing import Any

from evp.events import Currency, StockLine
from evp.postgres import Migration
from evp.postgres.migrations import AnyConnection
from shop.inventory.domain import Hold, HoldState, StockLevel

__all__ = [
    "MIGRATIONS",
    "Product",
    "StoredHold",
    "expiring_holds",
    "hold_stream",
    "insert_product",
    "lock_hold",
    "lock_levels",
    "lock_product",
    "product",
    "product_page",
    "product_stream",
    "save_hold",
    "save_levels",
    "save_product_version",
]

MIGRATIONS = (
    Migration(
        1,
        "products_and_holds",
        """
CREATE TABLE products (
    sku            text PRIMARY KEY,
    position       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    name           text NOT NULL,
    price          numeric(12, 2) NOT NULL CHECK (price > 0),
    currency       text NOT NULL,
    added          integer NOT NULL DEFAULT 0 CHECK (added >= 0),
    held           integer NOT NULL DEFAULT 0 CHECK (held >= 0),
    reserved       integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    stream_version integer NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_never_oversold CHECK (added - held - reserved >= 0)
);

CREATE TABLE holds (
    order_id       uuid PRIMARY KEY,
    hold_id        uuid NOT NULL,
    state          text NOT NULL CHECK (state IN ('held', 'reserved', 'released', 'refused')),
    lines          jsonb NOT NULL DEFAULT '[]',
    expires_at     timestamptz,
    flow           uuid,
    cause          uuid,
    stream_version integer NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX holds_expiring ON holds (expires_at) WHERE state = 'held';
""",
    ),
)


def product_stream(sku: str) -> str:
    """The stream of a product's events (added, stock added)."""
    return f"product-{sku}"


def hold_stream(order_id: uuid.UUID) -> str:
    """The stream of an order's stock events (held, refused, reserved, released)."""
    return f"hold-{order_id}"


# -- products ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Product:
    """A product as the API shows it, with the units available now."""

    sku: str
    name: str
    price: decimal.Decimal
    currency: Currency
    available: int
    position: int
    """Its place in the catalogue, in the order products were added (a page's cursor)."""


_PRODUCT = "SELECT sku, name, price, currency, added - held - reserved, position FROM products"


def _product(row: Any) -> Product:
    sku, name, price, currency, available, position = row
    return Product(sku, name, price, Currency[currency], available, position)


async def insert_product(
    connection: AnyConnection,
    *,
    sku: str,
    name: str,
    price: decimal.Decimal,
    currency: Currency,
    stock: int,
    stream_version: int,
) -> Product | None:
    """Add a product with ``stock`` units; ``None`` when the SKU is taken."""
    row = await connection.fetchrow(
        "INSERT INTO products (sku, name, price, currency, added, stream_version)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sku) DO NOTHING"
        " RETURNING sku, name, price, currency, added - held - reserved, position",
        sku,
        name,
        price,
        currency.value,
        stock,
        stream_version,
    )
    return None if row is None else _product(row)


async def product(connection: AnyConnection, sku: str) -> Product | None:
    """The product with ``sku``, if any."""
    row = await connection.fetchrow(f"{_PRODUCT} WHERE sku = $1", sku)
    return None if row is None else _product(row)


async def product_page(
    connection: AnyConnection, *, before: int | None, limit: int
) -> list[Product]:
    """Up to ``limit`` products, newest first, added before position ``before`` if given."""
    rows = await connection.fetch(
        f"{_PRODUCT} WHERE $1::bigint IS NULL OR position < $1 ORDER BY position DESC LIMIT $2",
        before,
        limit,
    )
    return [_product(row) for row in rows]


async def lock_product(connection: AnyConnection, sku: str) -> tuple[StockLevel, int] | None:
    """The product's stock level and stream version, its row locked; ``None`` if unknown."""
    row = await connection.fetchrow(
        "SELECT sku, added, held, reserved, stream_version FROM products WHERE sku = $1 FOR UPDATE",
        sku,
    )
    if row is None:
        return None
    return StockLevel(row[0], row[1], row[2], row[3]), row[4]


async def save_product_version(connection: AnyConnection, sku: str, stream_version: int) -> None:
    """Record that the product's stream is at ``stream_version``."""
    await connection.execute(
        "UPDATE products SET stream_version = $2 WHERE sku = $1", sku, stream_version
    )


async def lock_levels(connection: AnyConnection, skus: Collection[str]) -> list[StockLevel]:
    """The stock levels of the known ``skus``, their rows locked in SKU order."""
    if not skus:
        return []
    # Rows are locked in the ORDER BY order: every transaction takes them in one order.
    rows = await connection.fetch(
        "SELECT sku, added, held, reserved FROM products"
        " WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE",
        sorted(skus),
    )
    return [StockLevel(row[0], row[1], row[2], row[3]) for row in rows]


async def save_levels(connection: AnyConnection, levels: Iterable[StockLevel]) -> None:
    """Write the stock levels back (their rows locked by :func:`lock_levels`)."""
    rows = [(level.sku, level.added, level.held, level.reserved) for level in levels]
    if rows:
        await connection.executemany(
            "UPDATE products SET added = $2, held = $3, reserved = $4 WHERE sku = $1", rows
        )


# -- holds ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class StoredHold:
    """An order's hold with what its row keeps beside it."""

    hold: Hold
    stream_version: int
    """How many events the order's stream has (the next append's expected version)."""
    flow: uuid.UUID | None = None
    """The correlation id of the order's saga, which an expiry continues."""
    cause: uuid.UUID | None = None
    """The id of the event that placed the hold, which an expiry answers."""


_HOLD = "SELECT order_id, hold_id, state, lines, expires_at, flow, cause, stream_version FROM holds"


def _stored_hold(row: Any) -> StoredHold:
    order_id, hold_id, state, lines, expires_at, flow, cause, version = row
    hold = Hold(
        order_id,
        hold_id,
        HoldState(state),
        tuple(StockLine(sku=sku, quantity=quantity) for sku, quantity in json.loads(lines)),
        expires_at,
    )
    return StoredHold(hold, version, flow, cause)


async def lock_hold(connection: AnyConnection, order_id: uuid.UUID) -> StoredHold | None:
    """The order's hold, its row locked; ``None`` when the order was never seen."""
    row = await connection.fetchrow(f"{_HOLD} WHERE order_id = $1 FOR UPDATE", order_id)
    return None if row is None else _stored_hold(row)


async def expiring_holds(
    connection: AnyConnection, now: datetime.datetime, *, limit: int
) -> list[StoredHold]:
    """Up to ``limit`` holds held past their expiry, locked; rows another transaction has
    locked are skipped (a replica expiring them, or a saga step in flight)."""
    rows = await connection.fetch(
        f"{_HOLD} WHERE state = 'held' AND expires_at < $1"
        " ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [_stored_hold(row) for row in rows]


async def save_hold(connection: AnyConnection, stored: StoredHold) -> None:
    """Write the order's hold (a new row, or over the one :func:`lock_hold` locked).

    Two first writers of one order cannot both commit: their appends to the order's
    stream expect the same version, and the loser rolls back.
    """
    hold = stored.hold
    await connection.execute(
        "INSERT INTO holds"
        " (order_id, hold_id, state, lines, expires_at, flow, cause, stream_version)"
        " VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)"
        " ON CONFLICT (order_id) DO UPDATE SET hold_id = EXCLUDED.hold_id,"
        " state = EXCLUDED.state, lines = EXCLUDED.lines, expires_at = EXCLUDED.expires_at,"
        " flow = EXCLUDED.flow, cause = EXCLUDED.cause,"
        " stream_version = EXCLUDED.stream_version, updated_at = now()",
        hold.order_id,
        hold.hold_id,
        hold.state.value,
        json.dumps([[line.sku, line.quantity] for line in hold.lines]),
        hold.expires_at,
        stored.flow,
        stored.cause,
        stored.stream_version,
    )
