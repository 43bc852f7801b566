"""What the messaging tests observe Kafka with: recorders to await, and raw topic reads."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, Message, TopicPartition

from evp.avro.record import Event
from evp.messaging import DeadLettered, MessageContext

_TIMEOUT_S = 15.0


class EventRecorder:
    """A handler that records what it is given; tests await a number of calls."""

    def __init__(self, react: Callable[[Event, MessageContext], object] | None = None) -> None:
        self.calls: list[tuple[Event, MessageContext]] = []
        self._react = react
        self._changed = asyncio.Event()

    async def __call__(self, event: Event, context: MessageContext) -> None:
        self.calls.append((event, context))
        self._changed.set()
        if self._react is not None:
            outcome = self._react(event, context)
            if asyncio.iscoroutine(outcome):
                await outcome

    @property
    def events(self) -> list[Event]:
        """The events received, in order."""
        return [event for event, _ in self.calls]

    async def wait_for(self, count: int, timeout: float = _TIMEOUT_S) -> list[Event]:
        """Wait until at least ``count`` calls were recorded; answer the events."""
        async with asyncio.timeout(timeout):
            while len(self.calls) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.events


class DeadLetterRecorder:
    """A bus dead-letter observer; tests await a number of dead letters."""

    def __init__(self) -> None:
        self.notices: list[DeadLettered] = []
        self._changed = asyncio.Event()

    def __call__(self, notice: DeadLettered) -> None:
        self.notices.append(notice)
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = _TIMEOUT_S) -> list[DeadLettered]:
        """Wait until at least ``count`` dead letters were confirmed."""
        async with asyncio.timeout(timeout):
            while len(self.notices) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.notices


def topic_messages(bootstrap_servers: str, topic: str) -> list[Message]:
    """Every message in ``topic`` now (none when it does not exist), by partition and offset."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": f"probe-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "log_level": 3,
        }
    )
    try:
        metadata = consumer.list_topics(timeout=_TIMEOUT_S).topics.get(topic)
        if metadata is None:
            return []
        ends = {}
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), _TIMEOUT_S)
            if high > low:
                ends[partition] = (low, high)
        consumer.assign([TopicPartition(topic, p, low) for p, (low, _) in ends.items()])
        found: list[Message] = []
        deadline = time.monotonic() + _TIMEOUT_S
        while ends and time.monotonic() < deadline:
            for message in consumer.consume(100, 0.2):
                if message.error() is None:
                    found.append(message)
                    partition = message.partition()
                    if partition in ends and (message.offset() or 0) + 1 >= ends[partition][1]:
                        del ends[partition]
        assert not ends, f"could not read {topic} to its end"
        return sorted(found, key=lambda m: (m.partition() or 0, m.offset() or 0))
    finally:
        consumer.close()
