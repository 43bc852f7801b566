"""Event sourcing on Postgres: the event store, aggregates, the outbox relay and projections.

Persistence is layered by capability (:mod:`evp.eventstore.recorder`): streams with an
expected version, a gap-free global position, and per-consumer tracking in transactions.
:class:`PostgresRecorder` and :class:`MemoryRecorder` are peers passing one conformance
suite. :class:`EventStore` stores generated events as wire-format frames and reads them
back as the current classes; :class:`Aggregate` and :class:`Repository` build on it;
:class:`OutboxRelay` publishes stored events through an :class:`Outlet` (the event bus),
parking a stream whose event can never be published; an idempotent claim's transaction
(:mod:`evp.eventstore.unit_of_work`) is joined by appends in the handler;
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
    StoreUnavailable,
    StreamNotParked,
    UnknownEventType,
)
from evp.eventstore.failure import Failure, classify
from evp.eventstore.idempotency import (
    Claim,
    InMemoryProcessedEvents,
    ProcessedEvents,
    TrackedProcessedEvents,
    idempotent,
)
from evp.eventstore.memory import MemoryRecorder, MemoryTransaction
from evp.eventstore.outbox import (
    DEFAULT_RELAY_NAME,
    OutboxRelay,
    Outlet,
    RawPublisher,
    RelayStats,
    TopicRouting,
)
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
    ParkedStream,
    PositionRecorder,
    StoredEvent,
    StreamRecorder,
    TrackingRecorder,
    Transaction,
)
from evp.eventstore.repository import Repository
from evp.eventstore.schemas import StoredSchemas, codec_from_store
from evp.eventstore.store import EventStore, Recorded
from evp.eventstore.unit_of_work import current_transaction, joined

__all__ = [
    "DEFAULT_RELAY_NAME",
    "PROJECTIONS_MODULE",
    "Aggregate",
    "AggregateNotFound",
    "Claim",
    "ConcurrencyError",
    "DuplicateEventError",
    "EventStore",
    "EventStoreError",
    "Failure",
    "InMemoryProcessedEvents",
    "MemoryRecorder",
    "MemoryTransaction",
    "NewEvent",
    "OutboxRelay",
    "Outlet",
    "ParkedStream",
    "PositionRecorder",
    "PostgresRecorder",
    "PostgresTransaction",
    "ProcessedEvents",
    "Projection",
    "ProjectionNotFound",
    "ProjectionRunner",
    "PublishFailed",
    "RawPublisher",
    "Recorded",
    "RecorderError",
    "RelayStats",
    "Repository",
    "ServiceDatabase",
    "StoreUnavailable",
    "StoredEvent",
    "StoredSchemas",
    "StreamNotParked",
    "StreamRecorder",
    "TopicRouting",
    "TrackedProcessedEvents",
    "TrackingRecorder",
    "Transaction",
    "UnexpectedEvent",
    "UnknownEventType",
    "classify",
    "codec_from_store",
    "current_transaction",
    "database_url_variable",
    "find_projection",
    "idempotent",
    "joined",
    "project_once",
]
