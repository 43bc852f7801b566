"""What the notifications service reads from the environment, once, at start-up.

No ``NOTIFICATIONS_SMTP_HOST``: mail goes to the embedded SMTP sink (see
:mod:`shop.notifications.sink`), so the shop runs on a bare machine. The password is held
as a :class:`~evp.credentials.Secret` and never printed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from evp.credentials import Secret
from evp.settings import SettingsError, env_bool, env_float, env_int, env_str

__all__ = ["DEFAULT_FROM", "NotificationsSettings", "SmtpSettings"]

DEFAULT_FROM = "shop@shop.local"


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    """Where real mail goes: an SMTP server and how to talk to it."""

    host: str
    port: int = 25
    username: str | None = None
    password: Secret | None = None
    starttls: bool | None = None
    """``None``: upgrade when the server offers STARTTLS; ``True``: require it; ``False``: never."""


@dataclasses.dataclass(frozen=True)
class NotificationsSettings:
    """The SMTP server (``None``: the embedded sink), the sender address and the retry policy."""

    smtp: SmtpSettings | None = None
    sender: str = DEFAULT_FROM
    max_attempts: int = 5
    """Delivery attempts before a notification ends in ``NotificationFailed``."""
    retry_base: float = 1.0
    """Seconds before the second attempt; each later wait doubles, up to :attr:`retry_max`."""
    retry_max: float = 300.0
    smtp_timeout: float = 10.0
    poll_interval: float = 0.2
    """Seconds between looks for notifications that are due (the sender's only wake-up)."""
    sink_capacity: int = 1000
    """How many received messages the embedded sink keeps (the oldest go first)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NotificationsSettings:
        """Read the ``NOTIFICATIONS_*`` variables; :class:`SettingsError` names a bad one."""
        env = os.environ if environ is None else environ
        sender = env_str(env, "NOTIFICATIONS_SMTP_FROM", DEFAULT_FROM) or DEFAULT_FROM
        if "@" not in sender:
            raise SettingsError("NOTIFICATIONS_SMTP_FROM", sender, "an email address")
        return cls(
            smtp=_smtp(env),
            sender=sender,
            max_attempts=env_int(env, "NOTIFICATIONS_MAX_ATTEMPTS", 5, minimum=1),
            retry_base=env_float(env, "NOTIFICATIONS_RETRY_BASE_S", 1.0),
            retry_max=env_float(env, "NOTIFICATIONS_RETRY_MAX_S", 300.0),
            smtp_timeout=env_float(env, "NOTIFICATIONS_SMTP_TIMEOUT_S", 10.0),
            poll_interval=env_float(env, "NOTIFICATIONS_POLL_INTERVAL_S", 0.2),
            sink_capacity=env_int(env, "NOTIFICATIONS_SINK_CAPACITY", 1000, minimum=1),
        )


def _smtp(env: Mapping[str, str]) -> SmtpSettings | None:
    host = env_str(env, "NOTIFICATIONS_SMTP_HOST")
    if host is None:
        return None
    port = env_int(env, "NOTIFICATIONS_SMTP_PORT", 25, minimum=1)
    if port > 65535:
        raise SettingsError("NOTIFICATIONS_SMTP_PORT", str(port), "a port number up to 65535")
    username = env_str(env, "NOTIFICATIONS_SMTP_USERNAME")
    password = env_str(env, "NOTIFICATIONS_SMTP_PASSWORD")
    if (username is None) != (password is None):
        missing = (
            "NOTIFICATIONS_SMTP_PASSWORD" if password is None else "NOTIFICATIONS_SMTP_USERNAME"
        )
        # Never quote the password: the error names what is missing, not what was given.
        raise SettingsError(missing, "", "set together with its username or password")
    starttls = (
        env_bool(env, "NOTIFICATIONS_SMTP_STARTTLS", False)
        if env_str(env, "NOTIFICATIONS_SMTP_STARTTLS") is not None
        else None
    )
    return SmtpSettings(
        host=host,
        port=port,
        username=username,
        password=Secret(password) if password is not None else None,
        starttls=starttls,
    )
