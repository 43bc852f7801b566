"""Idempotent consumers: each (group, event id) is processed once, with the handler's writes.

The conformance suite runs against the event store's tracking on both recorders: the
in-memory one and Postgres are peers of one mechanism.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import Mock

import pytest

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.avro.record import Event
from evp.contract.catalog import load_catalog
from evp.events import EmailChanged
from evp.eventstore import EventStore, MemoryRecorder, PostgresRecorder
from evp.eventstore.idempotency import InMemoryProcessedEvents, TrackedProcessedEvents, idempotent
from evp.messaging import MessageContext
from evp.testing.catalog import catalog_lookup
from tests.messaging.samples import SCHEMAS, order_placed


class Boom(Exception):
    """Raised by a handler to make its claim roll back."""


def email_changed() -> EmailChanged:
    """An event a handler appends to its store."""
    return EmailChanged.new(
        user_id=uuid.uuid4(), previous_email="a@b.c", new_email="d@e.f", source="users"
    )


@pytest.fixture(scope="module")
def lookup() -> InMemorySchemaLookup:
    """Every schema of the catalog, registered."""
    return catalog_lookup(load_catalog(SCHEMAS).require_valid())


class ProcessedEventsContract:
    """Promises of :class:`TrackedProcessedEvents`, whatever recorder keeps the marks."""

    @pytest.fixture
    def processed(self) -> TrackedProcessedEvents[Any]:
        """The claims under test; subclasses override this."""
        raise NotImplementedError

    @pytest.fixture
    def store(
        self, processed: TrackedProcessedEvents[Any], lookup: InMemorySchemaLookup
    ) -> EventStore[Any]:
        """An event store over the same recorder as the claims."""
        return EventStore(processed.recorder, AvroCodec(lookup))

    async def test_first_claim_is_new_and_a_second_is_not(
        self, processed: TrackedProcessedEvents[Any]
    ) -> None:
        """An event is new until a claim on it completed."""
        event_id = uuid.uuid4()
        async with processed.claim("g", event_id) as claim:
            assert claim.new
        async with processed.claim("g", event_id) as claim:
            assert not claim.new

    async def test_a_failed_claim_records_nothing(
        self, processed: TrackedProcessedEvents[Any]
    ) -> None:
        """A claim left with an exception leaves the event to be processed again."""
        event_id = uuid.uuid4()
        with pytest.raises(Boom):
            async with processed.claim("g", event_id):
                raise Boom
        async with processed.claim("g", event_id) as claim:
            assert claim.new

    async def test_groups_are_independent(self, processed: TrackedProcessedEvents[Any]) -> None:
        """An event processed by one group is still new to another."""
        event_id = uuid.uuid4()
        async with processed.claim("a", event_id):
            pass
        async with processed.claim("b", event_id) as claim:
            assert claim.new

    async def test_concurrent_claims_of_one_event_let_one_through(
        self, processed: TrackedProcessedEvents[Any]
    ) -> None:
        """Two deliveries of one event handled at once run the body once."""
        event_id = uuid.uuid4()
        entered: list[bool] = []

        async def deliver() -> None:
            async with processed.claim("g", event_id) as claim:
                entered.append(claim.new)
                await asyncio.sleep(0.01)

        await asyncio.gather(deliver(), deliver())
        assert sorted(entered) == [False, True]

    async def test_after_a_failed_claim_two_redeliveries_run_the_body_once(
        self, processed: TrackedProcessedEvents[Any]
    ) -> None:
        """A delivery waiting on a claim that fails, and one arriving later, do not both run."""
        event_id = uuid.uuid4()
        holding, fail = asyncio.Event(), asyncio.Event()
        entered: list[bool] = []

        async def failing() -> None:
            async with processed.claim("g", event_id):
                holding.set()
                await fail.wait()
                raise Boom

        async def deliver() -> None:
            async with processed.claim("g", event_id) as claim:
                entered.append(claim.new)
                await asyncio.sleep(0.05)

        first = asyncio.create_task(failing())
        await holding.wait()
        waiting = asyncio.create_task(deliver())
        await asyncio.sleep(0.01)
        fail.set()
        with pytest.raises(Boom):
            await first
        await asyncio.sleep(0.01)
        await asyncio.gather(waiting, deliver())
        assert sorted(entered) == [False, True]

    async def test_the_handlers_appends_commit_with_the_mark(
        self, processed: TrackedProcessedEvents[Any], store: EventStore[Any]
    ) -> None:
        """An append inside the claim joins its transaction without being passed it."""
        event_id = uuid.uuid4()
        async with processed.claim("g", event_id) as claim:
            await store.append("s", [email_changed()], expected_version=0)
            assert await processed.recorder.stream_version("s") == 0
            assert claim.new
        assert await processed.recorder.stream_version("s") == 1
        assert await processed.recorder.is_processed("g", event_id)

    async def test_a_failing_handler_loses_its_appends_and_its_mark(
        self, processed: TrackedProcessedEvents[Any], store: EventStore[Any]
    ) -> None:
        """A crash inside the claim leaves neither the events nor the processed mark."""
        event_id = uuid.uuid4()

        async def doomed() -> None:
            async with processed.claim("g", event_id):
                await store.append("s", [email_changed()], expected_version=0)
                raise Boom

        with pytest.raises(Boom):
            await doomed()
        assert await processed.recorder.stream_version("s") == 0
        assert not await processed.recorder.is_processed("g", event_id)

    async def test_appends_after_the_claim_commit_on_their_own(
        self, processed: TrackedProcessedEvents[Any], store: EventStore[Any]
    ) -> None:
        """A task started in the claim that appends after it ended does not write into it."""
        started: list[asyncio.Task[int]] = []
        release = asyncio.Event()

        async def later() -> int:
            await release.wait()
            return await store.append("s", [email_changed()], expected_version=0)

        async with processed.claim("g", uuid.uuid4()):
            started.append(asyncio.create_task(later()))
        release.set()
        assert await started[0] == 1
        assert await processed.recorder.stream_version("s") == 1

    async def test_idempotent_handler_skips_a_duplicate(
        self, processed: TrackedProcessedEvents[Any]
    ) -> None:
        """A wrapped handler runs once for two deliveries of the same event."""
        calls: list[Event] = []

        @idempotent(processed)
        async def handle(event: Event, context: MessageContext) -> None:
            calls.append(event)

        event = order_placed()
        context = Mock(spec=MessageContext, group="orders")
        await handle(event, context)
        await handle(event, context)
        assert calls == [event]


class TestInMemoryProcessedEvents(ProcessedEventsContract):
    """Claims kept by the in-memory recorder."""

    @pytest.fixture
    def processed(self) -> InMemoryProcessedEvents:
        """Claims over a fresh in-memory recorder."""
        return InMemoryProcessedEvents(MemoryRecorder())


class TestPostgresProcessedEvents(ProcessedEventsContract):
    """Claims kept by Postgres."""

    @pytest.fixture
    async def processed(self, evp_database: str) -> AsyncIterator[TrackedProcessedEvents[Any]]:
        """Claims over a Postgres recorder on a fresh database."""
        recorder = await PostgresRecorder.connect(evp_database)
        yield TrackedProcessedEvents(recorder)
        await recorder.close()


async def test_in_memory_claims_have_a_recorder_of_their_own_by_default() -> None:
    """Built without a recorder, the in-memory claims start empty."""
    processed = InMemoryProcessedEvents()
    async with processed.claim("g", uuid.uuid4()) as claim:
        assert claim.new
