"""What the runtime needs of a generated class: Protocols, so generated code stays decoupled."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

__all__ = ["AvroRecord", "EnvelopeLike", "Event"]


class EnvelopeLike(Protocol):
    """The metadata every event carries (the generated ``Envelope`` class matches it)."""

    @property
    def event_id(self) -> uuid.UUID: ...
    @property
    def event_type(self) -> str: ...
    @property
    def timestamp(self) -> datetime.datetime: ...
    @property
    def version(self) -> int: ...
    @property
    def source(self) -> str: ...
    @property
    def correlation_id(self) -> uuid.UUID: ...
    @property
    def causation_id(self) -> uuid.UUID | None: ...


class AvroRecord(Protocol):
    """A generated record: converts itself to and from the plain values fastavro handles."""

    FULL_NAME: ClassVar[str]

    def to_avro(self) -> dict[str, Any]: ...

    @classmethod
    def from_avro(cls, data: dict[str, Any]) -> Self: ...


@runtime_checkable
class Event(AvroRecord, Protocol):
    """A generated event: a record with a subject, a topic, a key and an envelope."""

    AVRO_SCHEMA: ClassVar[str]
    SUBJECT: ClassVar[str]
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]
    VERSION: ClassVar[int]

    @property
    def envelope(self) -> EnvelopeLike: ...

    def key(self) -> str: ...
