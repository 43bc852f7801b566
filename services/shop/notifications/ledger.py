"""The ``notifications`` table: one row per email, recorded once, sent once.

A handler records a row (``pending``) in its own transaction, with the processed mark of
the event that caused it; the sender (:mod:`shop.notifications.sender`) takes due rows one
at a time and marks them ``sent`` or ``failed``. Two unique keys keep the promise "one
welcome per user, one email per terminal order": ``(source_event_id, template)`` against
redelivery, and ``(template, about)`` (``about``: the user for a welcome, the order for an
order's email) against a second event about the same thing. Each event names exactly one
recipient (the user it concerns), so the key needs no address: the address is looked up
when the email is sent, from the read models, so an email change redirects later emails,
and an email whose order or user is not known yet waits (it is not picked) until it is.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from decimal import Decimal

from evp.avro import Event
from evp.events import CancellationReason
from evp.postgres.migrations import AnyConnection
from shop.notifications.domain import Facts, Template

__all__ = [
    "Due",
    "Listed",
    "NewNotification",
    "for_user",
    "mark_failed",
    "mark_sent",
    "next_due",
    "notification_id",
    "record",
    "retry_later",
]

# Ids are derived from what a notification is about, so a rebuilt database (or a second
# instance) names the same email the same way, and so does its Message-ID.
_IDS = uuid.UUID("0f4d4f8e-2a44-5d0b-9a55-6e6f74696679")


def notification_id(template: Template, about: uuid.UUID) -> uuid.UUID:
    """The id of the one ``template`` email about ``about`` (a user or an order)."""
    return uuid.uuid5(_IDS, f"{template.value}:{about}")


@dataclasses.dataclass(frozen=True)
class NewNotification:
    """An email to send, as a handler knows it from its event."""

    template: Template
    source: Event
    """The event that calls for it (its id and flow go on the row)."""
    about: uuid.UUID
    subject: str
    user_id: uuid.UUID | None = None
    """``None`` when the event names an order, not a user: found via the order."""
    order_id: uuid.UUID | None = None
    address_hint: str | None = None
    """The address the event carries, used until the recipients model has one."""
    name_hint: str | None = None
    reason: CancellationReason | None = None
    detail: str | None = None


async def record(connection: AnyConnection, new: NewNotification) -> uuid.UUID | None:
    """Insert ``new`` as pending; its id, or ``None`` when it was recorded already."""
    inserted: uuid.UUID | None = await connection.fetchval(
        "INSERT INTO notifications (notification_id, template, source_event_id, correlation_id,"
        " about, user_id, order_id, address_hint, name_hint, reason, detail, subject)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT DO NOTHING RETURNING notification_id",
        notification_id(new.template, new.about),
        new.template.value,
        new.source.envelope.event_id,
        new.source.envelope.correlation_id,
        new.about,
        new.user_id,
        new.order_id,
        new.address_hint,
        new.name_hint,
        new.reason.value if new.reason is not None else None,
        new.detail,
        new.subject,
    )
    return inserted


@dataclasses.dataclass(frozen=True)
class Due:
    """A pending email whose recipient is known and whose time has come."""

    notification_id: uuid.UUID
    template: Template
    source_event_id: uuid.UUID
    correlation_id: uuid.UUID
    user_id: uuid.UUID
    address: str
    subject: str
    attempts: int
    """Attempts made before this one."""
    facts: Facts


# The recipient is resolved here, at send time: the user from the row or from its order,
# the address from the recipients model or else the one the event carried. Rows whose
# recipient is not known yet are left out (they wait, without using up attempts).
# SKIP LOCKED: a second sender (another instance) takes the next row instead of waiting.
_NEXT_DUE = """
SELECT n.notification_id, n.template, n.source_event_id, n.correlation_id, n.subject,
       n.attempts, n.order_id, n.reason, n.detail,
       COALESCE(n.user_id, o.user_id) AS user_id,
       COALESCE(r.email, n.address_hint) AS address,
       COALESCE(r.display_name, n.name_hint) AS name,
       o.total, o.currency
  FROM notifications n
  LEFT JOIN notification_orders o ON o.order_id = n.order_id
  LEFT JOIN notification_recipients r ON r.user_id = COALESCE(n.user_id, o.user_id)
 WHERE n.status = 'pending' AND n.next_attempt_at <= now()
   AND (n.order_id IS NULL OR o.order_id IS NOT NULL)
   AND COALESCE(n.user_id, o.user_id) IS NOT NULL
   AND COALESCE(r.email, n.address_hint) IS NOT NULL
 ORDER BY n.next_attempt_at, n.created_at
 LIMIT 1
   FOR UPDATE OF n SKIP LOCKED
