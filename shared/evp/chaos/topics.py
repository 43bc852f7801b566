"""The topics as they stand after the run, and how far each consumer group got in them.

Read once the platform is quiescent, with a consumer that joins no group and commits
nothing, partition by partition from the low watermark to the high one, so the services'
groups are left as they were. Dead-letter topics are read by
:class:`~evp.messaging.dead_letter_queue.DeadLetterQueue` instead (it knows the replay
markers). The embedded broker keeps every message of a run (in memory), so what is read
here is all that was published.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient

from evp.messaging.errors import BrokerError
from evp.messaging.headers import EVENT_ID, EVENT_TYPE
from evp.messaging.topics import DEAD_LETTER_SUFFIX, read_to_end

__all__ = ["GroupLag", "TopicMessage", "dead_letter_topics", "read_topics"]

_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class TopicMessage:
    """One message: where it is, its key, and the event it carries (from its headers)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    event_type: str | None
    """The full name (``shop.orders.OrderPlaced``); ``None`` when not an event (poison)."""
    event_id: str | None
    value: bytes

    @property
    def short_type(self) -> str:
        """The event type without its namespace (``OrderPlaced``)."""
        return (self.event_type or "").rsplit(".", 1)[-1]


def _topics(bootstrap: str, prefix: str) -> list[str]:
    found = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=_TIMEOUT_S).topics
    return sorted(name for name in found if name.startswith(prefix) and not name.startswith("__"))


def dead_letter_topics(bootstrap: str, prefix: str) -> list[str]:
    """The dead-letter topics (``*.dlq``) of the deployment with ``prefix``; blocking."""
    return [name for name in _topics(bootstrap, prefix) if name.endswith(DEAD_LETTER_SUFFIX)]


def read_topics(bootstrap: str, prefix: str) -> list[TopicMessage]:
    """Every message of every topic of the deployment (but the dead-letter ones); blocking."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"evp-chaos-audit-{uuid.uuid4()}",
            "enable.auto.commit": False,
        }
    )
    try:
        topics = [t for t in _topics(bootstrap, prefix) if not t.endswith(DEAD_LETTER_SUFFIX)]
        return [
            _message(topic, message)
            for topic in topics
            for message in read_to_end(consumer, topic, timeout=_TIMEOUT_S)
        ]
    except KafkaException as error:
        raise BrokerError(str(error.args[0]), operation="reading the topics") from error
    finally:
        consumer.close()


def _message(topic: str, message: Message) -> TopicMessage:
    headers = dict(message.headers() or [])
    event_type, event_id = headers.get(EVENT_TYPE), headers.get(EVENT_ID)
    return TopicMessage(
        topic=topic,
        partition=message.partition() or 0,
        offset=message.offset() or 0,
        key=message.key(),
        event_type=_text(event_type),
        event_id=_text(event_id),
        value=message.value() or b"",
    )


def _text(value: str | bytes | None) -> str | None:
    if not value:
        return None
    return value.decode() if isinstance(value, bytes) else value


class GroupLag:
    """How many messages each consumer group has not committed yet, asked of the broker.

    The committed offset of each partition of the group's topics (an OffsetFetch, with a
    consumer of that group id that never joins it) against the partition's high watermark;
    nothing committed counts from the low watermark. Blocking; one consumer per group, kept
    until :meth:`close`.
    """

    def __init__(self, bootstrap: str, subscriptions: Mapping[str, Collection[str]]) -> None:
        self._subscriptions = {group: sorted(topics) for group, topics in subscriptions.items()}
        self._consumers = {
            group: Consumer(
                {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
            )
            for group in self._subscriptions
        }

    def lag(self) -> dict[str, int]:
        """Per group, the messages of its topics it has not committed."""
        found: dict[str, int] = {}
        marks: dict[tuple[str, int], tuple[int, int]] = {}
        try:
            for group, topics in self._subscriptions.items():
                consumer = self._consumers[group]
                partitions = []
                for topic in topics:
                    metadata = consumer.list_topics(topic, timeout=_TIMEOUT_S).topics.get(topic)
                    if metadata is None or metadata.error is not None:
                        continue  # never published to: nothing to read
                    partitions += [TopicPartition(topic, p) for p in sorted(metadata.partitions)]
                found[group] = 0
                for tp in consumer.committed(partitions, timeout=_TIMEOUT_S):
                    key = (tp.topic, tp.partition)
                    if key not in marks:
                        marks[key] = consumer.get_watermark_offsets(tp, timeout=_TIMEOUT_S)
                    low, high = marks[key]
                    found[group] += max(0, high - (tp.offset if tp.offset >= 0 else low))
        except KafkaException as error:
            raise BrokerError(str(error.args[0]), operation="reading committed offsets") from error
        return found

    def close(self) -> None:
        """Close every consumer."""
        for consumer in self._consumers.values():
            consumer.close()
