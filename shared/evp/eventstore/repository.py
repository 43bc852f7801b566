"""Loading aggregates by replaying their streams, and saving what they triggered."""

from __future__ import annotations

import datetime
from typing import Any, Generic, TypeVar

from evp.eventstore.aggregate import Aggregate
from evp.eventstore.errors import AggregateNotFound
from evp.eventstore.recorder import Transaction
from evp.eventstore.store import EventStore

__all__ = ["Repository"]

A = TypeVar("A", bound=Aggregate[Any])


class Repository(Generic[A]):
    """Aggregates of one class, one stream each, keyed by the aggregate id."""

    def __init__(self, store: EventStore[Any], aggregate_type: type[A]) -> None:
        self._store = store
        self._type = aggregate_type

    async def get(
        self,
        aggregate_id: str,
        *,
        version: int | None = None,
        at: datetime.datetime | None = None,
    ) -> A:
        """The aggregate now, or as it was at ``version`` or at time ``at`` (time travel).

        Raises :class:`~evp.eventstore.errors.AggregateNotFound` when nothing is stored.
        """
        events = await self._store.load(aggregate_id, to_version=version, until=at)
        if not events:
            raise AggregateNotFound(self._type.__name__, aggregate_id)
        return self._type.replay(aggregate_id, events)

    async def save(self, aggregate: A, *, transaction: Transaction | None = None) -> int:
        """Append the aggregate's pending events, expecting the version it was loaded at.

        Raises :class:`~evp.eventstore.errors.ConcurrencyError` when someone saved the
        aggregate since (within ``transaction``: when it commits); reload and retry.
        """
        pending = aggregate.pending_events
        if not pending:
            return aggregate.version
        version = await self._store.append(
            aggregate.id,
            pending,
            expected_version=aggregate.version - len(pending),
            transaction=transaction,
        )
        aggregate.mark_saved()
        return version
