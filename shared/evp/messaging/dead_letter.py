"""Dead letters: messages a consumer group could not process, kept with the reason why.

A dead letter is the original message (key, value and headers unchanged) written to
``<topic>.dlq`` with ``dlq-*`` headers saying why, what error, and where it came from. All
dead letters of a topic go to partition 0 of its dead-letter topic, so their offsets are
one sequence that ``evp dlq show --offset N`` can address.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message

from evp.avro.errors import IncompatibleWriter
from evp.messaging import headers as h
from evp.messaging.headers import Headers, header, headers_of
from evp.messaging.message import position
from evp.messaging.producer import Delivery, Outgoing
from evp.messaging.topics import TopicNames
from evp.schema.resolution import Problem

__all__ = [
    "DEAD_LETTER_PARTITION",
    "DeadLetter",
    "DeadLettered",
    "Reason",
    "dead_letter_of",
    "is_replay_marker",
    "replay_marker",
    "replayed_positions",
    "truncated",
]

DEAD_LETTER_PARTITION = 0
_MAX_MESSAGE = 4000  # characters of an error message kept in a header
# Room left for librdkafka's own framing of a message (record headers, lengths, CRC).
_FRAMING_BYTES = 512


class Reason(enum.StrEnum):
    """Why a message was dead-lettered (the ``dlq-reason`` header)."""

    WIRE_FORMAT = "wire-format"
    """The value is not a Confluent wire-format frame."""
    UNKNOWN_SCHEMA_ID = "unknown-schema-id"
    """The frame names a schema id the registry does not know."""
    INCOMPATIBLE_WRITER = "incompatible-writer"
    """The handler's event class cannot read data written with the writer's schema."""
    UNDECODABLE = "undecodable"
    """The body does not decode with the writer's schema (corrupt or truncated)."""
    HANDLER_FAILED = "handler-failed"
    """The handler raised on every attempt."""


def dead_letter_of(
    message: Message, *, reason: Reason, error: BaseException, group: str, attempts: int
) -> Outgoing:
    """The dead letter of ``message``: its key, value and headers plus the ``dlq-*`` headers."""
    kind, millis = message.timestamp()
    topic, partition, offset = position(message)
    original = [
        (name, value)
        for name, value in headers_of(message)
        if name not in h.DLQ_HEADERS or name == h.DLQ_REPLAYED_FROM
    ]
    original += [
        (h.DLQ_REASON, reason.value.encode()),
        (h.DLQ_ERROR_TYPE, type(error).__name__.encode()),
        (h.DLQ_ERROR_MESSAGE, str(error)[:_MAX_MESSAGE].encode()),
        (h.DLQ_ORIGINAL_TOPIC, topic.encode()),
        (h.DLQ_ORIGINAL_PARTITION, str(partition).encode()),
        (h.DLQ_ORIGINAL_OFFSET, str(offset).encode()),
        (
            h.DLQ_ORIGINAL_TIMESTAMP,
            b"" if kind == TIMESTAMP_NOT_AVAILABLE else str(millis).encode(),
        ),
        (h.DLQ_GROUP, group.encode()),
        (h.DLQ_ATTEMPTS, str(attempts).encode()),
    ]
    if isinstance(error, IncompatibleWriter) and error.problems:
        problems = [problem.to_json() for problem in error.problems]
        original.append((h.DLQ_PROBLEMS, json.dumps(problems, ensure_ascii=False).encode()))
    return Outgoing(
        TopicNames.dead_letter(topic),
        message.key(),
        message.value() or b"",
        original,
        partition=DEAD_LETTER_PARTITION,
    )


def truncated(letter: Outgoing, max_bytes: int) -> Outgoing:
    """``letter`` cut down to fit in ``max_bytes``, saying so in its headers.

    The value is truncated (its original length and SHA-256 kept in ``dlq-truncated`` and
    ``dlq-value-sha256``) and the error message shortened; if the original headers alone
    are too large, only the ``dlq-*`` ones are kept. A dead letter that says what it lost
    is worth more than one that was never written.
    """
    value = letter.value
    kept = [
        (name, data[:200] if name == h.DLQ_ERROR_MESSAGE else data) for name, data in letter.headers
    ]
    kept += [
        (h.DLQ_TRUNCATED, str(len(value)).encode()),
        (h.DLQ_VALUE_SHA256, hashlib.sha256(value).hexdigest().encode()),
    ]

    def size(headers: Headers) -> int:
        return len(letter.key or b"") + sum(len(n) + len(v) for n, v in headers)

    if size(kept) + _FRAMING_BYTES > max_bytes:
        kept = [(name, data) for name, data in kept if name in h.DLQ_HEADERS]
    room = max(0, max_bytes - _FRAMING_BYTES - size(kept))
    return letter._replace(value=value[:room], headers=kept)


