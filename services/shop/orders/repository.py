"""Orders in the store: loading a saga, running one decision in a transaction, placing.

Every decision about one order runs under a per-order advisory lock taken in the
transaction that appends its events, so replies, deadlines and cancel requests of the same
order are decided one after the other, each on the state the previous one committed (the
append's expected version stays as a second guard). The deadline row is written, or
deleted, in that same transaction.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import uuid

from evp.events import OrderPlaced
from evp.eventstore import PostgresRecorder, PostgresTransaction
from evp.eventstore.store import EventStore
from evp.postgres.migrations import AnyConnection
from shop.orders.domain import Order
from shop.orders.engine import (
    DeadlineChange,
    DeadlinePassed,
    Message,
    Outcome,
    SagaState,
    decide,
    replay,
)
from shop.orders.errors import KeyReused
from shop.orders.saga import ORDER_SAGA
from shop.orders.settings import OrdersSettings

__all__ = [
    "OrderStore",
    "Placed",
    "stream_of",
]

_log = logging.getLogger("shop.orders")

Store = EventStore[PostgresTransaction]


def stream_of(order_id: uuid.UUID) -> str:
    """The stream of an order (its saga's state, event-sourced)."""
    return f"order-{order_id}"


@dataclasses.dataclass(frozen=True)
class Placed:
    """The answer to placing: the order's id, and whether an earlier request placed it."""

    order_id: uuid.UUID
    replayed: bool


class OrderStore:
    """The orders' streams and the saga's side tables, for handlers, the poller and routes."""

    def __init__(self, store: Store, recorder: PostgresRecorder, settings: OrdersSettings) -> None:
        self.store = store
        self.pool = recorder.pool
        self.settings = settings

    # -- reading -----------------------------------------------------------------------

    async def load(
        self, order_id: uuid.UUID, *, until: datetime.datetime | None = None
    ) -> SagaState[Order] | None:
        """The order's saga as its stream says (as it was at ``until``); ``None`` if none."""
        events = await self.store.load(stream_of(order_id), until=until)
        return replay(ORDER_SAGA, events)

    # -- deciding ----------------------------------------------------------------------

    async def decide(
        self,
        transaction: PostgresTransaction,
        order_id: uuid.UUID,
        message: Message,
        *,
        now: datetime.datetime | None = None,
    ) -> Outcome[Order] | None:
        """Run one decision of the order's saga in ``transaction``; ``None`` if no such order.

        Raises :class:`~shop.orders.errors.NotCancellable` for a refused cancel request.
        """
        connection = transaction.connection
        await _lock(connection, order_id)
        state = await self.load(order_id)
        if state is None:
            _log.warning("orders: %s for unknown order %s ignored", _name(message), order_id)
            return None
        token = await connection.fetchval(
            "SELECT token FROM order_payment_tokens WHERE order_id = $1", order_id
        )
        state = dataclasses.replace(state, data=state.data.with_token(token or ""))
        outcome = decide(
            ORDER_SAGA,
            state,
            message,
            now=now or datetime.datetime.now(datetime.UTC),
            timeouts=self.settings.timeouts,
        )
        if outcome.ignored:
            _log.info("orders: %s for order %s changed nothing", _name(message), order_id)
        if outcome.events:
            await self.store.append(
                stream_of(order_id),
                outcome.events,
                expected_version=state.version,
                transaction=transaction,
            )
        await _set_deadline(connection, order_id, outcome.deadline)
        return outcome

    # -- placing -----------------------------------------------------------------------

    async def place(
        self,
        placed: OrderPlaced,
        *,
        payment_token: str,
        idempotency: tuple[str, str] | None,
    ) -> Placed:
        """Store OrderPlaced with its token (and idempotency key, a key and request hash).

        The same key with the same request gives the order it placed before; with another
        request it raises :class:`KeyReused`.
        """
        async with self.store.transaction() as transaction:
            connection = transaction.connection
            if idempotency is not None:
                key, request_hash = idempotency
                # A concurrent request with the same key waits here for the first to commit.
                inserted = await connection.fetchval(
                    "INSERT INTO order_idempotency_keys (user_id, key, request_hash, order_id)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
                    placed.user_id,
                    key,
                    request_hash,
                    placed.order_id,
                )
                if inserted is None:
                    row = await connection.fetchrow(
                        "SELECT request_hash, order_id FROM order_idempotency_keys"
                        " WHERE user_id = $1 AND key = $2",
                        placed.user_id,
                        key,
                    )
                    assert row is not None
                    if row["request_hash"] != request_hash:
                        raise KeyReused(key, row["order_id"])
                    return Placed(row["order_id"], replayed=True)
            await connection.execute(
                "INSERT INTO order_payment_tokens (order_id, token) VALUES ($1, $2)",
                placed.order_id,
                payment_token,
            )
            await self.store.append(
                stream_of(placed.order_id), [placed], expected_version=0, transaction=transaction
            )
        return Placed(placed.order_id, replayed=False)

    # -- deadlines ---------------------------------------------------------------------

    async def fire_due_deadline(self, now: datetime.datetime | None = None) -> bool:
        """Fire one due deadline, if any, and delete it with what it emitted; whether one was.

        ``SKIP LOCKED`` lets several instances poll side by side, each firing other rows;
        a row whose order is being decided right now (its lock taken) is left for the next
        poll rather than waited for, so the poller never holds a row while waiting.
        """
        now = now or datetime.datetime.now(datetime.UTC)
        async with self.store.transaction() as transaction:
            connection = transaction.connection
            row = await connection.fetchrow(
                "SELECT order_id, step FROM saga_deadlines WHERE due_at <= $1"
                " ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                now,
            )
            if row is None:
                return False
            order_id: uuid.UUID = row["order_id"]
            if not await connection.fetchval(
                "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", stream_of(order_id)
            ):
                return False
            await connection.execute("DELETE FROM saga_deadlines WHERE order_id = $1", order_id)
            await self.decide(transaction, order_id, DeadlinePassed(row["step"]), now=now)
        return True

    async def deadline_of(self, order_id: uuid.UUID) -> tuple[str, datetime.datetime] | None:
        """The order's running deadline: its step and when it falls due."""
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT step, due_at FROM saga_deadlines WHERE order_id = $1", order_id
            )
        return (row["step"], row["due_at"]) if row is not None else None


async def _lock(connection: AnyConnection, order_id: uuid.UUID) -> None:
    # Re-entrant within a transaction, so the poller's try-lock and this one do not clash.
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", stream_of(order_id)
    )


async def _set_deadline(
    connection: AnyConnection, order_id: uuid.UUID, change: DeadlineChange | None
) -> None:
    if change is None:
        return
    if change.step is None or change.due_at is None:
        await connection.execute("DELETE FROM saga_deadlines WHERE order_id = $1", order_id)
        return
    await connection.execute(
        "INSERT INTO saga_deadlines (order_id, step, due_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (order_id) DO UPDATE SET step = excluded.step, due_at = excluded.due_at",
        order_id,
        change.step,
        change.due_at,
    )


def _name(message: Message) -> str:
    return type(message).__name__
