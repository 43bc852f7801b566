"""The notifications service's errors: one root, and a delivery that did not happen."""

from __future__ import annotations

from evp.errors import EvpError

__all__ = ["DeliveryFailed", "NotificationsError"]


class NotificationsError(EvpError):
    """Root of the errors the notifications service raises on purpose."""


class DeliveryFailed(NotificationsError):
    """The SMTP server did not take a message; ``permanent`` when trying again cannot help.

    ``code`` is the SMTP reply code when the server answered (``None``: no answer at all,
    e.g. the connection was refused or timed out).
    """

    def __init__(self, reason: str, *, code: int | None = None, permanent: bool = False) -> None:
        super().__init__(reason, code=code, permanent=permanent)
        self.reason = reason
        self.code = code
        self.permanent = permanent
