"""The orders service's tables and read models.

* ``orders_by_user`` (from the store): each customer's orders, newest first, for
  ``GET /orders``;
* ``order_sagas`` (from the store): each saga's running step and since when, for
  ``GET /sagas``;
* ``catalogue`` (from Kafka: inventory's ProductAdded): the price of each SKU, read when an
  order is placed.

Beside them, tables the saga writes in the transactions of its events: ``saga_deadlines``
(one running deadline per order), ``order_idempotency_keys`` and ``order_payment_tokens``.
"""

from __future__ import annotations

from evp.avro import Event
from evp.events import OrderCancelled, OrderConfirmed, OrderPlaced, ProductAdded
from evp.eventstore import PostgresTransaction
from evp.postgres import Migration
from shop.orders.saga import ORDER_SAGA

__all__ = ["MIGRATIONS", "PROJECTIONS", "Catalogue", "OrderSagas", "OrdersByUser"]

MIGRATIONS = (
    Migration(
        1,
        "orders",
        """
        CREATE TABLE saga_deadlines (
            order_id uuid        PRIMARY KEY,
            step     text        NOT NULL,
            due_at   timestamptz NOT NULL
        );
        CREATE INDEX saga_deadlines_due_idx ON saga_deadlines (due_at);

        CREATE TABLE order_idempotency_keys (
            user_id      uuid  NOT NULL,
            key          text  NOT NULL,
            request_hash text  NOT NULL,
            order_id     uuid  NOT NULL,
            PRIMARY KEY (user_id, key)
        );

        CREATE TABLE order_payment_tokens (
            order_id uuid PRIMARY KEY,
            token    text NOT NULL
        );

        CREATE TABLE orders_by_user (
            order_id  uuid          PRIMARY KEY,
            user_id   uuid          NOT NULL,
            placed_at timestamptz   NOT NULL,
            status    text          NOT NULL,
            total     numeric(12,2) NOT NULL,
            currency  text          NOT NULL
        );
        CREATE INDEX orders_by_user_newest_idx
            ON orders_by_user (user_id, placed_at DESC, order_id DESC);

        CREATE TABLE order_sagas (
            order_id   uuid        PRIMARY KEY,
            user_id    uuid        NOT NULL,
            step       text,
            state      text        NOT NULL,
            started_at timestamptz NOT NULL,
            step_since timestamptz NOT NULL
        );
        CREATE INDEX order_sagas_state_idx ON order_sagas (state, started_at);

        CREATE TABLE catalogue (
            sku      text          PRIMARY KEY,
            name     text          NOT NULL,
            price    numeric(12,2) NOT NULL,
            currency text          NOT NULL
        );
        """,
    ),
)


class OrdersByUser:
    """Each customer's orders with their status, for listing newest first."""

    name = "orders_by_user"
    event_types = frozenset(
        {OrderPlaced.FULL_NAME, OrderConfirmed.FULL_NAME, OrderCancelled.FULL_NAME}
    )

    async def handle(self, event: Event, transaction: PostgresTransaction) -> None:
        """Insert a placed order; set the status of a confirmed or cancelled one."""
        connection = transaction.connection
        match event:
            case OrderPlaced():
                await connection.execute(
                    "INSERT INTO orders_by_user"
                    " (order_id, user_id, placed_at, status, total, currency)"
                    " VALUES ($1, $2, $3, 'PENDING', $4, $5) ON CONFLICT DO NOTHING",
                    event.order_id,
                    event.user_id,
                    event.envelope.timestamp,
                    event.total,
                    event.currency.value,
                )
            case OrderConfirmed() | OrderCancelled():
                # Only the first terminal event counts: one order, one terminal state.
                status = "CONFIRMED" if isinstance(event, OrderConfirmed) else "CANCELLED"
                await connection.execute(
                    "UPDATE orders_by_user SET status = $2"
                    " WHERE order_id = $1 AND status = 'PENDING'",
                    event.order_id,
                    status,
                )

    async def reset(self, transaction: PostgresTransaction) -> None:
        """Delete every row."""
        await transaction.connection.execute("DELETE FROM orders_by_user")


class OrderSagas:
    """Each order saga's running step and since when (``state`` running or done)."""

    name = "order_sagas"
    event_types = frozenset(
        {step.started_by.FULL_NAME for step in ORDER_SAGA.steps}
        | {event.FULL_NAME for event in ORDER_SAGA.ends_with}
    )

    async def handle(self, event: Event, transaction: PostgresTransaction) -> None:
        """A step's command moves the saga to that step; an end event makes it done."""
        connection = transaction.connection
        at = event.envelope.timestamp
        if isinstance(event, OrderPlaced):
            await connection.execute(
                "INSERT INTO order_sagas (order_id, user_id, step, state, started_at, step_since)"
                " VALUES ($1, $2, $3, 'running', $4, $4) ON CONFLICT DO NOTHING",
                event.order_id,
                event.user_id,
                ORDER_SAGA.steps[0].name,
                at,
            )
            return
        order_id = getattr(event, "order_id", None)
        if type(event) in ORDER_SAGA.ends_with:
            await connection.execute(
                "UPDATE order_sagas SET step = NULL, state = 'done', step_since = $2"
                " WHERE order_id = $1 AND state = 'running'",
                order_id,
                at,
            )
            return
        step = ORDER_SAGA.step_started_by(event)
        if step is not None:
            # A command emitted after the end (a late hold's release) does not restart it.
            await connection.execute(
                "UPDATE order_sagas SET step = $2, step_since = $3"
                " WHERE order_id = $1 AND state = 'running'",
                order_id,
                step.name,
                at,
            )

    async def reset(self, transaction: PostgresTransaction) -> None:
        """Delete every row."""
        await transaction.connection.execute("DELETE FROM order_sagas")


class Catalogue:
    """The price and currency of every SKU inventory announced (ProductAdded, from Kafka)."""

    name = "catalogue"
    event_types = frozenset({ProductAdded.FULL_NAME})

    async def handle(self, event: Event, transaction: PostgresTransaction) -> None:
        """Add a product, or take its new name and price."""
        if isinstance(event, ProductAdded):
            await transaction.connection.execute(
                "INSERT INTO catalogue (sku, name, price, currency) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (sku) DO UPDATE SET name = excluded.name,"
                " price = excluded.price, currency = excluded.currency",
                event.sku,
                event.name,
                event.price,
                event.currency.value,
            )

    async def reset(self, transaction: PostgresTransaction) -> None:
        """Delete every row (it is rebuilt from Kafka, not from the store)."""
        await transaction.connection.execute("DELETE FROM catalogue")


PROJECTIONS = (OrdersByUser(), OrderSagas(), Catalogue())
