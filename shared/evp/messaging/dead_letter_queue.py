"""Reading a dead-letter topic and replaying its letters once their cause is fixed.

A replay re-publishes a letter's original bytes and headers (without re-encoding, and only
if the registry knows its schema id) to the topic it came from, then appends a replay
marker naming the letter to the dead-letter topic. Listing reads the markers too, so a
letter already replayed is reported as such and a second replay skips it. Should the
process die between the two writes, the letter is replayed again next time; consumers
see the same event id twice, which the idempotent-consumer helper absorbs.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Self

import fastavro
from confluent_kafka import Consumer, KafkaException, Message

from evp.avro import AvroError, DecodeError, SchemaLookup
from evp.avro.wire import HEADER_SIZE, read_header
from evp.messaging.config import MessagingSettings, admin_config
from evp.messaging.dead_letter import (
    DeadLetter,
    is_replay_marker,
    replay_marker,
    replayed_positions,
)
from evp.messaging.errors import BrokerError, DeadLetterNotFound
from evp.messaging.producer import AsyncProducer, Delivery
from evp.messaging.publisher import RawPublisher
from evp.messaging.topics import DEAD_LETTER_SUFFIX, TopicNames, read_to_end

__all__ = ["DeadLetterQueue", "ReplayReport", "dead_letter_topic", "decoded_body"]

_TIMEOUT_S = 10.0


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic for ``topic``, which may name the dead-letter topic itself."""
    return topic if topic.endswith(DEAD_LETTER_SUFFIX) else TopicNames.dead_letter(topic)


def decoded_body(letter: DeadLetter, lookup: SchemaLookup) -> tuple[int, Any]:
    """The schema id and the decoded value of ``letter``, read with its writer's schema.

    Raises an :class:`~evp.avro.AvroError` when the value is not a frame, its schema id is
    unknown, or the body does not decode.
    """
    schema_id = read_header(letter.value)
    writer = fastavro.parse_schema(json.loads(lookup.schema_by_id(schema_id)))
    body = io.BytesIO(letter.value)
    body.seek(HEADER_SIZE)
    try:
        return schema_id, fastavro.schemaless_reader(body, writer, None)
    except Exception as error:  # fastavro raises many kinds on corrupt input
        raise DecodeError(f"{type(error).__name__}: {error}", schema_id=schema_id) from error


@dataclass
class ReplayReport:
    """What a replay did: letters re-published (and where to), and letters skipped (and why)."""

    replayed: list[tuple[DeadLetter, Delivery]] = field(default_factory=list)
    skipped: list[tuple[DeadLetter, str]] = field(default_factory=list)


class DeadLetterQueue:
    """Lists, shows and replays dead letters; reading blocks (a reader that never commits)."""

    def __init__(self, client_config: Mapping[str, Any]) -> None:
        """``client_config``: where Kafka is and how to connect (``bootstrap.servers``, ...)."""
        self._config = dict(client_config)

    @classmethod
    def from_settings(cls, settings: MessagingSettings, *, bootstrap_servers: str) -> Self:
        """A reader of the cluster at ``bootstrap_servers``, with the settings' properties."""
        return cls(admin_config(settings, bootstrap_servers=bootstrap_servers, client_id="evp-dlq"))

    def letters(self, topic: str) -> list[DeadLetter]:
        """Every dead letter of ``topic`` (or of the dead-letter topic named), oldest first."""
        messages = self._read(dead_letter_topic(topic))
        replayed = replayed_positions(messages)
        letters = [DeadLetter.from_message(m) for m in messages if not is_replay_marker(m)]
        return [
            replace(letter, replayed=(letter.partition, letter.offset) in replayed)
            for letter in letters
        ]

    def letter(self, topic: str, offset: int, *, partition: int = 0) -> DeadLetter:
        """The dead letter at ``offset``; raises :class:`DeadLetterNotFound` when there is none."""
        for letter in self.letters(topic):
            if letter.partition == partition and letter.offset == offset:
                return letter
        raise DeadLetterNotFound(dead_letter_topic(topic), partition, offset)

    async def replay(
        self,
        topic: str,
        *,
        publisher: RawPublisher,
        producer: AsyncProducer,
        offsets: Sequence[int] | None = None,
        partition: int = 0,
    ) -> ReplayReport:
        """Re-publish the letters at ``offsets`` (all when ``None``) to their original topics.

        Letters already replayed, and letters that would be refused again (not a frame, a
        schema id the registry does not know), are skipped with the reason.
        """
        loop = asyncio.get_running_loop()
        letters = await loop.run_in_executor(None, self.letters, topic)
        if offsets is not None:
            by_offset = {d.offset: d for d in letters if d.partition == partition}
            for offset in offsets:
                if offset not in by_offset:
                    raise DeadLetterNotFound(dead_letter_topic(topic), partition, offset)
            letters = [by_offset[offset] for offset in dict.fromkeys(offsets)]
        report = ReplayReport()
        for letter in letters:
            if letter.replayed:
                report.skipped.append((letter, "already replayed"))
                continue
            if not letter.original_topic:
                report.skipped.append((letter, "no dlq-original-topic header"))
                continue
            try:
                delivery = await publisher.publish_raw(
                    letter.original_topic, letter.key, letter.value, letter.replay_headers
                )
            except AvroError as error:
                report.skipped.append((letter, f"not replayable: {error}"))
                continue
            await producer.send([replay_marker(letter)])
            report.replayed.append((letter, delivery))
        return report

    def _read(self, topic: str) -> list[Message]:
        """Blocking: every message of ``topic``, partition by partition, up to its end now."""
        consumer = Consumer(
            {
                **self._config,
                # Never committed, so no group state is left behind.
                "group.id": f"evp-dlq-reader-{uuid.uuid4()}",
                "enable.auto.commit": False,
            }
        )
        try:
            return read_to_end(consumer, topic, timeout=_TIMEOUT_S)
        except KafkaException as error:
            raise BrokerError(str(error.args[0]), operation=f"reading {topic}") from error
        finally:
            consumer.close()
