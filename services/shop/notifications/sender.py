"""The sender: takes due notifications one at a time, emails them, records the outcome.

Each email is one database transaction: the due row is locked (``FOR UPDATE SKIP LOCKED``,
so another instance takes another row), the message goes to the SMTP server, and then, in
the same transaction, the row is marked and ``NotificationSent`` (or, after the last
attempt, ``NotificationFailed``) is appended to the store, whose outbox publishes it. A
refused attempt that may succeed later (4xx, no connection, a timeout) is retried after
``retry_base`` seconds, doubling up to ``retry_max``, until ``max_attempts``; a permanent
refusal (5xx) ends it at once.

**Where exactly-once can break, and what we do about it.** Recording is exactly once (the
handler's row commits with the event's processed mark, under two unique keys), and so is
the outcome event (it commits with the row's new state). Sending cannot be: SMTP gives no
way to take part in our transaction. If the process dies, or the database goes away,
after the server accepted the message (its 250 reply to DATA) and before the commit, the
row is still pending when the lock goes, and the email is sent again. We prefer that
(at-least-once) to marking the row first and risking an email never sent. A repeat is
recognisable: the ``Message-ID`` is derived from the notification id, itself derived from
what the email is about (:func:`shop.notifications.ledger.notification_id`), so both
copies carry the same id and mail systems and readers that deduplicate by it show one.
The window is one SMTP round trip plus one commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import email.utils
import logging
from email.message import EmailMessage

import asyncpg

from evp.events import Channel, NotificationFailed, NotificationSent
from evp.eventstore import EventStore, PostgresTransaction
from evp.eventstore.errors import RecorderError
from shop.notifications import domain, ledger
from shop.notifications.errors import DeliveryFailed
from shop.notifications.settings import NotificationsSettings
from shop.notifications.smtp import Mailer

__all__ = ["SOURCE", "Sender"]

SOURCE = "notifications"
_log = logging.getLogger("shop.notifications")

# The database being unreachable for a while: wait and look again. Anything else (a bug
# in our SQL, say) ends the sender, and the service's readiness names it.
_DATABASE_DOWN = (
    RecorderError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    OSError,
)


class Sender:
    """Sends what the ledger says is due, through ``mailer``, until told to stop."""

    def __init__(
        self,
        store: EventStore[PostgresTransaction],
        mailer: Mailer,
        settings: NotificationsSettings,
    ) -> None:
        self._store = store
        self._mailer = mailer
        self._settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        """Send due notifications, looking again every ``poll_interval``, until ``stop``."""
        while not stop.is_set():
            try:
                while not stop.is_set() and await self.send_next():
                    pass
            except _DATABASE_DOWN as error:
                _log.warning("notifications: the database is unavailable, waiting: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._settings.poll_interval)

    async def send_next(self) -> bool:
        """Attempt the next due notification; whether there was one."""
        async with self._store.transaction() as transaction:
            due = await ledger.next_due(transaction.connection)
            if due is None:
                return False
            try:
                await self._mailer.send(self.compose(due))
            except DeliveryFailed as error:
                await self._refused(transaction, due, error)
            except ValueError as error:
                # The message cannot even be written (an address with a line break, say):
                # no server will ever take it.
                refusal = DeliveryFailed(f"unusable message: {error}", permanent=True)
                await self._refused(transaction, due, refusal)
            else:
                await ledger.mark_sent(transaction.connection, due)
                sent = NotificationSent.new(
                    notification_id=due.notification_id,
                    user_id=due.user_id,
                    channel=Channel.EMAIL,
                    recipient=due.address,
                    template=due.template.value,
                    source=SOURCE,
                )
                await self._append(transaction, due, sent)
                _log.info("notifications: %s %s sent", due.template, due.notification_id)
        return True

    def compose(self, due: ledger.Due) -> EmailMessage:
        """The email of ``due``, with its stable ``Message-ID``."""
        sender = self._settings.sender
        message = EmailMessage()
        message["From"] = sender
        message["To"] = due.address
        message["Subject"] = due.subject
        message["Date"] = email.utils.format_datetime(datetime.datetime.now(datetime.UTC))
        message["Message-ID"] = domain.message_id(due.notification_id, sender)
        message.set_content(domain.body(due.template, due.facts))
        return message

    async def _refused(
        self, transaction: PostgresTransaction, due: ledger.Due, error: DeliveryFailed
    ) -> None:
        attempts = due.attempts + 1
        settings = self._settings
        if not error.permanent and attempts < settings.max_attempts:
            delay = domain.retry_delay(attempts, base=settings.retry_base, cap=settings.retry_max)
            await ledger.retry_later(transaction.connection, due, error.reason, delay)
            _log.info(
                "notifications: %s attempt %d failed, retrying in %.1fs: %s",
                due.notification_id,
                attempts,
                delay,
                error.reason,
            )
            return
        await ledger.mark_failed(transaction.connection, due, error.reason)
        failed = NotificationFailed.new(
            notification_id=due.notification_id,
            user_id=due.user_id,
            channel=Channel.EMAIL,
            recipient=due.address,
            error=error.reason,
            attempts=attempts,
            source=SOURCE,
        )
        await self._append(transaction, due, failed)
        _log.warning(
            "notifications: %s failed after %d attempt(s): %s",
            due.notification_id,
            attempts,
            error.reason,
        )

    async def _append(
        self,
        transaction: PostgresTransaction,
        due: ledger.Due,
        outcome: NotificationSent | NotificationFailed,
    ) -> None:
        # The outcome belongs to the flow of the event that called for the email (an
        # order's saga, a registration), as its consequence.
        envelope = dataclasses.replace(
            outcome.envelope, correlation_id=due.correlation_id, causation_id=due.source_event_id
        )
        linked = dataclasses.replace(outcome, envelope=envelope)
        stream = f"notification-{due.notification_id}"
        await self._store.append(stream, [linked], expected_version=0, transaction=transaction)
