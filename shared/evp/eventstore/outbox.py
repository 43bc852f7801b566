"""The transactional outbox: the event table *is* the outbox, and a relay drains it to Kafka.

Appending an event and recording it for publication are the same insert, so they cannot
disagree: there is no second write to forget. The relay follows the store's gap-free
positions from its checkpoint, publishes each event's stored frame with the publisher's
confirmed delivery, and then records the last position it published -- in that order. A
crash between publishing and recording therefore republishes the unrecorded tail (never
loses it); consumers deduplicate on the event id through the tracking recorder.

Each event is keyed exactly as ``EventBus.publish`` keys it -- by its catalog key's value
(the aggregate id), recorded with the event when it was appended -- so a consumer cannot
tell the two paths apart by key or partition either. Events of one stream are published
one after the other, in version order, so they reach their partition in order; different
streams go out concurrently.
With ``pipelined=True`` the relay does not wait for one confirmation before the next send:
it starts every send of a batch in position order and awaits them together. That is only
safe with a publisher that enqueues in call order (before its first ``await``) and a
producer that keeps a partition's order across retries (Kafka: ``enable.idempotence``).
While a batch is in flight the relay holds its checkpoint's lock, so two relays of one
service take turns instead of publishing the same batch twice.

Topics come from the publisher: the relay publishes through an :class:`Outlet` (the
event bus is one), whose ``topics`` apply the deployment's prefix, exactly as for events
the bus publishes itself.

Poison events
-------------
A failure is transient or permanent (:mod:`evp.eventstore.failure`). A transient one
(the broker is down) records nothing, and :meth:`OutboxRelay.run` retries after a back-off.
A permanent one (the event's type is unknown, the broker refuses the frame for good)
*parks* the event's stream in the same transaction that moves the checkpoint: the
relay skips the stream's later events -- they stay in the event table -- and relays
every other stream. :meth:`OutboxRelay.retry` republishes a parked stream from the
parked event up to the checkpoint, in order, and only then unparks it, so the stream's
order holds across the pause. With ``pipelined=True`` later events of a stream may already
be in flight when an earlier one is refused; a retry republishes them after it (consumers
deduplicate).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Collection, Mapping, Sequence
from contextlib import suppress
from typing import Any, Protocol

from evp.avro import Event
from evp.events import EVENT_TYPES
from evp.eventstore.errors import PublishFailed, RecorderError, StreamNotParked, UnknownEventType
from evp.eventstore.failure import Failure, classify
from evp.eventstore.headers import event_headers
from evp.eventstore.recorder import ParkedStream, StoredEvent, TrackingRecorder, Transaction

__all__ = [
    "DEFAULT_RELAY_NAME",
    "OutboxRelay",
    "Outlet",
    "RawPublisher",
    "RelayStats",
    "TopicRouting",
]

DEFAULT_RELAY_NAME = "outbox"
_WAKE_GAP_S = 0.02  # the shortest time between two relay rounds started by wake-ups

# What run() retries after a back-off; anything else is a bug and ends it.
_RETRIED = (PublishFailed, RecorderError)

_log = logging.getLogger(__name__)


class RawPublisher(Protocol):
    """Publishes ready-made frames; returns once the broker confirmed delivery, else raises."""

    async def publish_raw(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> object:
        """Send one frame; whatever it returns (a delivery report, say) is ignored."""
        ...


class TopicRouting(Protocol):
    """This deployment's topic of each event class (:class:`evp.messaging.TopicNames`)."""

    def of(self, event_type: type[Event]) -> str:
        """The topic events of ``event_type`` are published to."""
        ...


class Outlet(RawPublisher, Protocol):
    """A raw publisher that knows the deployment's topics: the event bus is one."""

    @property
    def topics(self) -> TopicRouting:
        """How event classes map to this deployment's topics (prefix included)."""
        ...


