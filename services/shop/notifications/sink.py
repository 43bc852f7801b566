"""The embedded SMTP sink: a real SMTP server on 127.0.0.1 that keeps what it receives.

With no ``NOTIFICATIONS_SMTP_HOST`` the service sends to this server over SMTP exactly as
it would to a real one, so the demo and the tests see real messages (admins read them at
``GET /notifications/sink``). It runs aiosmtpd in its own thread and event loop, on a
port the operating system picks, and keeps the newest ``capacity`` messages in memory.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime
import email
import email.policy
import itertools
import socket
import threading
from collections.abc import Awaitable
from email.message import EmailMessage
from types import TracebackType
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["MailSink", "ReceivedMail"]

_SERVER_HOSTNAME = "sink.notifications.shop.local"
"""The name the sink greets with (aiosmtpd's default asks DNS for the machine's name)."""


@dataclasses.dataclass(frozen=True)
class ReceivedMail:
    """One message the sink took: the envelope's addresses and the message's parts."""

    sequence: int
    """Its place in arrival order (1 for the first), for paging."""
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    message_id: str | None
    received_at: datetime.datetime


class _Controller(Controller):
    """aiosmtpd's threaded controller on a socket bound beforehand, so port 0 works."""

    def __init__(self, handler: object, listener: socket.socket) -> None:
        host, port = listener.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, server_hostname=_SERVER_HOSTNAME)
        self._listener = listener

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        # The documented hook for how the server binds: ours is bound already (no race
        # between finding a free port and taking it).
        return self.loop.create_server(self._factory_invoker, sock=self._listener)


class MailSink:
    """An SMTP server that accepts every message and keeps the newest ``capacity``.

    Start and stop it with :meth:`start` / :meth:`stop`, or ``with MailSink() as sink``.
    Subclasses may override :meth:`handle_DATA` to answer otherwise (tests refuse mail so).
    """

    def __init__(self, *, capacity: int = 1000, host: str = "127.0.0.1") -> None:
        self._host = host
        self._kept: collections.deque[ReceivedMail] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()  # the server's thread appends, the service's reads
        self._sequence = itertools.count(1)
        self._controller: _Controller | None = None

    @property
    def host(self) -> str:
        """Where it listens."""
        return self._host

    @property
    def port(self) -> int:
        """The port it listens on (0 until started)."""
        # Never raises: aiosmtpd reads every attribute of its handler (this object).
        return int(self._controller.port) if self._controller is not None else 0

    def start(self) -> None:
        """Listen on a free port of :attr:`host`, in a thread (blocks until it answers)."""
        if self._controller is not None:
            raise RuntimeError("the mail sink is running already")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((self._host, 0))
            controller = _Controller(self, listener)
            controller.start()
        except BaseException:
            listener.close()
            raise
        self._controller = controller

    def stop(self) -> None:
        """Stop listening and end the thread (what it kept stays readable)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def messages(self) -> list[ReceivedMail]:
        """What it kept, newest first."""
        with self._lock:
            return list(reversed(self._kept))

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd looks for)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Keep the message (aiosmtpd calls this, in the sink's thread)."""
        self.keep(envelope)
        return "250 OK: kept"

    def keep(self, envelope: Envelope) -> ReceivedMail:
        """Parse the message of ``envelope`` and keep it."""
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        # The default policy parses into EmailMessage, which can find the text part.
        part = parsed.get_body(("plain",)) if isinstance(parsed, EmailMessage) else None
        text = part.get_content() if isinstance(part, EmailMessage) else ""
        with self._lock:
            mail = ReceivedMail(
                sequence=next(self._sequence),
                sender=envelope.mail_from or "",
                recipients=tuple(envelope.rcpt_tos),
                subject=str(parsed.get("Subject", "")),
                text=str(text).replace("\r\n", "\n"),  # as written, not as on the wire
                message_id=str(parsed["Message-ID"]) if parsed["Message-ID"] else None,
                received_at=datetime.datetime.now(datetime.UTC),
            )
            self._kept.append(mail)
        return mail
