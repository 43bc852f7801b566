"""The notifications service on Kafka, Postgres and its SMTP sink: which emails go out, once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import asyncpg
import pytest

from evp.events import CancellationReason, EmailChanged, NotificationSent
from evp.messaging import MessagingSettings
from evp.service import ServiceSettings
from shop.notifications import app
from shop.notifications.settings import SmtpSettings
from shop.notifications.smtp import SmtpMailer
from tests.shop.notifications.mailroom import (
    Mailroom,
    cancelled,
    confirmed,
    mailroom,
    placed,
    registered,
)

Settings = Callable[[str], ServiceSettings]


def _to(address: str) -> Callable[[dict[str, Any]], bool]:
    return lambda mail: address in mail["to"]


async def test_a_redelivered_registration_gets_one_welcome(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """The same UserRegistered delivered twice (same event id) sends one welcome."""
    user = registered(name="Ada")
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(user, user)
        (welcome,) = await room.wait_for_mail(1, _to(user.email))
        await room.service.wait_for(lambda: room.handled("duplicate") >= 1)
        await asyncio.sleep(0.3)  # a second email would be sent by now
        mails = [m for m in await room.sink() if user.email in m["to"]]
        outcomes = await room.outcomes()
    assert len(mails) == 1
    assert welcome["subject"] == "Welcome to the shop, Ada"
    assert welcome["from"] == "shop@shop.local"
    assert "Hello Ada" in welcome["text"]
    assert [(type(o), o.recipient) for o in outcomes] == [(NotificationSent, user.email)]
    (sent,) = outcomes
    assert isinstance(sent, NotificationSent)
    assert sent.template == "welcome"
    assert sent.user_id == user.user_id
    assert sent.envelope.causation_id == user.envelope.event_id
    assert welcome["message_id"] == f"<{sent.notification_id}@shop.local>"


async def test_a_confirmed_order_emails_the_user_who_placed_it(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """OrderConfirmed reaches the sink addressed to the order's user, with its total."""
    user = registered(name="Grace")
    order = placed(user.user_id, total="42.50")
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(user, order, confirmed(order))
        mails = await room.wait_for_mail(2, _to(user.email))
    (mail,) = [m for m in mails if "confirmed" in m["subject"]]
    assert mail["subject"] == f"Your order {order.order_id.hex[:8].upper()} is confirmed"
    assert mail["to"] == [user.email]
    assert "Hello Grace" in mail["text"]
    assert "42.50 EUR" in mail["text"]


async def test_a_cancelled_order_email_gives_the_reason_in_words(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """OrderCancelled(PAYMENT_FAILED) sends one email saying the payment did not go through."""
    user = registered()
    order = placed(user.user_id)
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(user, order, cancelled(order, CancellationReason.PAYMENT_FAILED))
        mails = await room.wait_for_mail(2, _to(user.email))
    (mail,) = [m for m in mails if "cancelled" in m["subject"]]
    assert mail["subject"] == f"Your order {order.order_id.hex[:8].upper()} was cancelled"
    assert "because the payment did not go through" in mail["text"]


async def test_an_email_change_redirects_later_emails(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """After EmailChanged, the order's email goes to the new address and none to the old."""
    user = registered(email=f"old-{uuid.uuid4().hex[:8]}@example.com")
    new_email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    changed = EmailChanged.new(
        user_id=user.user_id, previous_email=user.email, new_email=new_email, source="users"
    )
    order = placed(user.user_id)
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(user)
        await room.wait_for_mail(1, _to(user.email))
        await room.publish(changed)
        await room.service.wait_for(lambda: _address_is(room, user.user_id, new_email))
        await room.publish(order, confirmed(order))
        (mail,) = await room.wait_for_mail(1, _to(new_email))
        to_old = [m for m in await room.sink() if user.email in m["to"]]
    assert "confirmed" in mail["subject"]
    assert [m["subject"] for m in to_old] == ["Welcome to the shop, Ada"]


async def _address_is(room: Mailroom, user_id: uuid.UUID, address: str) -> bool:
    return await room.address_of(user_id) == address


async def test_an_order_email_that_arrives_before_its_order_and_user_is_sent_once_known(
    settings_for: Settings, messaging_settings: MessagingSettings
) -> None:
    """OrderConfirmed before OrderPlaced and UserRegistered waits, then goes out exactly once."""
    user = registered()
    order = placed(user.user_id)
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(confirmed(order))
        await room.service.wait_for(lambda: _rows_of(room, 1))
        await asyncio.sleep(0.2)  # the sender has looked, and found no recipient yet
        assert await room.sink() == []
        await room.publish(order, user)
        mails = await room.wait_for_mail(2, _to(user.email))
        await asyncio.sleep(0.3)  # a duplicate would be sent by now
        again = [m for m in await room.sink() if user.email in m["to"]]
        (row,) = [r for r in await room.rows() if r["template"] == "order_confirmed"]
    assert sorted(m["subject"].split()[0] for m in mails) == ["Welcome", "Your"]
    assert len(again) == 2
    assert (row["status"], row["user_id"], row["attempts"]) == ("sent", user.user_id, 1)


async def _rows_of(room: Mailroom, count: int) -> bool:
    return len(await room.rows()) >= count


class _LostAfterSending:
    """A mailer whose first send reaches the server, then the database is lost (a crash)."""

    def __init__(self, inner: SmtpMailer) -> None:
        self.inner = inner
        self.sends = 0

    async def send(self, message: EmailMessage) -> None:
        await self.inner.send(message)
        self.sends += 1
        if self.sends == 1:
            raise asyncpg.InterfaceError("connection lost before marking the email sent")


async def test_an_email_resent_after_a_crash_keeps_its_message_id(
    settings_for: Settings, messaging_settings: MessagingSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lost between SMTP's acceptance and the commit: sent again, recognisably the same."""

    def mailer(smtp: SmtpSettings, *, timeout: float) -> _LostAfterSending:
        return _LostAfterSending(SmtpMailer(smtp, timeout=timeout))

    monkeypatch.setattr(app, "SmtpMailer", mailer)
    user = registered()
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(user)
        first, second = await room.wait_for_mail(2, _to(user.email))
        await room.service.wait_for(lambda: room.settled(1))
        (row,) = await room.rows()
        outcomes = await room.outcomes()
    assert first["message_id"] == second["message_id"]
    assert (row["status"], row["attempts"]) == ("sent", 1)
    assert [type(o) for o in outcomes] == [NotificationSent]