@dataclasses.dataclass(slots=True)
class RelayStats:
    """What a relay did since it was built, for metrics and health checks."""

    published: int = 0
    """Events confirmed by the broker (republished ones included)."""
    parked: int = 0
    """Streams this relay parked."""
    failures: int = 0
    """Transient failures :meth:`OutboxRelay.run` retried."""
    last_error: str | None = None
    """The transient failure of the latest attempt; ``None`` once an attempt succeeds."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Refusal:
    """An event that cannot be published, and why: its stream is to be parked there."""

    stored: StoredEvent
    reason: str


class OutboxRelay:
    """Publishes stored events in position order and records how far it got.

    Run :meth:`run` as a task inside a service, or in a process of its own; tests and
    benchmarks call :meth:`publish_pending` or :meth:`drain` directly. ``event_types``
    maps stored event types to the classes whose topic they go to; a type missing from it
    parks its stream. Events of the ``local`` types are the service's own records of other
    services' events (analytics keeps a copy of everything it reads): they stay in the
    store and are never published.
    """

    def __init__(
        self,
        recorder: TrackingRecorder[Any],
        outlet: Outlet,
        *,
        name: str = DEFAULT_RELAY_NAME,
        event_types: Mapping[str, type[Event]] = EVENT_TYPES,
        batch_size: int = 1000,
        poll_interval: float = 0.1,
        max_backoff: float = 5.0,
        pipelined: bool = False,
        local: Collection[str] = (),
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        self.name = name
        self.stats = RelayStats()
        self._recorder = recorder
        self._outlet = outlet
        self._event_types = event_types
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._pipelined = pipelined
        self._local = frozenset(local)
        self._woken: asyncio.Event | None = None

    # -- relaying -----------------------------------------------------------------------

    async def publish_pending(self) -> int:
        """Publish the next batch after the checkpoint and record it; how many were published.

        Events of parked streams are skipped, and a stream whose event cannot be published
        is parked there; either way the checkpoint moves past the batch.
        """
        _, published = await self._relay_batch()
        return published

    async def drain(self) -> int:
        """Publish batches until none is left; how many events were published."""
        total = 0
        while True:
            relayed, published = await self._relay_batch()
            total += published
            if not relayed:
                return total

    def wake(self) -> None:
        """Events were committed: relay now rather than at the next poll (see :meth:`run`)."""
        if self._woken is not None:
            self._woken.set()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Relay until ``stop`` is set, polling when idle and backing off after failures.

        When idle it waits ``poll_interval`` or until :meth:`wake` is called, whichever
        comes first: a service wakes its relay on every commit of events, so they go out
        without waiting for a poll, while the poll still finds what other writers stored.
        Only transient failures (:class:`PublishFailed`, :class:`RecorderError`) are
        retried; any other error ends the loop, for the service to see.
        """
        stop = stop or asyncio.Event()
        woken = self._woken = asyncio.Event()
        backoff = self._poll_interval
        loop = asyncio.get_running_loop()
        started = -math.inf
        idled = False
        while not stop.is_set():
            # Woken soon after the last round: wait out the gap, so that a busy service's
            # commits go out in batches instead of one relay round (and checkpoint) each.
            gap = started + _WAKE_GAP_S - loop.time()
            if idled and gap > 0:
                await _sleep(stop, gap)
            started, idled = loop.time(), False
            # Cleared before reading, so a commit made while the batch runs wakes the next.
            woken.clear()
            try:
                relayed, _ = await self._relay_batch()
            except _RETRIED as error:
                self.stats.failures += 1
                self.stats.last_error = str(error)
                _log.warning("outbox relay %s: %s; retrying in %.1fs", self.name, error, backoff)
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self.stats.last_error = None
            backoff = self._poll_interval
            if relayed < self._batch_size:
                await _idle(stop, woken, self._poll_interval)
                idled = True

    # -- parked streams -----------------------------------------------------------------

    async def parked_streams(self) -> list[ParkedStream]:
        """The streams this relay has parked, by position."""
        return await self._recorder.parked_streams(self.name)

    async def lag(self) -> int:
        """How many positions the relay's checkpoint is behind the store."""
        last = await self._recorder.last_position()
        return last - await self._recorder.checkpoint(self.name)

    async def retry(self, stream_id: str) -> ParkedStream | None:
        """Republish parked ``stream_id`` from its parked event, in order, then unpark it.

        Events up to the checkpoint are republished here; later ones are the relay's as
        usual once the stream is unparked. Returns ``None`` when the stream is relayed
        again, or the stream parked anew when an event still cannot be published. Raises
        :class:`StreamNotParked` for a stream that is not parked, and
        :class:`PublishFailed` (the stream stays parked) when the broker is unavailable.
        """
        async with self._recorder.transaction() as transaction:
            # Holding the checkpoint's lock keeps the relay's own batches out meanwhile.
            checkpoint = await transaction.checkpoint(self.name)
            parked = {p.stream_id: p for p in await transaction.parked_streams(self.name)}
            if stream_id not in parked:
                raise StreamNotParked(self.name, stream_id)
            start = parked[stream_id].position
            events = [
                stored
                for stored in await self._recorder.read_stream(stream_id)
                if start <= stored.position <= checkpoint
            ]
            refusals = await self._publish(events)
            if refusals:
                await self._park(transaction, refusals[0])
            else:
                await transaction.unpark(self.name, stream_id)
        if not refusals:
            return None
        return next((p for p in await self.parked_streams() if p.stream_id == stream_id), None)

    async def retry_all(self) -> list[ParkedStream]:
        """:meth:`retry` every parked stream; the streams still parked afterwards."""
        for parked in await self.parked_streams():
            await self.retry(parked.stream_id)
        return await self.parked_streams()

    # -- internals ----------------------------------------------------------------------

    async def _relay_batch(self) -> tuple[int, int]:
        """Relay the next batch; how many positions it covered, and how many were published."""
        async with self._recorder.transaction() as transaction:
            after = await transaction.checkpoint(self.name)
            batch = await self._recorder.read_all(after, limit=self._batch_size)
            if not batch:
                return 0, 0
            # Counted under the checkpoint's lock: no other batch of this relay runs now.
            before = self.stats.published
            parked = {p.stream_id for p in await transaction.parked_streams(self.name)}
            local = self._local
            refusals = await self._publish(
                [s for s in batch if s.stream_id not in parked and s.event_type not in local]
            )
            for refusal in refusals:
                await self._park(transaction, refusal)
            await transaction.save_checkpoint(self.name, batch[-1].position)
        return len(batch), self.stats.published - before

    async def _park(self, transaction: Transaction, refusal: _Refusal) -> None:
        stored = refusal.stored
        _log.error(
            "outbox relay %s parked stream %s at position %d (%s): %s",
            self.name,
            stored.stream_id,
            stored.position,
            stored.event_type,
            refusal.reason,
        )
        self.stats.parked += 1
        await transaction.park(
            self.name,
            stored.stream_id,
            position=stored.position,
            event_type=stored.event_type,
            reason=refusal.reason,
        )

    async def _publish(self, events: Sequence[StoredEvent]) -> list[_Refusal]:
        """Publish ``events``; the first refused event of each stream that had one."""
        if not events:
            return []
        if self._pipelined:
            # Tasks start in creation order, so the sends are issued in position order.
            groups: list[Sequence[StoredEvent]] = [(stored,) for stored in events]
        else:
            streams: dict[str, list[StoredEvent]] = {}
            for stored in events:
                streams.setdefault(stored.stream_id, []).append(stored)
            groups = list(streams.values())
        if len(groups) == 1:
            outcome = await self._publish_stream(groups[0])
            return [] if outcome is None else [outcome]
        tasks = [asyncio.ensure_future(self._publish_stream(group)) for group in groups]
        try:
            outcomes = await asyncio.gather(*tasks)
        finally:
            # On the first failure, stop the other streams too: the batch is not recorded.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        first: dict[str, _Refusal] = {}
        for outcome in outcomes:
            if outcome is not None:
                first.setdefault(outcome.stored.stream_id, outcome)
        return list(first.values())

    async def _publish_stream(self, events: Sequence[StoredEvent]) -> _Refusal | None:
        """Publish one stream's events in order, stopping at the first refused one."""
        for stored in events:
            try:
                topic = self._topic(stored)
            except UnknownEventType as error:
                return _Refusal(stored, str(error))
            try:
                await self._outlet.publish_raw(
                    topic, _message_key(stored), stored.data, event_headers(stored)
                )
            except Exception as error:
                failure = classify(error)
                if failure is None:
                    raise
                if failure is Failure.PERMANENT:
                    return _Refusal(stored, f"{type(error).__name__}: {error}")
                raise PublishFailed(
                    relay=self.name,
                    topic=topic,
                    stream_id=stored.stream_id,
                    position=stored.position,
                ) from error
            self.stats.published += 1
        return None

    def _topic(self, stored: StoredEvent) -> str:
        event_class = self._event_types.get(stored.event_type)
        if event_class is None:
            raise UnknownEventType(stored.event_type, position=stored.position)
        return self._outlet.topics.of(event_class)


def _message_key(stored: StoredEvent) -> bytes:
    """The key ``EventBus.publish`` sends for the event: its catalog key's value.

    Events stored before the store kept keys (migration 0003) have none; they keep the
    key they were always relayed with, their stream id, so a stream's backlog stays on
    the partition its earlier events went to.
    """
    return (stored.key or stored.stream_id).encode()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _idle(stop: asyncio.Event, woken: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or until ``stop`` or ``woken`` is set."""
    if woken.is_set():
        return
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
