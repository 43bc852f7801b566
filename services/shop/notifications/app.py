"""The notifications service: real email for a registration and for each finished order.

It records one notification per (event, recipient, template) in the handler's
transaction and sends it over SMTP from a background sender, retried with backoff, ending
in ``NotificationSent`` or ``NotificationFailed``. With no SMTP server configured, mail
goes to an embedded SMTP sink that admins can read.
"""

from __future__ import annotations

import asyncio

from evp.events import (
    NotificationFailed,
    NotificationSent,
    OrderCancelled,
    OrderConfirmed,
    UserRegistered,
)
from evp.service import Service, ServiceRuntime
from shop.notifications import handlers, routes
from shop.notifications.projections import KAFKA_PROJECTIONS, MIGRATIONS, MIGRATIONS_COMPONENT
from shop.notifications.sender import Sender
from shop.notifications.settings import NotificationsSettings, SmtpSettings
from shop.notifications.sink import MailSink
from shop.notifications.smtp import SmtpMailer

__all__ = ["service"]

service = Service(
    "notifications",
    publishes=(NotificationSent, NotificationFailed),
    description="Emails a welcome on registration and one email per confirmed or cancelled "
    "order, exactly once each; an embedded SMTP sink stands in when no server is set.",
)

service.handles(UserRegistered, retries=5, timeout=10)(handlers.on_user_registered)
service.handles(OrderConfirmed, retries=5, timeout=10)(handlers.on_order_confirmed)
service.handles(OrderCancelled, retries=5, timeout=10)(handlers.on_order_cancelled)
for projection in KAFKA_PROJECTIONS:
    service.projection(projection, source="kafka")
service.migrate(MIGRATIONS_COMPONENT, MIGRATIONS)
service.include(routes.router)


@service.on_startup
async def start_mail(runtime: ServiceRuntime) -> None:
    """Read the settings; start the embedded sink when no SMTP server is set."""
    settings = NotificationsSettings.from_env()
    runtime.state["settings"] = settings
    smtp = settings.smtp
    if smtp is None:
        sink = MailSink(capacity=settings.sink_capacity)
        await asyncio.to_thread(sink.start)
        runtime.state["sink"] = sink
        smtp = SmtpSettings(host=sink.host, port=sink.port, starttls=False)
    mailer = SmtpMailer(smtp, timeout=settings.smtp_timeout)
    runtime.state["sender"] = Sender(runtime.store, mailer, settings)


@service.background
async def send_mail(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    """Send due notifications until the service stops; then stop the sink."""
    sender: Sender = runtime.state["sender"]
    try:
        await sender.run(stop)
    finally:
        sink = runtime.state.get("sink")
        if isinstance(sink, MailSink):
            await asyncio.to_thread(sink.stop)