"""


async def next_due(connection: AnyConnection) -> Due | None:
    """The next email to send, its row locked until the caller's transaction ends."""
    row = await connection.fetchrow(_NEXT_DUE)
    if row is None:
        return None
    total: Decimal | None = row["total"]
    return Due(
        notification_id=row["notification_id"],
        template=Template(row["template"]),
        source_event_id=row["source_event_id"],
        correlation_id=row["correlation_id"],
        user_id=row["user_id"],
        address=row["address"],
        subject=row["subject"],
        attempts=row["attempts"],
        facts=Facts(
            name=row["name"],
            address=row["address"],
            order_id=row["order_id"],
            total=total,
            currency=row["currency"],
            reason=CancellationReason(row["reason"]) if row["reason"] else None,
            detail=row["detail"],
        ),
    )


async def mark_sent(connection: AnyConnection, due: Due) -> None:
    """The server took ``due``'s email (one more attempt, to the address resolved)."""
    await connection.execute(
        "UPDATE notifications SET status = 'sent', attempts = attempts + 1, recipient = $2,"
        " user_id = $3, last_error = NULL, sent_at = now() WHERE notification_id = $1",
        due.notification_id,
        due.address,
        due.user_id,
    )


async def mark_failed(connection: AnyConnection, due: Due, error: str) -> None:
    """``due``'s email will not be sent: its last attempt failed for good."""
    await connection.execute(
        "UPDATE notifications SET status = 'failed', attempts = attempts + 1, recipient = $2,"
        " user_id = $3, last_error = $4 WHERE notification_id = $1",
        due.notification_id,
        due.address,
        due.user_id,
        error,
    )


async def retry_later(connection: AnyConnection, due: Due, error: str, delay: float) -> None:
    """``due``'s attempt failed; try again in ``delay`` seconds."""
    await connection.execute(
        "UPDATE notifications SET attempts = attempts + 1, user_id = $2, last_error = $3,"
        " next_attempt_at = now() + make_interval(secs => $4) WHERE notification_id = $1",
        due.notification_id,
        due.user_id,
        error,
        delay,
    )


@dataclasses.dataclass(frozen=True)
class Listed:
    """A notification as its user sees it."""

    notification_id: uuid.UUID
    template: Template
    recipient: str | None
    status: str
    subject: str
    created_at: datetime.datetime
    sent_at: datetime.datetime | None


async def for_user(
    connection: AnyConnection,
    user_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime.datetime, uuid.UUID] | None = None,
) -> list[Listed]:
    """``user_id``'s notifications, newest first, after the cursor ``before`` if given.

    A notification about an order belongs to the user who placed it, even before the
    sender has looked the user up.
    """
    created, after_id = before if before is not None else (None, None)
    rows = await connection.fetch(
        "SELECT n.notification_id, n.template, n.status, n.subject, n.created_at, n.sent_at,"
        "       COALESCE(n.recipient, r.email, n.address_hint) AS recipient"
        "  FROM notifications n"
        "  LEFT JOIN notification_orders o ON o.order_id = n.order_id"
        "  LEFT JOIN notification_recipients r ON r.user_id = COALESCE(n.user_id, o.user_id)"
        " WHERE COALESCE(n.user_id, o.user_id) = $1"
        "   AND ($2::timestamptz IS NULL OR (n.created_at, n.notification_id) < ($2, $3::uuid))"
        " ORDER BY n.created_at DESC, n.notification_id DESC"
        " LIMIT $4",
        user_id,
        created,
        after_id,
        limit,
    )
    return [
        Listed(
            notification_id=row["notification_id"],
            template=Template(row["template"]),
            recipient=row["recipient"],
            status=row["status"],
            subject=row["subject"],
            created_at=row["created_at"],
            sent_at=row["sent_at"],
        )
        for row in rows
    ]
