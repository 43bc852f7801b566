"""The orders service's settings, read once at start-up (``ORDERS_*``)."""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Mapping

from evp.settings import env_float
from shop.orders.saga import PAYMENT_TIMEOUT

__all__ = ["OrdersSettings"]


@dataclasses.dataclass(frozen=True)
class OrdersSettings:
    """How long the saga waits, how often deadlines are polled, when a saga counts as stuck."""

    payment_timeout: float = 30.0
    """``ORDERS_PAYMENT_TIMEOUT_S``: how long the payment step waits for payments."""
    deadline_poll_interval: float = 0.5
    """``ORDERS_DEADLINE_POLL_INTERVAL_S``: how often due deadlines are looked for."""
    stuck_grace: float = 60.0
    """``ORDERS_STUCK_GRACE_S``: how long past its deadline (or its start, for steps
    without one) a running step may go before ``/sagas?state=stuck`` lists it."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OrdersSettings:
        """The settings the environment gives; defaults for those it does not."""
        env = os.environ if environ is None else environ
        return cls(
            payment_timeout=env_float(env, "ORDERS_PAYMENT_TIMEOUT_S", cls.payment_timeout),
            deadline_poll_interval=env_float(
                env, "ORDERS_DEADLINE_POLL_INTERVAL_S", cls.deadline_poll_interval
            ),
            stuck_grace=env_float(env, "ORDERS_STUCK_GRACE_S", cls.stuck_grace),
        )

    @property
    def timeouts(self) -> dict[str, datetime.timedelta]:
        """The saga's named timeouts."""
        return {PAYMENT_TIMEOUT: datetime.timedelta(seconds=self.payment_timeout)}
