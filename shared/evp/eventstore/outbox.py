"""The transactional outbox: the event table *is* the outbox, and a relay drains it to Kafka.

Appending an event and recording it for publication are the same insert, so they cannot
disagree: there is no second write to forget. The relay follows the store's gap-free
positions from its checkpoint, publishes each event's stored frame with the publisher's
confirmed delivery, and then records the last position it published -- in that order. A
crash between publishing and recording therefore republishes the unrecorded tail (never
loses it); consumers deduplicate on the event id through the tracking recorder.

Events of one stream are published one after the other, in version order, so they reach
their partition (keyed by the stream id) in order; different streams go out concurrently.
With ``pipelined=True`` the relay does not wait for one confirmation before the next send:
it starts every send of a batch in position order and awaits them together. That is only
safe with a publisher that enqueues in call order (before its first ``await``) and a
producer that keeps a partition's order across retries (Kafka: ``enable.idempotence``).
While a batch is in flight the relay holds its checkpoint's lock, so two relays of one
service take turns instead of publishing the same batch twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any, Protocol

from evp.avro import Event
from evp.events import EVENT_TYPES
from evp.eventstore.errors import EventStoreError, PublishFailed, UnknownEventType
from evp.eventstore.headers import event_headers
from evp.eventstore.recorder import StoredEvent, TrackingRecorder

__all__ = ["DEFAULT_RELAY_NAME", "OutboxRelay", "RawPublisher", "topic_router"]

DEFAULT_RELAY_NAME = "outbox"

_log = logging.getLogger(__name__)


class RawPublisher(Protocol):
    """Publishes ready-made frames; returns once the broker confirmed delivery, else raises."""

    async def publish_raw(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> object:
        """Send one frame; whatever it returns (a delivery report, say) is ignored."""
        ...


def topic_router(event_types: Mapping[str, type[Event]] = EVENT_TYPES) -> Callable[[str], str]:
    """Event type -> the topic of its generated class; :class:`UnknownEventType` otherwise."""
    topics = {name: cls.TOPIC for name, cls in event_types.items()}

    def topic_of(event_type: str) -> str:
        try:
            return topics[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    return topic_of


class OutboxRelay:
    """Publishes stored events in position order and records how far it got.

    Run :meth:`run` as a task inside a service, or in a process of its own; tests and
    benchmarks call :meth:`publish_pending` or :meth:`drain` directly.
    """

    def __init__(
        self,
        recorder: TrackingRecorder[Any],
        publisher: RawPublisher,
        *,
        name: str = DEFAULT_RELAY_NAME,
        topic_of: Callable[[str], str] | None = None,
        batch_size: int = 1000,
        poll_interval: float = 0.1,
        max_backoff: float = 5.0,
        pipelined: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        self.name = name
        self._recorder = recorder
        self._publisher = publisher
        self._topic_of = topic_of or topic_router()
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._pipelined = pipelined

    async def publish_pending(self) -> int:
        """Publish the next batch after the checkpoint and record it; how many were published."""
        async with self._recorder.transaction() as transaction:
            after = await transaction.checkpoint(self.name)
            batch = await self._recorder.read_all(after, limit=self._batch_size)
            if not batch:
                return 0
            await self._publish(batch)
            await transaction.save_checkpoint(self.name, batch[-1].position)
        return len(batch)

    async def drain(self) -> int:
        """Publish batches until none is left; how many events were published."""
        total = 0
        while published := await self.publish_pending():
            total += published
        return total

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Relay until ``stop`` is set, polling when idle and backing off after failures."""
        stop = stop or asyncio.Event()
        backoff = self._poll_interval
        while not stop.is_set():
            try:
                published = await self.publish_pending()
            except EventStoreError as error:
                _log.warning("outbox relay %s: %s; retrying in %.1fs", self.name, error, backoff)
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = self._poll_interval
            if published < self._batch_size:
                await _sleep(stop, self._poll_interval)

    async def _publish(self, batch: Sequence[StoredEvent]) -> None:
        if self._pipelined:
            # Tasks start in creation order, so the sends are issued in position order.
            tasks = [asyncio.ensure_future(self._publish_stream((stored,))) for stored in batch]
        else:
            streams: dict[str, list[StoredEvent]] = {}
            for stored in batch:
                streams.setdefault(stored.stream_id, []).append(stored)
            if len(streams) == 1:
                await self._publish_stream(batch)
                return
            tasks = [asyncio.ensure_future(self._publish_stream(s)) for s in streams.values()]
        try:
            await asyncio.gather(*tasks)
        finally:
            # On the first failure, stop the other streams too: the batch is not recorded.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _publish_stream(self, events: Sequence[StoredEvent]) -> None:
        for stored in events:
            topic = self._topic_of(stored.event_type)
            try:
                await self._publisher.publish_raw(
                    topic, stored.stream_id.encode(), stored.data, event_headers(stored)
                )
            except Exception as error:
                raise PublishFailed(
                    relay=self.name,
                    topic=topic,
                    stream_id=stored.stream_id,
                    position=stored.position,
                ) from error


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