def replay_marker(letter: DeadLetter) -> Outgoing:
    """The record, written to the dead-letter topic, saying that ``letter`` was replayed."""
    return Outgoing(
        letter.topic,
        letter.key,
        b"",
        [(h.DLQ_REPLAY_OF, f"{letter.partition}:{letter.offset}".encode())],
        partition=letter.partition,
    )


@dataclass(frozen=True)
class DeadLettered:
    """Notice that a consumer group dead-lettered a message, given once Kafka confirmed it."""

    group: str
    reason: Reason
    error: BaseException
    topic: str
    partition: int
    offset: int
    delivery: Delivery
    """Where the dead letter was written."""


@dataclass(frozen=True)
class DeadLetter:
    """A dead letter as read back from its dead-letter topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers
    reason: str
    error_type: str
    error_message: str
    original_topic: str
    original_partition: int
    original_offset: int
    original_timestamp: datetime.datetime | None
    group: str
    attempts: int
    replayed: bool = False
    problems: tuple[Problem, ...] = ()
    """An incompatible writer's compatibility problems, as typed values."""

    @classmethod
    def from_message(cls, message: Message) -> DeadLetter:
        """Read the dead letter stored in ``message``."""
        found = headers_of(message)
        topic, partition, offset = position(message)

        def text(name: str) -> str:
            return (header(found, name) or b"").decode(errors="replace")

        def number(name: str) -> int:
            raw = text(name)
            return int(raw) if raw.lstrip("-").isdigit() else -1

        millis = number(h.DLQ_ORIGINAL_TIMESTAMP)
        return cls(
            topic=topic,
            partition=partition,
            offset=offset,
            key=message.key(),
            value=message.value() or b"",
            headers=found,
            reason=text(h.DLQ_REASON),
            error_type=text(h.DLQ_ERROR_TYPE),
            error_message=text(h.DLQ_ERROR_MESSAGE),
            original_topic=text(h.DLQ_ORIGINAL_TOPIC),
            original_partition=number(h.DLQ_ORIGINAL_PARTITION),
            original_offset=number(h.DLQ_ORIGINAL_OFFSET),
            original_timestamp=None
            if millis < 0
            else datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC),
            group=text(h.DLQ_GROUP),
            attempts=number(h.DLQ_ATTEMPTS),
            problems=_problems(header(found, h.DLQ_PROBLEMS)),
        )

    @property
    def replay_headers(self) -> Headers:
        """The headers to re-publish with: the original ones, and where it was replayed from."""
        kept = [(name, value) for name, value in self.headers if name not in h.DLQ_HEADERS]
        origin = f"{self.topic}:{self.partition}:{self.offset}".encode()
        return [*kept, (h.DLQ_REPLAYED_FROM, origin)]


def _problems(raw: bytes | None) -> tuple[Problem, ...]:
    # A dead letter is evidence: a header some other writer garbled must not hide the rest.
    if not raw:
        return ()
    try:
        found = json.loads(raw)
        if not isinstance(found, list):
            return ()
        return tuple(Problem.from_json(item) for item in found)
    except ValueError:
        return ()


def replayed_positions(messages: Iterable[Message]) -> set[tuple[int, int]]:
    """The (partition, offset) of each dead letter named by a replay marker in ``messages``."""
    positions: set[tuple[int, int]] = set()
    for message in messages:
        marker = header(headers_of(message), h.DLQ_REPLAY_OF)
        if marker is None:
            continue
        partition, _, offset = marker.decode().partition(":")
        if partition.isdigit() and offset.isdigit():
            positions.add((int(partition), int(offset)))
    return positions


def is_replay_marker(message: Message) -> bool:
    """Whether ``message`` is a replay marker rather than a dead letter."""
    return header(headers_of(message), h.DLQ_REPLAY_OF) is not None
