"""CQRS projections: events folded into read models, each write committed with its checkpoint.

A projection has one entry point, :meth:`Projection.handle`, called with a decoded event
and the transaction its writes belong to. Two sources feed it:

* the store itself -- :class:`ProjectionRunner` follows the global position, handling a
  batch and saving the position it reached in one transaction, and rebuilds the read model
  from position 0 (``evp replay``);
* Kafka, through the messaging runtime -- :func:`project_once` handles one delivered event
  in a transaction that also marks its id processed, so redeliveries are no-ops.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Collection, Sequence
from contextlib import suppress
from typing import Any, Generic, Protocol, TypeVar

from evp.avro import Event
from evp.eventstore.errors import EventStoreError, ProjectionNotFound
from evp.eventstore.recorder import StoredEvent, Transaction
from evp.eventstore.store import EventStore

__all__ = [
    "PROJECTIONS_MODULE",
    "Projection",
    "ProjectionRunner",
    "find_projection",
    "project_once",
]

# Where a service declares its projections: a module exposing ``PROJECTIONS``.
PROJECTIONS_MODULE = "shop.{service}.projections"

T = TypeVar("T", bound=Transaction)
T_contra = TypeVar("T_contra", bound=Transaction, contravariant=True)

_log = logging.getLogger(__name__)


class Projection(Protocol[T_contra]):
    """A read model fed by events; ``T_contra`` is the transaction its writes need."""

    @property
    def name(self) -> str:
        """Unique within the service: names its checkpoint and processed-event marks."""
        ...

    @property
    def event_types(self) -> Collection[str] | None:
        """Full names of the events it handles (``None``: all); others are skipped unread."""
        ...

    async def handle(self, event: Event, transaction: T_contra) -> None:
        """Apply one event to the read model, writing within ``transaction``."""
        ...

    async def reset(self, transaction: T_contra) -> None:
        """Empty the read model, within ``transaction`` (before a rebuild)."""
        ...


async def project_once(store: EventStore[T], projection: Projection[T], event: Event) -> bool:
    """Handle a delivered event unless the projection already has; whether it was handled now.

    The processed mark and the read-model writes commit together, so a redelivery after a
    crash either finds the mark or finds nothing written.
    """
    wanted = projection.event_types
    if wanted is not None and event.FULL_NAME not in wanted:
        return False
    async with store.transaction() as transaction:
        if not await transaction.mark_processed(projection.name, event.envelope.event_id):
            return False
        await projection.handle(event, transaction)
    return True


class ProjectionRunner(Generic[T]):
    """Feeds one projection from the store, in position order, from its checkpoint."""

    def __init__(
        self,
        store: EventStore[T],
        projection: Projection[T],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.2,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        self._store = store
        self._projection = projection
        self._batch_size = batch_size
        self._poll_interval = poll_interval

    @property
    def projection(self) -> Projection[T]:
        """The projection this runner feeds."""
        return self._projection

    async def run_once(self) -> int:
        """Handle the next batch and save the checkpoint with it; how many were handled."""
        name = self._projection.name
        async with self._store.transaction() as transaction:
            # Locks the checkpoint: a second runner, or a rebuild, waits for this batch.
            after = await transaction.checkpoint(name)
            # Every event up to here is visible (positions become visible in order), so a
            # short batch means none of them is left: skip the unwanted ones for good.
            seen = await self._store.recorder.last_position()
            batch = await self._read(after)
            await self._handle(batch, transaction)
            reached = batch[-1].position if batch else after
            if len(batch) < self._batch_size:
                reached = max(reached, seen)
            if reached != after:
                await transaction.save_checkpoint(name, reached)
        return len(batch)

    async def catch_up(self) -> int:
        """Handle batches until the projection has seen every stored event; how many."""
        total = 0
        while handled := await self.run_once():
            total += handled
        return total

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Keep the projection up to date until ``stop`` is set."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except EventStoreError as error:
                _log.warning("projection %s: %s; retrying", self._projection.name, error)
                handled = 0
            if handled < self._batch_size:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._poll_interval)

    async def rebuild(self) -> int:
        """Empty the read model and replay every stored event into it, in one transaction.

        The live runner waits on the checkpoint lock meanwhile; on Postgres, readers keep
        seeing the old model until the new one commits when :meth:`Projection.reset`
        deletes rows (TRUNCATE would block them). Returns how many events were handled.
        """
        name = self._projection.name
        total = 0
        async with self._store.transaction() as transaction:
            await transaction.checkpoint(name)
            await transaction.reset_consumer(name)
            await self._projection.reset(transaction)
            seen = await self._store.recorder.last_position()
            position = 0
            while batch := await self._read(position):
                await self._handle(batch, transaction)
                position = batch[-1].position
                total += len(batch)
            await transaction.save_checkpoint(name, max(position, seen))
        return total

    async def _read(self, after: int) -> list[StoredEvent]:
        return await self._store.recorder.read_all(
            after, limit=self._batch_size, event_types=self._projection.event_types
        )

    async def _handle(self, batch: Sequence[StoredEvent], transaction: T) -> None:
        for stored in batch:
            await self._projection.handle(self._store.decode(stored), transaction)


def find_projection(service: str, name: str, *, module: str | None = None) -> Projection[Any]:
    """Projection ``name`` of ``service``, from the ``PROJECTIONS`` of its projections module.

    ``module`` overrides the conventional ``shop.<service>.projections``. Raises
    :class:`~evp.eventstore.errors.ProjectionNotFound` listing what the service has.
    """
    path = module or PROJECTIONS_MODULE.format(service=service.replace("-", "_"))
    try:
        declared: Sequence[Projection[Any]] = importlib.import_module(path).PROJECTIONS
    except ModuleNotFoundError as error:
        # Only the module (or a package on its path) missing means "no projections";
        # a dependency missing inside it is a real error.
        if error.name is None or not f"{path}.".startswith(f"{error.name}."):
            raise
        raise ProjectionNotFound(service, name, []) from None
    except AttributeError:
        raise ProjectionNotFound(service, name, []) from None
    by_name = {projection.name: projection for projection in declared}
    if name not in by_name:
        raise ProjectionNotFound(service, name, list(by_name))
    return by_name[name]
