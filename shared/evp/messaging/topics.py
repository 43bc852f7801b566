"""Topic names (with the deployment's prefix) and making sure topics exist before use.

Real clusters create topics through the admin API (CreateTopics) with the partition count
asked for, or the broker's default. A cluster without a controller to create them (the
embedded broker) or that refuses the request may still auto-create topics on a metadata
request; that is the fallback, so the same code runs against both.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._metadata import ClusterMetadata  # not re-exported by the package
from confluent_kafka.cimpl import NewTopic

from evp.avro.record import Event
from evp.messaging.errors import BrokerError, TopicUnavailable

__all__ = ["DEAD_LETTER_SUFFIX", "TopicAdmin", "TopicNames", "read_to_end"]

DEAD_LETTER_SUFFIX = ".dlq"


class TopicNames:
    """Maps an event class's logical topic to the Kafka topic of this deployment."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def of(self, event_type: type[Event]) -> str:
        """The topic events of ``event_type`` are published to."""
        return self.prefix + event_type.TOPIC

    def topic(self, logical: str) -> str:
        """The Kafka topic of a logical topic name from ``schemas/catalog.toml``."""
        return self.prefix + logical

    @staticmethod
    def dead_letter(topic: str) -> str:
        """The dead-letter topic of ``topic``."""
        return topic + DEAD_LETTER_SUFFIX


class TopicAdmin:
    """Ensures topics exist; blocking (call it off the event loop)."""

    def __init__(self, config: Mapping[str, Any], *, timeout: float = 10.0) -> None:
        self._admin = AdminClient(dict(config))
        self._timeout = timeout
        self._known: set[str] = set()

    def ensure(self, topics: Iterable[str], *, partitions: Mapping[str, int] | None = None) -> None:
        """Create each of ``topics`` that does not exist yet.

        ``partitions`` gives the partition count of a topic; others take the broker's
        default. Existing topics are left as they are. Raises :class:`TopicUnavailable`
        when a topic neither exists nor can be created in time.
        """
        wanted = sorted(set(topics) - self._known)
        if not wanted:
            return
        metadata = self._metadata()
        missing = [t for t in wanted if not _present(metadata, t)]
        if missing and metadata.controller_id in metadata.brokers:
            missing = self._create(missing, partitions or {})
        for topic in missing:
            self._auto_create(topic)
        self._known.update(wanted)

    def brokers(self, *, timeout: float) -> int:
        """How many brokers answer a metadata request within ``timeout`` seconds (blocking).

        Raises :class:`BrokerError` when none does.
        """
        try:
            metadata = self._admin.list_topics(timeout=timeout)
        except KafkaException as error:
            raise BrokerError(str(error.args[0]), operation="metadata request") from error
        return len(metadata.brokers)

    def partitions(self, topic: str) -> list[int]:
        """The partition ids of ``topic`` (empty when it does not exist)."""
        metadata = self._metadata(topic)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            return []
        return sorted(found.partitions)

    def _metadata(self, topic: str | None = None) -> ClusterMetadata:
        try:
            return self._admin.list_topics(topic=topic, timeout=self._timeout)
        except KafkaException as error:
            raise BrokerError(str(error.args[0]), operation="metadata request") from error

    def _create(self, topics: list[str], partitions: Mapping[str, int]) -> list[str]:
        """Create ``topics``; answer those the cluster would not create through the admin API."""
        requests = [NewTopic(t, num_partitions=partitions.get(t, -1)) for t in topics]
        futures = self._admin.create_topics(
            requests, request_timeout=self._timeout, operation_timeout=self._timeout
        )
        refused: list[str] = []
        for topic, future in futures.items():
            try:
                future.result(self._timeout + 1)
            except KafkaException as error:
                if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    refused.append(topic)
            except TimeoutError:
                refused.append(topic)
        return refused

    def _auto_create(self, topic: str) -> None:
        """Ask for the topic's metadata: brokers that auto-create topics create it then."""
        deadline = time.monotonic() + self._timeout
        while True:
            metadata = self._metadata(topic)
            if _present(metadata, topic):
                return
            if time.monotonic() >= deadline:
                found = metadata.topics.get(topic)
                detail = str(found.error) if found is not None and found.error else "no partitions"
                raise TopicUnavailable(
                    topic, f"not created by the admin API nor on request: {detail}"
                )
            time.sleep(0.05)


def _present(metadata: ClusterMetadata, topic: str) -> bool:
    found = metadata.topics.get(topic)
    return found is not None and found.error is None and bool(found.partitions)


def read_to_end(consumer: Consumer, topic: str, *, timeout: float = 10.0) -> list[Message]:
    """Every message of ``topic``, from each partition's low watermark to its end; blocking.

    ``consumer`` is assigned the partitions (never joining a group) and unassigned after.
    A missing topic has no messages; a partition not read to its end within ``timeout``
    seconds raises :class:`BrokerError`. Ordered by partition, then offset.
    """
    metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return []
    ends: dict[int, int] = {}
    starts: list[TopicPartition] = []
    for partition in sorted(metadata.partitions):
        low, high = consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=timeout
        )
        if high > low:
            ends[partition] = high
            starts.append(TopicPartition(topic, partition, low))
    if not starts:
        return []
    consumer.assign(starts)
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while ends and time.monotonic() < deadline:
            for message in consumer.consume(1000, 0.2):
                if message.error() is not None:
                    continue
                partition, offset = message.partition() or 0, message.offset() or 0
                messages.append(message)
                if partition in ends and offset + 1 >= ends[partition]:
                    del ends[partition]
    finally:
        consumer.unassign()
    if ends:
        raise BrokerError(
            f"partitions {sorted(ends)} not read to their end in time", operation=f"reading {topic}"
        )
    return sorted(messages, key=lambda m: (m.partition() or 0, m.offset() or 0))
