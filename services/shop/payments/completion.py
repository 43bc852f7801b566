"""Pending payments completed once they are due, by a poller that runs with the service.

A ``tok_slow`` charge leaves the payment pending in the ledger with the time its answer is
due. The poller looks for due payments every ``PAYMENTS_POLL_INTERVAL_S`` and completes each
in a transaction of its own (:func:`shop.payments.cashier.complete`): the row moves on from
``PENDING`` with the events it records, so each completes once, whichever instance polls
(``FOR UPDATE SKIP LOCKED``) and across restarts (the due time is in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Callable

import asyncpg

from evp.eventstore.errors import EventStoreError
from evp.service import ServiceRuntime
from shop.payments import cashier, ledger
from shop.payments.parts import provider_of, settings_of

__all__ = ["complete_due", "complete_pending"]

_log = logging.getLogger("shop.payments")

# What the poller rides out and tries again on the next round: the database or the store
# failing for a while. Anything else is a bug, and ends the poller loudly.
_TRANSIENT = (EventStoreError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
_ROUND = 100


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def complete_due(
    runtime: ServiceRuntime,
    *,
    clock: Callable[[], datetime.datetime] = _utc_now,
    at_most: int = _ROUND,
) -> int:
    """Complete the pending payments due by now, one transaction each; how many.

    ``at_most`` bounds a round, so a provider that keeps answering "pending, due now"
    cannot keep the poller in one round forever.
    """
    provider = provider_of(runtime)
    completed = 0
    while completed < at_most:
        async with runtime.store.transaction() as transaction:
            found = await ledger.due(transaction.connection, clock(), limit=1)
            if not found:
                break
            await cashier.complete(found[0], transaction, runtime.store, provider)
        completed += 1
    return completed


async def complete_pending(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    """Complete due payments every poll interval until ``stop`` is set (a background task).

    It ends only on a bug, which the service's readiness then reports.
    """
    interval = settings_of(runtime).poll_interval_s
    while not stop.is_set():
        try:
            completed = await complete_due(runtime)
        except _TRANSIENT as error:
            _log.warning("pending payments: %s; trying again", error)
        else:
            if completed:
                _log.info("pending payments: %d completed", completed)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
