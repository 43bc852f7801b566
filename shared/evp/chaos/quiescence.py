"""Quiescence: the platform has nothing left to do, and has stayed so for a few seconds.

Read from the services' databases and metrics, never from what the run itself counted:

* no order is pending (every ``order-*`` stream of orders' store has a terminal event);
* every outbox is drained (each store's relay checkpoint at its last position) and every
  store-fed read model has caught up with its store;
* nothing waits on a timer: no payment ``PENDING`` in payments' ledger, no email
  ``pending`` in notifications' ledger, no unit ``held`` in inventory;
* every consumer group has committed every message of its topics (asked of the broker:
  :class:`~evp.chaos.topics.GroupLag`; not the services' ``evp_consumer_lag_messages``
  gauge, which counts a partition's whole length as lag from an assignment until a message
  arrives on it, so after a late rebalance it never reads zero);
* and for ``stable_s`` seconds nothing moved: no store appended, no consumer marked an
  event processed, no email went out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evp.chaos.databases import Databases
from evp.chaos.topics import GroupLag
from evp.events import OrderCancelled, OrderConfirmed
from evp.service import Service
from evp.service.runtime import projection_group

__all__ = ["Pulse", "Quiet", "pulse", "subscriptions", "wait_quiet"]

_PENDING_ORDERS = """
SELECT count(*) FROM (
    SELECT stream_id FROM evp_events WHERE stream_id LIKE 'order-%' GROUP BY stream_id
    HAVING NOT bool_or(event_type = ANY($1::text[]))
) AS pending
"""


@dataclass(frozen=True)
class Pulse:
    """What is still going on, at one moment."""

    pending_orders: int
    outbox_waiting: int
    parked: int
    projections_behind: int
    payments_pending: int
    mail_pending: int
    units_held: int
    consumer_lag: int
    motion: tuple[int, ...]
    """Store positions, processed-event marks and sent emails: unchanged means nothing moved."""

    @property
    def idle(self) -> bool:
        """Whether nothing is pending or waiting anywhere."""
        return not any(
            (
                self.pending_orders,
                self.outbox_waiting,
                self.parked,
                self.projections_behind,
                self.payments_pending,
                self.mail_pending,
                self.units_held,
                self.consumer_lag,
            )
        )

    def document(self) -> dict[str, Any]:
        """The JSON form (without the motion fingerprint)."""
        return {
            "pending_orders": self.pending_orders,
            "outbox_waiting": self.outbox_waiting,
            "parked_streams": self.parked,
            "projections_behind": self.projections_behind,
            "payments_pending": self.payments_pending,
            "mail_pending": self.mail_pending,
            "units_held": self.units_held,
            "consumer_lag": self.consumer_lag,
        }


@dataclass(frozen=True)
class Quiet:
    """How waiting for quiescence ended."""

    reached: bool
    waited_s: float
    last: Pulse | None


def subscriptions(services: Mapping[str, Service], prefix: str) -> dict[str, set[str]]:
    """Every consumer group the services run (handlers' and Kafka-fed read models') and the
    topics it reads."""
    groups: dict[str, set[str]] = {}
    for name, service in services.items():
        for spec in service.handlers:
            groups.setdefault(spec.group, set()).update(prefix + e.TOPIC for e in spec.events)
        for projection, events in service.kafka_projections:
            group = projection_group(name, projection)
            groups.setdefault(group, set()).update(prefix + e.TOPIC for e in events)
    return groups


async def pulse(
    databases: Databases, projections: Mapping[str, Sequence[str]], groups: GroupLag
) -> Pulse:
    """The platform's pulse: ``projections`` names each service's store-fed read models,
    ``groups`` reads the consumer groups' lag."""
    waiting = parked = behind = 0
    positions, marks = [], []
    for service in databases.urls:
        last, relayed, stuck = await databases.outbox(service)
        waiting += max(0, last - relayed)
        parked += stuck
        positions.append(last)
        marks.append(
            int(await databases.value(service, "SELECT count(*) FROM evp_processed_events"))
        )
        for name in projections.get(service, ()):
            behind += max(0, last - await databases.checkpoint(service, name))
    sent = int(
        await databases.value(
            "notifications", "SELECT count(*) FROM notifications WHERE status = 'sent'"
        )
    )
    return Pulse(
        pending_orders=int(
            await databases.value(
                "orders", _PENDING_ORDERS, [OrderConfirmed.FULL_NAME, OrderCancelled.FULL_NAME]
            )
        ),
        outbox_waiting=waiting,
        parked=parked,
        projections_behind=behind,
        payments_pending=int(
            await databases.value(
                "payments", "SELECT count(*) FROM payments WHERE status = 'PENDING'"
            )
        ),
        mail_pending=int(
            await databases.value(
                "notifications", "SELECT count(*) FROM notifications WHERE status = 'pending'"
            )
        ),
        units_held=int(
            await databases.value("inventory", "SELECT COALESCE(sum(held), 0) FROM products")
        ),
        consumer_lag=sum((await asyncio.to_thread(groups.lag)).values()),
        motion=(*positions, *marks, sent),
    )


async def wait_quiet(
    probe: Callable[[], Awaitable[Pulse]],
    *,
    timeout: float,
    stable_s: float = 3.0,
    interval: float = 1.0,
    on_pulse: Callable[[Pulse], None] = lambda pulse: None,
) -> Quiet:
    """Probe until the platform has been idle and still for ``stable_s`` seconds, or
    ``timeout`` seconds passed."""
    started = time.monotonic()
    still_since: float | None = None
    last: Pulse | None = None
    while True:
        now = time.monotonic()
        current = await probe()
        on_pulse(current)
        if current.idle and last is not None and current.motion == last.motion:
            still_since = still_since if still_since is not None else now
            if now - still_since >= stable_s:
                return Quiet(True, now - started, current)
        else:
            still_since = None
        last = current
        if now - started >= timeout:
            return Quiet(False, now - started, current)
        await asyncio.sleep(interval)
