"""Email out over SMTP (aiosmtplib): the one place where SMTP errors become ours.

A reply in the 5xx range is permanent (the server will never take this message: a
rejected recipient, a refused sender); a 4xx reply, a dropped or refused connection and a
timeout are transient, and the sender tries again later.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from shop.notifications.errors import DeliveryFailed
from shop.notifications.settings import SmtpSettings

__all__ = ["Mailer", "SmtpMailer"]

_LOCAL_HOSTNAME = "notifications.shop.local"
"""What we call ourselves in EHLO (the default, the machine's FQDN, may need a slow DNS query)."""


class Mailer(Protocol):
    """Hands a message to a mail server; :class:`DeliveryFailed` when it is not taken."""

    async def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to the addresses in its ``To`` header."""
        ...


class SmtpMailer:
    """A :class:`Mailer` on an SMTP server, one connection per message."""

    def __init__(self, smtp: SmtpSettings, *, timeout: float) -> None:
        self._smtp = smtp
        self._timeout = timeout

    @property
    def address(self) -> str:
        """``host:port`` of the server, for logs (never the credentials)."""
        return f"{self._smtp.host}:{self._smtp.port}"

    async def send(self, message: EmailMessage) -> None:
        """Send ``message``; :class:`DeliveryFailed` says why not and whether to retry."""
        smtp = self._smtp
        try:
            await aiosmtplib.send(
                message,
                hostname=smtp.host,
                port=smtp.port,
                username=smtp.username,
                password=smtp.password.reveal() if smtp.password is not None else None,
                start_tls=smtp.starttls,
                timeout=self._timeout,
                local_hostname=_LOCAL_HOSTNAME,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refused.code for refused in error.recipients]
            reason = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
            raise DeliveryFailed(
                f"recipients refused: {reason}",
                code=max(codes, default=None),
                permanent=bool(codes) and all(code >= 500 for code in codes),
            ) from error
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryFailed(
                f"{error.code} {error.message}", code=error.code, permanent=error.code >= 500
            ) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
