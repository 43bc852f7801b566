"""The read models analytics answers from, fed from its own store of every event it consumed.

Both are rebuilt from that store by ``evp replay --service analytics --projection NAME``,
which finds them in :data:`PROJECTIONS`; their tables come from :data:`MIGRATIONS`.

* ``order_facts``: one row per order: when it was placed, its currency and total, and how
  its saga ended (confirmed or cancelled, why, when). The first terminal event (by when it
  happened) is the saga's end: a later or repeated one changes nothing, so the row is the
  same whatever order the events are folded in.
* ``event_counts``: how many events of each type happened in each minute.

Times are the events' own (``envelope.timestamp``: when it happened), never when analytics
received them, so a replay or a late delivery lands in the same minute and day.
"""

from __future__ import annotations

from evp.avro import Event
from evp.events import OrderCancelled, OrderConfirmed, OrderPlaced
from evp.eventstore import PostgresTransaction
from evp.postgres import Migration
from shop.analytics.domain import minute_of

__all__ = [
    "CANCELLED",
    "CONFIRMED",
    "MIGRATIONS",
    "MIGRATIONS_COMPONENT",
    "PROJECTIONS",
    "EventCounts",
    "OrderFacts",
]

MIGRATIONS_COMPONENT = "analytics-read-models"
CONFIRMED = "confirmed"
CANCELLED = "cancelled"

MIGRATIONS = (
    Migration(
        1,
        "order_facts_and_event_counts",
        """
        CREATE TABLE order_facts (
            order_id      uuid           PRIMARY KEY,
            placed_at     timestamptz,
            currency      text,
            total         numeric(12, 2),
            state         text           CHECK (state IN ('confirmed', 'cancelled')),
            cancel_reason text,
            terminal_at   timestamptz,
            CHECK ((state IS NULL) = (terminal_at IS NULL))
        );
        CREATE INDEX order_facts_placed_at_idx ON order_facts (placed_at);
        CREATE INDEX order_facts_terminal_at_idx ON order_facts (terminal_at);

        CREATE TABLE event_counts (
            minute     timestamptz NOT NULL,
            event_type text        NOT NULL,
            count      bigint      NOT NULL,
            PRIMARY KEY (minute, event_type)
        );
        """,
    ),
)

# A placement fills its columns whichever of its events came first; a terminal event
# only when it happened before the end already known (ties: the first folded wins).
_PLACED = """
    INSERT INTO order_facts (order_id, placed_at, currency, total) VALUES ($1, $2, $3, $4)
    ON CONFLICT (order_id) DO UPDATE SET
        placed_at = EXCLUDED.placed_at, currency = EXCLUDED.currency, total = EXCLUDED.total
"""
_ENDED = """
    INSERT INTO order_facts (order_id, state, cancel_reason, terminal_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (order_id) DO UPDATE SET
        state = EXCLUDED.state,
        cancel_reason = EXCLUDED.cancel_reason,
        terminal_at = EXCLUDED.terminal_at
    WHERE order_facts.terminal_at IS NULL OR EXCLUDED.terminal_at < order_facts.terminal_at
"""
_COUNTED = """
    INSERT INTO event_counts (minute, event_type, count) VALUES ($1, $2, 1)
    ON CONFLICT (minute, event_type) DO UPDATE SET count = event_counts.count + 1
"""


class OrderFacts:
    """Each order's placement and the end of its saga."""

    name = "order_facts"
    event_types = frozenset(
        {OrderPlaced.FULL_NAME, OrderConfirmed.FULL_NAME, OrderCancelled.FULL_NAME}
    )

    async def handle(self, event: Event, transaction: PostgresTransaction) -> None:
        """Record a placement, or the saga's end unless an earlier one is known."""
        connection = transaction.connection
        match event:
            case OrderPlaced():
                await connection.execute(
                    _PLACED,
                    event.order_id,
                    event.envelope.timestamp,
                    event.currency.value,
                    event.total,
                )
            case OrderConfirmed():
                await connection.execute(
                    _ENDED, event.order_id, CONFIRMED, None, event.envelope.timestamp
                )
            case OrderCancelled():
                await connection.execute(
                    _ENDED, event.order_id, CANCELLED, event.reason.value, event.envelope.timestamp
                )

    async def reset(self, transaction: PostgresTransaction) -> None:
        """Delete every row (readers keep the old rows until the rebuild commits)."""
        await transaction.connection.execute("DELETE FROM order_facts")


class EventCounts:
    """Events per type per minute, of every event analytics keeps."""

    name = "event_counts"
    event_types = None

    async def handle(self, event: Event, transaction: PostgresTransaction) -> None:
        """Count the event in the minute it happened."""
        await transaction.connection.execute(
            _COUNTED, minute_of(event.envelope.timestamp), event.FULL_NAME
        )

    async def reset(self, transaction: PostgresTransaction) -> None:
        """Delete every row (readers keep the old rows until the rebuild commits)."""
        await transaction.connection.execute("DELETE FROM event_counts")


PROJECTIONS = (OrderFacts(), EventCounts())
"""Every read model of analytics, as ``evp replay`` looks them up by name."""
