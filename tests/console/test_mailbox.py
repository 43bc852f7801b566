"""The console's mailbox: the mail sink's Maildir read newest first, each message's text."""

from __future__ import annotations

import datetime
import email.utils
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from evp.console.mailbox import Mailbox
from evp.web.errors import NotFound

MONDAY = datetime.datetime(2024, 5, 6, 9, 0, tzinfo=datetime.UTC)


def _message(subject: str, *, date: datetime.datetime = MONDAY) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["To"] = "ada@example.com"
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(date)
    return message


def _maildir(path: Path, *messages: EmailMessage | bytes) -> list[str]:
    """A Maildir at ``path`` holding ``messages``; their keys, in the order given."""
    box = mailbox.Maildir(path, create=True)
    try:
        return [box.add(message) for message in messages]
    finally:
        box.close()


def test_messages_are_listed_newest_first(tmp_path: Path) -> None:
    """Messages come newest first, whatever order they arrived in."""
    sent = {"Tuesday": 1, "Monday": 0, "Wednesday": 2}
    _maildir(
        tmp_path / "mail",
        *(
            _message(day, date=MONDAY + datetime.timedelta(days=offset))
            for day, offset in sent.items()
        ),
    )
    found = Mailbox(tmp_path / "mail").messages()
    assert [mail.subject for mail in found] == ["Wednesday", "Tuesday", "Monday"]


def test_limit_keeps_the_newest_messages(tmp_path: Path) -> None:
    """A limit drops the oldest messages, not the newest."""
    _maildir(
        tmp_path / "mail",
        *(_message(f"day {n}", date=MONDAY + datetime.timedelta(days=n)) for n in range(4)),
    )
    found = Mailbox(tmp_path / "mail").messages(limit=2)
    assert [mail.subject for mail in found] == ["day 3", "day 2"]


def test_the_plain_part_is_preferred_as_text(tmp_path: Path) -> None:
    """A message with plain and HTML parts reads as its plain part, the HTML kept beside it."""
    message = _message("Your order")
    message.set_content("Thank you for your order.\n")
    message.add_alternative("<p>Thank you for your <b>order</b>.</p>\n", subtype="html")
    _maildir(tmp_path / "mail", message)
    (mail,) = Mailbox(tmp_path / "mail").messages()
    assert mail.text == "Thank you for your order.\n"
    assert mail.html == "<p>Thank you for your <b>order</b>.</p>\n"


def test_an_html_only_message_reads_as_its_html(tmp_path: Path) -> None:
    """A message with only an HTML part gives that HTML as its text."""
    message = _message("Your order")
    message.set_content("<p>Shipped.</p>\n", subtype="html")
    _maildir(tmp_path / "mail", message)
    (mail,) = Mailbox(tmp_path / "mail").messages()
    assert mail.text == "<p>Shipped.</p>\n"


def test_a_missing_maildir_holds_no_messages(tmp_path: Path) -> None:
    """A Maildir the sink has not created yet is an empty mailbox, not an error."""
    assert Mailbox(tmp_path / "not-yet").messages() == []


def test_no_sink_holds_no_messages() -> None:
    """Without a sink (mail goes to a real SMTP server) the mailbox is empty."""
    assert Mailbox(None).messages() == []


def test_a_message_is_found_by_its_key(tmp_path: Path) -> None:
    """The key of a listed message gives that message in full."""
    first = _message("First")
    first.set_content("one\n")
    second = _message("Second", date=MONDAY + datetime.timedelta(hours=1))
    second.set_content("two\n")
    _, key = _maildir(tmp_path / "mail", first, second)
    document = Mailbox(tmp_path / "mail").message(key).document()
    assert document == {
        "key": key,
        "from": "shop@example.com",
        "to": "ada@example.com",
        "subject": "Second",
        "date": "2024-05-06T10:00:00+00:00",
        "text": "two\n",
        "html": None,
    }


def test_an_unknown_key_is_not_found(tmp_path: Path) -> None:
    """Asking for a key the Maildir does not hold raises NotFound naming the key."""
    _maildir(tmp_path / "mail", _message("Only"))
    with pytest.raises(NotFound) as raised:
        Mailbox(tmp_path / "mail").message("no-such-key")
    assert raised.value.resource_id == "no-such-key"


def test_an_encoded_subject_is_decoded(tmp_path: Path) -> None:
    """A subject sent as an RFC 2047 encoded word is shown as the text it encodes."""
    raw = (
        b"From: shop@example.com\r\n"
        b"To: ada@example.com\r\n"
        b"Subject: =?utf-8?q?Bestellung_=C3=BCber_5_=E2=82=AC?=\r\n"
        b"Date: Mon, 06 May 2024 09:00:00 +0000\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"Danke.\r\n"
    )
    _maildir(tmp_path / "mail", raw)
    (mail,) = Mailbox(tmp_path / "mail").messages()
    assert mail.subject == "Bestellung über 5 €"


def test_a_message_in_an_unknown_charset_is_still_listed(tmp_path: Path) -> None:
    """A message whose charset Python does not know is read as UTF-8, not an error for all."""
    raw = (
        b"From: shop@example.com\r\n"
        b"Subject: Odd\r\n"
        b"Date: Mon, 06 May 2024 09:00:00 +0000\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
        b"\r\n"
        b"Gr\xc3\xbc\xc3\x9fe \xff\r\n"
    )
    _maildir(tmp_path / "mail", raw, _message("Fine", date=MONDAY - datetime.timedelta(days=1)))
    found = Mailbox(tmp_path / "mail").messages()
    assert [(mail.subject, mail.text) for mail in found] == [
        ("Odd", "Grüße \ufffd\n"),
        ("Fine", ""),
    ]
