"""HTTP: a user's own notifications, and (for admins) what the embedded sink received."""

from __future__ import annotations

import base64
import binascii
import datetime
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from evp.service import ServiceRuntime, current_runtime
from evp.web import CurrentAdmin, CurrentUser, FieldError, InvalidRequest, NotFound
from shop.api import Page
from shop.notifications import ledger
from shop.notifications.sink import MailSink

__all__ = ["NotificationOut", "SinkMailOut", "router"]

Runtime = Annotated[ServiceRuntime, Depends(current_runtime)]

router = APIRouter(tags=["notifications"])


class NotificationOut(BaseModel):
    """One notification of the caller's, and how far it got."""

    notification_id: uuid.UUID
    template: str
    recipient: str | None = Field(description="The address it went (or will go) to, if known.")
    status: Literal["pending", "sent", "failed"]
    subject: str
    created_at: datetime.datetime
    sent_at: datetime.datetime | None


class SinkMailOut(BaseModel):
    """One message the embedded SMTP sink received."""

    sender: str = Field(serialization_alias="from", description="The envelope's sender.")
    to: list[str] = Field(description="The envelope's recipients.")
    subject: str
    text: str = Field(description="The plain-text body.")
    message_id: str | None
    received_at: datetime.datetime


@router.get("/notifications", summary="Your notifications, newest first")
async def list_notifications(
    user: CurrentUser,
    runtime: Runtime,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before.")] = None,
) -> Page[NotificationOut]:
    """The caller's notifications: pending (not sent yet), sent, or failed for good."""
    before = _read_cursor(cursor) if cursor is not None else None
    async with runtime.recorder.pool.acquire() as connection:
        rows = await ledger.for_user(connection, user.user_id, limit=limit + 1, before=before)
    page = rows[:limit]
    items = [
        NotificationOut(
            notification_id=row.notification_id,
            template=row.template.value,
            recipient=row.recipient,
            status=_status(row.status),
            subject=row.subject,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )
        for row in page
    ]
    more = len(rows) > limit
    return Page(items=items, next_cursor=_cursor_of(page[-1]) if more else None)


@router.get("/notifications/sink", summary="What the embedded SMTP sink received")
async def sink_messages(
    admin: CurrentAdmin,
    runtime: Runtime,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before.")] = None,
) -> Page[SinkMailOut]:
    """Messages newest first; 404 when mail goes to a real SMTP server instead."""
    sink = runtime.state.get("sink")
    if not isinstance(sink, MailSink):
        raise NotFound("mail sink", "embedded (NOTIFICATIONS_SMTP_HOST is set)")
    before = _sequence(cursor) if cursor is not None else None
    kept = [m for m in sink.messages() if before is None or m.sequence < before]
    page = kept[:limit]
    items = [
        SinkMailOut(
            sender=mail.sender,
            to=list(mail.recipients),
            subject=mail.subject,
            text=mail.text,
            message_id=mail.message_id,
            received_at=mail.received_at,
        )
        for mail in page
    ]
    more = len(kept) > limit
    return Page(items=items, next_cursor=str(page[-1].sequence) if more else None)


def _status(value: str) -> Literal["pending", "sent", "failed"]:
    match value:
        case "sent":
            return "sent"
        case "failed":
            return "failed"
        case _:
            return "pending"


def _cursor_of(row: ledger.Listed) -> str:
    raw = f"{row.created_at.isoformat()}|{row.notification_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad_cursor() -> InvalidRequest:
    return InvalidRequest(
        "the cursor is not one this list gave",
        [FieldError("query.cursor", "not a next_cursor of this list", "value_error")],
    )


def _read_cursor(cursor: str) -> tuple[datetime.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, notification_id = raw.partition("|")
        moment = datetime.datetime.fromisoformat(created)
        # In UTC now: a time that leaves the calendar there (year 1 at +01:00) is a bad
        # cursor here, not an overflow in the driver.
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC)
        return moment, uuid.UUID(notification_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        raise _bad_cursor() from None


def _sequence(cursor: str) -> int:
    if not cursor.isdigit():
        raise _bad_cursor()
    return int(cursor)
