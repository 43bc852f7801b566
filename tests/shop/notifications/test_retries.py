"""SMTP servers that refuse: transient refusals are retried with backoff, the rest fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from evp.events import NotificationFailed, NotificationSent
from evp.messaging import MessagingSettings
from evp.service import ServiceSettings
from shop.notifications.sink import MailSink
from tests.shop.notifications.mailroom import mailroom, registered

Settings = Callable[[str], ServiceSettings]


class RefusingServer(MailSink):
    """An SMTP server that answers DATA with ``reply`` ``times`` times, then takes mail."""

    def __init__(self, reply: str, times: int) -> None:
        super().__init__()
        self.reply = reply
        self.times = times
        self.refused = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Refuse while refusals are left, else keep the message."""
        if self.refused < self.times:
            self.refused += 1
            return self.reply
        return await super().handle_DATA(server, session, envelope)


def _serve(monkeypatch: pytest.MonkeyPatch, reply: str, times: int) -> Iterator[RefusingServer]:
    with RefusingServer(reply, times) as server:
        monkeypatch.setenv("NOTIFICATIONS_SMTP_HOST", server.host)
        monkeypatch.setenv("NOTIFICATIONS_SMTP_PORT", str(server.port))
        yield server


@pytest.fixture
def busy_twice(monkeypatch: pytest.MonkeyPatch) -> Iterator[RefusingServer]:
    """A server that answers 451 twice, then accepts."""
    yield from _serve(monkeypatch, "451 4.3.0 Busy, try again later", 2)


@pytest.fixture
def always_busy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RefusingServer]:
    """A server that always answers 451."""
    yield from _serve(monkeypatch, "451 4.3.0 Busy, try again later", 1000)


@pytest.fixture
def rejecting(monkeypatch: pytest.MonkeyPatch) -> Iterator[RefusingServer]:
    """A server that answers 550 (permanent) to every message."""
    yield from _serve(monkeypatch, "550 5.1.1 No such mailbox", 1000)


async def test_a_busy_server_is_retried_until_it_takes_the_email(
    settings_for: Settings, messaging_settings: MessagingSettings, busy_twice: RefusingServer
) -> None:
    """Two 451 replies, then 250: the third attempt sends it, and NotificationSent says so."""
    user = registered()
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(user)
        await room.service.wait_for(lambda: room.settled(1), timeout=30)
        (row,) = await room.rows()
        outcomes = await room.outcomes()
        sink = await room.service.http.get("/notifications/sink", headers=room.admin)
    assert busy_twice.refused == 2
    assert [m.recipients for m in busy_twice.messages()] == [(user.email,)]
    assert (row["status"], row["attempts"], row["recipient"]) == ("sent", 3, user.email)
    assert [type(o) for o in outcomes] == [NotificationSent]
    assert sink.status_code == 404  # mail went to the configured server, not a sink


async def test_a_server_that_never_takes_it_ends_in_notification_failed(
    settings_for: Settings, messaging_settings: MessagingSettings, always_busy: RefusingServer
) -> None:
    """451 on every attempt: after NOTIFICATIONS_MAX_ATTEMPTS (3) it fails, with the error."""
    user = registered()
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(user)
        await room.service.wait_for(lambda: room.settled(1), timeout=30)
        (failed,) = await room.outcomes()
        (row,) = await room.rows()
    assert isinstance(failed, NotificationFailed)
    assert (failed.attempts, failed.recipient, failed.user_id) == (3, user.email, user.user_id)
    assert failed.error.startswith("451")
    assert always_busy.refused == 3
    assert (row["status"], row["attempts"]) == ("failed", 3)


async def test_a_permanent_refusal_fails_at_once(
    settings_for: Settings, messaging_settings: MessagingSettings, rejecting: RefusingServer
) -> None:
    """A 550 reply is not retried: NotificationFailed after one attempt."""
    user = registered()
    async with mailroom(settings_for("notifications"), messaging_settings) as room:
        await room.publish(user)
        await room.service.wait_for(lambda: room.settled(1), timeout=30)
        (failed,) = await room.outcomes()
    assert isinstance(failed, NotificationFailed)
    assert failed.attempts == 1
    assert failed.error.startswith("550")
    assert rejecting.refused == 1
