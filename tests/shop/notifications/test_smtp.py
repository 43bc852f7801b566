"""The SMTP mailer against real servers: what it sends, and how it reports refusals."""

from __future__ import annotations

import socket
import uuid
from email.message import EmailMessage

import pytest

from shop.notifications.errors import DeliveryFailed
from shop.notifications.settings import SmtpSettings
from shop.notifications.sink import MailSink
from shop.notifications.smtp import SmtpMailer


def _message(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "shop@shop.local"
    message["To"] = to
    message["Subject"] = "Hi"
    message["Message-ID"] = f"<{uuid.uuid4()}@shop.local>"
    message.set_content("Hello there.")
    return message


async def test_the_sink_keeps_what_the_mailer_sends() -> None:
    """A message sent over SMTP to the sink is kept with its parts, newest first."""
    with MailSink() as sink:
        mailer = SmtpMailer(SmtpSettings(sink.host, sink.port, starttls=False), timeout=5)
        first, second = _message("a@example.com"), _message("b@example.com")
        await mailer.send(first)
        await mailer.send(second)
        kept = sink.messages()
    assert [m.recipients for m in kept] == [("b@example.com",), ("a@example.com",)]
    assert kept[0].subject == "Hi"
    assert kept[0].text == "Hello there.\n"
    assert kept[0].message_id == second["Message-ID"]
    assert kept[0].sender == "shop@shop.local"


async def test_no_server_listening_is_a_transient_failure() -> None:
    """A refused connection may work later: DeliveryFailed, not permanent, no code."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailer = SmtpMailer(SmtpSettings("127.0.0.1", port, starttls=False), timeout=5)
    with pytest.raises(DeliveryFailed) as caught:
        await mailer.send(_message("a@example.com"))
    assert not caught.value.permanent
    assert caught.value.code is None
