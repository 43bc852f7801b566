"""The read models the emails need, fed from Kafka, and every table of the service.

``notification_recipients``: each user's current address and name (``UserRegistered``,
``EmailChanged``, ``ProfileUpdated``); ``notification_orders``: who placed each order and
for how much (``OrderPlaced``). Each projection reads its events in its own consumer
group, so they may run ahead of or behind the handlers that record notifications; the
sender joins them at send time (see :mod:`shop.notifications.ledger`).
"""

from __future__ import annotations

from evp.avro import Event
from evp.events import EmailChanged, OrderPlaced, ProfileUpdated, UserRegistered
from evp.eventstore import PostgresTransaction
from evp.postgres import Migration

__all__ = [
    "KAFKA_PROJECTIONS",
    "MIGRATIONS",
    "MIGRATIONS_COMPONENT",
    "PROJECTIONS",
    "OrdersById",
    "Recipients",
]

MIGRATIONS_COMPONENT = "notifications"
MIGRATIONS = (
    Migration(
        1,
        "recipients, orders and notifications",
        """
        CREATE TABLE notification_recipients (
            user_id      uuid        PRIMARY KEY,
            email        text        NOT NULL,
            display_name text,
            email_as_of  timestamptz NOT NULL
        );
        CREATE TABLE notification_orders (
            order_id uuid    PRIMARY KEY,
            user_id  uuid    NOT NULL,
            total    numeric NOT NULL,
            currency text    NOT NULL
        );
        CREATE TABLE notifications (
            notification_id uuid        PRIMARY KEY,
            template        text        NOT NULL,
            source_event_id uuid        NOT NULL,
            correlation_id  uuid        NOT NULL,
            about           uuid        NOT NULL,
            user_id         uuid,
            order_id        uuid,
            address_hint    text,
            name_hint       text,
            reason          text,
            detail          text,
            subject         text        NOT NULL,
            status          text        NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'failed')),
            recipient       text,
            attempts        integer     NOT NULL DEFAULT 0,
            last_error      text,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            created_at      timestamptz NOT NULL DEFAULT now(),
            sent_at         timestamptz,
            CONSTRAINT notifications_once_per_event UNIQUE (source_event_id, template),
            CONSTRAINT notifications_once_per_subject UNIQUE (template, about)
        );
        CREATE INDEX notifications_due_idx ON notifications (next_attempt_at)
            WHERE status = 'pending';
        CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC);
        CREATE INDEX notifications_order_idx ON notifications (order_id)
            WHERE order_id IS NOT NULL;
        """,
    ),
)


_UPSERT_RECIPIENT = """
INSERT INTO notification_recipients AS r (user_id, email, display_name, email_as_of)
VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO UPDATE SET
    display_name = COALESCE(EXCLUDED.display_name, r.display_name),
    email = CASE WHEN EXCLUDED.email_as_of >= r.email_as_of THEN EXCLUDED.email ELSE r.email END,
    email_as_of = GREATEST(EXCLUDED.email_as_of, r.email_as_of)
"""


class Recipients:
    """Each user's current email address and name, by user id."""

    name = "recipients"
    event_types = frozenset(
        {UserRegistered.FULL_NAME, EmailChanged.FULL_NAME, ProfileUpdated.FULL_NAME}
    )

    async def handle(self, event: Event, transaction: PostgresTransaction) -> None:
        """Upsert the user; an address only replaces one that is not newer."""
        connection = transaction.connection
        match event:
            case UserRegistered() | EmailChanged():
                email = event.email if isinstance(event, UserRegistered) else event.new_email
                name = event.display_name if isinstance(event, UserRegistered) else None
                # Events of one user share a partition, so they come in order; the guard
                # keeps the newest address should a replay or a second producer not.
                await connection.execute(
                    _UPSERT_RECIPIENT,
                    event.user_id,
                    email,
                    name,
                    event.envelope.timestamp,
                )
            case ProfileUpdated(display_name=str() as display_name):
                await connection.execute(
                    "UPDATE notification_recipients SET display_name = $2 WHERE user_id = $1",
                    event.user_id,
                    display_name,
                )

    async def reset(self, transaction: PostgresTransaction) -> None:
        """Forget every user."""
        await transaction.connection.execute("DELETE FROM notification_recipients")


class OrdersById:
    """Who placed each order, and its total."""

    name = "orders"
    event_types = frozenset({OrderPlaced.FULL_NAME})

    async def handle(self, event: Event, transaction: PostgresTransaction) -> None:
        """Remember a placed order (once: an order's placement never changes)."""
        if isinstance(event, OrderPlaced):
            await transaction.connection.execute(
                "INSERT INTO notification_orders (order_id, user_id, total, currency)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING",
                event.order_id,
                event.user_id,
                event.total,
                event.currency.value,
            )

    async def reset(self, transaction: PostgresTransaction) -> None:
        """Forget every order."""
        await transaction.connection.execute("DELETE FROM notification_orders")


KAFKA_PROJECTIONS = (Recipients(), OrdersById())
"""Fed from other services' topics (``source="kafka"``)."""

PROJECTIONS: tuple[Recipients | OrdersById, ...] = ()
"""What ``evp replay`` may rebuild from the service's own store: none. The store does not
hold other services' events, so a rebuild would only empty the Kafka-fed models above."""
