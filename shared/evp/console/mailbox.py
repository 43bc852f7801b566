"""The mail sink's Maildir as the console's mailbox page shows it: newest first, read-only.

``evp up``'s SMTP sink keeps every message in a Maildir (:mod:`evp.up.mailsink`); reading it
here, with :mod:`mailbox` and :mod:`email`'s modern parser, needs no second server.
"""

from __future__ import annotations

import datetime
import email.policy
import email.utils
import mailbox
from dataclasses import dataclass
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import Any

from evp.web.errors import NotFound

__all__ = ["Mail", "Mailbox"]


@dataclass(frozen=True)
class Mail:
    """One message: its headers, and its text (the plain part, else the HTML one)."""

    key: str
    sender: str
    recipients: str
    subject: str
    date: datetime.datetime | None
    text: str
    html: str | None

    def summary(self) -> dict[str, Any]:
        """The mailbox list's row."""
        return {
            "key": self.key,
            "from": self.sender,
            "to": self.recipients,
            "subject": self.subject,
            "date": self.date.isoformat() if self.date else None,
        }

    def document(self) -> dict[str, Any]:
        """The message in full."""
        return {**self.summary(), "text": self.text, "html": self.html}


class Mailbox:
    """Reads a Maildir (which may not exist yet: no mail then)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def messages(self, *, limit: int = 200) -> list[Mail]:
        """The newest ``limit`` messages, newest first."""
        box = self._open()
        if box is None:
            return []
        found = [_mail(key, message) for key, message in box.iteritems()]
        oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)
        found.sort(key=lambda mail: (mail.date or oldest, mail.key), reverse=True)
        return found[:limit]

    def message(self, key: str) -> Mail:
        """The message called ``key``; :class:`NotFound` when there is none."""
        box = self._open()
        try:
            if box is None:
                raise KeyError(key)
            return _mail(key, box[key])
        except (KeyError, ValueError):
            raise NotFound("message", key) from None

    def _open(self) -> mailbox.Maildir | None:
        if self.path is None or not (self.path / "new").is_dir():
            return None
        return mailbox.Maildir(self.path, factory=None, create=False)


def _mail(key: str, stored: mailbox.MaildirMessage) -> Mail:
    parsed = email.message_from_bytes(stored.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    html_text = _content(html) if html is not None else None
    text = _content(plain) if plain is not None else (html_text or "")
    return Mail(
        key=key,
        sender=str(parsed.get("From", "")),
        recipients=str(parsed.get("To", "")),
        subject=str(parsed.get("Subject", "")),
        date=_date(parsed.get("Date")),
        text=text,
        html=html_text,
    )


def _content(part: MIMEPart) -> str:
    try:
        return str(part.get_content())
    except LookupError:
        # A charset Python does not know: one odd message must not hide the whole mailbox.
        payload = part.get_payload(decode=True)
        return payload.decode(errors="replace") if isinstance(payload, bytes) else ""


def _date(raw: object) -> datetime.datetime | None:
    if raw is None:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)
