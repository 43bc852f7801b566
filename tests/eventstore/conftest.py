"""Fixtures of the event store tests: a registry in memory, codecs, both recorders, Kafka."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.contract.catalog import load_catalog
from evp.eventstore import EventStore, MemoryRecorder, PostgresRecorder, TrackingRecorder
from evp.testing.catalog import catalog_lookup
from evp.testing.kafka import (
    catalog_registry,
    kafka_bootstrap_servers,
    messaging_settings,
    topic_prefix,
)

__all__ = [
    "catalog_registry",
    "kafka_bootstrap_servers",
    "messaging_settings",
    "topic_prefix",
]

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def ticking_clock(
    start: datetime.datetime = datetime.datetime(2024, 5, 17, 10, 0, tzinfo=datetime.UTC),
) -> Callable[[], datetime.datetime]:
    """A clock one second further on at every call, so each commit has its own time."""
    seconds = itertools.count()
    return lambda: start + datetime.timedelta(seconds=next(seconds))


@pytest.fixture(scope="session")
def lookup() -> InMemorySchemaLookup:
    """Every version of every subject in schemas/, registered oldest first."""
    return catalog_lookup(load_catalog(SCHEMAS).require_valid())


@pytest.fixture
def codec(lookup: InMemorySchemaLookup) -> AvroCodec:
    """A fresh codec over the shared in-memory registry."""
    return AvroCodec(lookup)


@pytest.fixture
def memory_recorder() -> MemoryRecorder:
    """An empty in-memory recorder with a ticking clock."""
    return MemoryRecorder(clock=ticking_clock())


@pytest.fixture
async def postgres_recorder(evp_database: str) -> AsyncIterator[PostgresRecorder]:
    """A Postgres recorder on a fresh, migrated database."""
    recorder = await PostgresRecorder.connect(evp_database)
    yield recorder
    await recorder.close()


@pytest.fixture(params=["memory", "postgres"])
def recorder(request: pytest.FixtureRequest) -> TrackingRecorder[Any]:
    """Each recorder in turn, for tests of what is built on top of them."""
    value: TrackingRecorder[Any] = request.getfixturevalue(f"{request.param}_recorder")
    return value


@pytest.fixture
def store(recorder: TrackingRecorder[Any], codec: AvroCodec) -> EventStore[Any]:
    """A typed event store over each recorder in turn."""
    return EventStore(recorder, codec)
