"""Event sourcing on Postgres: the event store, aggregates, the outbox relay and projections.

Persistence is layered by capability (:mod:`evp.eventstore.recorder`): streams with an
expected version, a gap-free global position, and per-consumer tracking in transactions.
:class:`PostgresRecorder` and :class:`MemoryRecorder` are peers passing one conformance
suite. :class:`EventStore` stores generated events as wire-format frames and reads them
back as the current classes; :class:`Aggregate` and :class:`Repository` build on it;
:class:`OutboxRelay` publishes stored events through a :class:`RawPublisher`;
:class:`ProjectionRunner` and :func:`project_once` keep read models up to date.
"""

from evp.eventstore.aggregate import Aggregate, UnexpectedEvent
from evp.eventstore.database import ServiceDatabase, database_url_variable
from evp.eventstore.errors import (
    AggregateNotFound,
    ConcurrencyError,
    DuplicateEventError,
    EventStoreError,
    ProjectionNotFound,
    PublishFailed,
    RecorderError,
    UnknownEventType,
)
from evp.eventstore.memory import MemoryRecorder, MemoryTransaction
from evp.eventstore.outbox import DEFAULT_RELAY_NAME, OutboxRelay, RawPublisher, topic_router
from evp.eventstore.postgres import PostgresRecorder, PostgresTransaction
from evp.eventstore.projection import (
    PROJECTIONS_MODULE,
    Projection,
    ProjectionRunner,
    find_projection,
    project_once,
)
from evp.eventstore.recorder import (
    NewEvent,
    PositionRecorder,
    StoredEvent,
    StreamRecorder,
    TrackingRecorder,
    Transaction,
)
from evp.eventstore.repository import Repository
from evp.eventstore.schemas import StoredSchemas, codec_from_store
from evp.eventstore.store import EventStore, Recorded

__all__ = [
    "DEFAULT_RELAY_NAME",
    "PROJECTIONS_MODULE",
    "Aggregate",
    "AggregateNotFound",
    "ConcurrencyError",
    "DuplicateEventError",
    "EventStore",
    "EventStoreError",
    "MemoryRecorder",
    "MemoryTransaction",
    "NewEvent",
    "OutboxRelay",
    "PositionRecorder",
    "PostgresRecorder",
    "PostgresTransaction",
    "Projection",
    "ProjectionNotFound",
    "ProjectionRunner",
    "PublishFailed",
    "RawPublisher",
    "Recorded",
    "RecorderError",
    "Repository",
    "ServiceDatabase",
    "StoredEvent",
    "StoredSchemas",
    "StreamRecorder",
    "TrackingRecorder",
    "Transaction",
    "UnexpectedEvent",
    "UnknownEventType",
    "codec_from_store",
    "database_url_variable",
    "find_projection",
    "project_once",
    "topic_router",
]
