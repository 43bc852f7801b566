"""What the payments service reads from the environment, once, at start-up."""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from evp.settings import SettingsError, env_float, env_str

__all__ = [
    "DEFAULT_DECLINE_ABOVE",
    "DEFAULT_POLL_INTERVAL_S",
    "DEFAULT_SLOW_APPROVAL_S",
    "PaymentsSettings",
]

DEFAULT_DECLINE_ABOVE = Decimal("5000.00")
DEFAULT_SLOW_APPROVAL_S = 3600.0
DEFAULT_POLL_INTERVAL_S = 1.0


@dataclasses.dataclass(frozen=True)
class PaymentsSettings:
    """The simulated provider's limit and delay, and how often pending payments are polled."""

    decline_above: Decimal = DEFAULT_DECLINE_ABOVE
    """Any charge above this amount is declined (``INSUFFICIENT_FUNDS``)."""
    slow_approval_s: float = DEFAULT_SLOW_APPROVAL_S
    """Seconds after which a ``tok_slow`` charge is approved."""
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S
    """Seconds between two looks for pending payments that are due."""

    @property
    def slow_approval(self) -> datetime.timedelta:
        """:attr:`slow_approval_s` as a duration."""
        return datetime.timedelta(seconds=self.slow_approval_s)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PaymentsSettings:
        """``PAYMENTS_DECLINE_ABOVE``, ``PAYMENTS_SLOW_APPROVAL_S``, ``PAYMENTS_POLL_INTERVAL_S``;
        :class:`~evp.settings.SettingsError` names a malformed one."""
        env = os.environ if environ is None else environ
        poll = env_float(env, "PAYMENTS_POLL_INTERVAL_S", DEFAULT_POLL_INTERVAL_S)
        if poll == 0:
            # A zero interval would poll the database in a tight loop.
            raw = env_str(env, "PAYMENTS_POLL_INTERVAL_S") or ""
            raise SettingsError("PAYMENTS_POLL_INTERVAL_S", raw, "a number > 0")
        return cls(
            decline_above=_env_amount(env, "PAYMENTS_DECLINE_ABOVE", DEFAULT_DECLINE_ABOVE),
            slow_approval_s=env_float(env, "PAYMENTS_SLOW_APPROVAL_S", DEFAULT_SLOW_APPROVAL_S),
            poll_interval_s=poll,
        )


def _env_amount(environ: Mapping[str, str], key: str, default: Decimal) -> Decimal:
    raw = env_str(environ, key)
    if raw is None:
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise SettingsError(key, raw, "an amount such as 5000.00") from None
    if not value.is_finite() or value < 0:
        raise SettingsError(key, raw, "an amount >= 0")
    return value
