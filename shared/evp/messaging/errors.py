"""Errors of the event runtime: refused schemas, failed deliveries, unusable brokers or topics.

Every error names what it is about (subject, topic, partition, group) in structured fields.
librdkafka's :class:`~confluent_kafka.KafkaException` and the registry client's errors are
translated where they are caught, with the original kept as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Sequence

from evp.errors import EvpError

__all__ = [
    "REFUSED_MESSAGE_CODES",
    "TOO_LARGE_CODES",
    "BrokerError",
    "BusStateError",
    "DeadLetterNotFound",
    "DeliveryFailed",
    "DependencyUnavailable",
    "HandlerTimedOut",
    "IncompatibleSchema",
    "InvalidSubscription",
    "MessagingError",
    "RegistryUnavailable",
    "TopicUnavailable",
]


# librdkafka's error names for a message too large to be written (the client's own check
# and the broker's answer).
TOO_LARGE_CODES = frozenset(
    {"MSG_SIZE_TOO_LARGE", "_MSG_SIZE_TOO_LARGE", "INVALID_MSG_SIZE", "RECORD_LIST_TOO_LARGE"}
)
# Names that refuse one message for what it is, not for the state of the cluster: sending
# the same message again can only fail again.
REFUSED_MESSAGE_CODES = TOO_LARGE_CODES | {"INVALID_MSG", "INVALID_RECORD", "TOPIC_EXCEPTION"}


class MessagingError(EvpError):
    """Root of the errors raised by the event runtime."""


class IncompatibleSchema(MessagingError):
    """The registry refused to register a schema because it breaks the subject's level."""

    def __init__(self, subject: str, reasons: Sequence[str], *, registry: str) -> None:
        super().__init__(
            f"the registry refused the schema of {subject} as incompatible; nothing was published",
            subject=subject,
            registry=registry,
        )
        self.subject = subject
        self.reasons = list(reasons)

    def __str__(self) -> str:
        return "\n  ".join([super().__str__(), *self.reasons])


class DependencyUnavailable(MessagingError):
    """Something a handler needs (its database, the registry) cannot be reached for now.

    It is not the message's fault: a handler attempt failing with it is tried again after
    a backoff for as long as the dependency is away, without using up the handler's
    retries, so the message is never dead-lettered for it.
    """


class RegistryUnavailable(DependencyUnavailable):
    """The schema registry could not be asked (unreachable, or it answered with an error)."""

    def __init__(self, detail: str, *, registry: str, status: int | None = None) -> None:
        super().__init__(
            f"schema registry request failed: {detail}", registry=registry, status=status
        )
        self.registry = registry
        self.status = status


class DeliveryFailed(MessagingError):
    """Kafka did not confirm a message (or some messages of a batch) as written."""

    def __init__(
        self,
        detail: str,
        *,
        topic: str,
        failed: int = 1,
        delivered: int = 0,
        code: str | None = None,
    ) -> None:
        super().__init__(
            f"delivery failed: {detail}",
            topic=topic,
            failed=failed,
            delivered=delivered,
            code=code,
        )
        self.topic = topic
        self.failed = failed
        self.delivered = delivered
        self.code = code


class BrokerError(MessagingError):
    """A Kafka client call failed (bad configuration, unreachable cluster, fatal error)."""

    def __init__(self, detail: str, *, operation: str, code: str | None = None) -> None:
        super().__init__(f"{operation} failed: {detail}", operation=operation, code=code)
        self.operation = operation
        self.code = code


class HandlerTimedOut(MessagingError):
    """A handler attempt ran past its subscriber's timeout and was cut off (a failed attempt)."""

    def __init__(self, handler: str, *, timeout: float, group: str) -> None:
        super().__init__(
            f"{handler} did not finish within {timeout:g} s", handler=handler, group=group
        )
        self.handler = handler
        self.timeout = timeout
        self.group = group


class TopicUnavailable(MessagingError):
    """A topic does not exist and could not be created."""

    def __init__(self, topic: str, detail: str) -> None:
        super().__init__(f"topic {topic} is not available: {detail}", topic=topic)
        self.topic = topic


class InvalidSubscription(MessagingError):
    """A subscriber declaration the runtime cannot honour (say, an event type handled twice)."""

    def __init__(self, detail: str, *, group: str) -> None:
        super().__init__(detail, group=group)
        self.group = group


class BusStateError(MessagingError):
    """The bus was used in a state that does not allow it (publishing before it started)."""

    def __init__(self, detail: str, *, service: str) -> None:
        super().__init__(detail, service=service)
        self.service = service


class DeadLetterNotFound(MessagingError):
    """No dead letter is stored at the given position of a dead-letter topic."""

    def __init__(self, topic: str, partition: int, offset: int) -> None:
        super().__init__(
            f"no dead letter at offset {offset} of {topic} partition {partition}",
            topic=topic,
            partition=partition,
            offset=offset,
        )
        self.topic = topic
        self.partition = partition
        self.offset = offset
