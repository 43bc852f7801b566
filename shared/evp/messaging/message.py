"""What a handler learns about the Kafka message its event came in, besides the event."""

from __future__ import annotations

import datetime

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message

from evp.messaging.headers import Headers, header, headers_of

__all__ = ["MessageContext", "position"]


def position(message: Message) -> tuple[str, int, int]:
    """A consumed or delivered message's topic, partition and offset."""
    return message.topic() or "", message.partition() or 0, message.offset() or 0


class MessageContext:
    """Where an event was read from and how often its handler has been called for it.

    Read lazily from the underlying Kafka message, so handlers that never look pay nothing.
    """

    __slots__ = ("_message", "attempt", "group", "schema_id")

    def __init__(self, message: Message, *, group: str, schema_id: int, attempt: int) -> None:
        self._message = message
        self.group = group
        """The consumer group the handler runs in."""
        self.schema_id = schema_id
        """The registry id of the schema the event was written with."""
        self.attempt = attempt
        """1 on the first call of the handler for this message, 2 on the first retry, ..."""

    @property
    def topic(self) -> str:
        """The topic the message was read from."""
        return self._message.topic() or ""

    @property
    def partition(self) -> int:
        """The partition the message was read from."""
        partition = self._message.partition()
        return -1 if partition is None else partition

    @property
    def offset(self) -> int:
        """The message's offset in its partition."""
        offset = self._message.offset()
        return -1 if offset is None else offset

    @property
    def key(self) -> bytes | None:
        """The message key: the aggregate id the event is about."""
        return self._message.key()

    @property
    def timestamp(self) -> datetime.datetime | None:
        """When Kafka (or the producer) stamped the message, UTC."""
        kind, millis = self._message.timestamp()
        if kind == TIMESTAMP_NOT_AVAILABLE:
            return None
        return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)

    @property
    def headers(self) -> Headers:
        """The message's headers, in order (a name may repeat)."""
        return headers_of(self._message)

    def header(self, name: str) -> bytes | None:
        """The value of header ``name``, or ``None``."""
        return header(headers_of(self._message), name)

    def __repr__(self) -> str:
        return (
            f"MessageContext(topic={self.topic!r}, partition={self.partition}, "
            f"offset={self.offset}, group={self.group!r}, attempt={self.attempt})"
        )
