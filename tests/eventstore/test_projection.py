"""Projections: fed from the store with checkpoints, fed per delivery, and rebuilt by replay."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from evp.avro import AvroCodec, Event
from evp.events import EmailChanged, UserRegistered
from evp.eventstore import (
    EventStore,
    MemoryRecorder,
    MemoryTransaction,
    PostgresRecorder,
    PostgresTransaction,
    ProjectionNotFound,
    ProjectionRunner,
    find_projection,
    project_once,
)
from evp.postgres import migrate
from evp.testing.samples import user_registered

from .contracts import Boom
from .sample_projections import MIGRATIONS, MIGRATIONS_COMPONENT, UsersByEmail
from .test_outbox import seed


class EmailsInMemory:
    """Each user's current email, kept in a dict that changes only when a batch commits."""

    name = "emails"
    event_types = frozenset({UserRegistered.FULL_NAME, EmailChanged.FULL_NAME})

    def __init__(self, *, fail_on: str | None = None) -> None:
        self.rows: dict[uuid.UUID, str] = {}
        self.fail_on = fail_on
        self.handled = 0

    async def handle(self, event: Event, transaction: MemoryTransaction) -> None:
        """Stage the user's new address."""
        match event:
            case UserRegistered():
                user_id, email = event.user_id, event.email
            case EmailChanged():
                user_id, email = event.user_id, event.new_email
            case _:
                return
        if email == self.fail_on:
            raise Boom(email)
        self.handled += 1
        transaction.on_commit(lambda: self.rows.__setitem__(user_id, email))

    async def reset(self, transaction: MemoryTransaction) -> None:
        """Empty the dict when the rebuild commits."""
        transaction.on_commit(self.rows.clear)


@pytest.fixture
def memory_store(
    memory_recorder: MemoryRecorder, codec: AvroCodec
) -> EventStore[MemoryTransaction]:
    """A typed store in memory."""
    return EventStore(memory_recorder, codec)


@pytest.fixture
async def postgres_store(
    postgres_recorder: PostgresRecorder, codec: AvroCodec
) -> EventStore[PostgresTransaction]:
    """A typed store on Postgres, with the users_by_email table migrated."""
    async with postgres_recorder.pool.acquire() as connection:
        await migrate(connection, MIGRATIONS_COMPONENT, MIGRATIONS)
    return EventStore(postgres_recorder, codec)


async def read_model(recorder: PostgresRecorder) -> list[tuple[Any, ...]]:
    """Every users_by_email row, in user id order."""
    rows = await recorder.pool.fetch("SELECT * FROM users_by_email ORDER BY user_id")
    return [tuple(row) for row in rows]


async def test_catching_up_projects_every_event_and_saves_the_checkpoint(
    memory_store: EventStore[MemoryTransaction],
) -> None:
    """After catching up, each user shows its last email and the checkpoint is the end."""
    ids = await seed(memory_store, users=3, changes=2)
    projection = EmailsInMemory()
    assert await ProjectionRunner(memory_store, projection, batch_size=4).catch_up() == 9
    assert projection.rows == dict.fromkeys(ids, "2@example.com")
    assert await memory_store.recorder.checkpoint("emails") == 9


async def test_a_run_handles_one_batch_from_the_checkpoint(
    memory_store: EventStore[MemoryTransaction],
) -> None:
    """Each run handles at most a batch and starts where the previous one stopped."""
    await seed(memory_store, users=3, changes=2)
    projection = EmailsInMemory()
    runner = ProjectionRunner(memory_store, projection, batch_size=4)
    assert [await runner.run_once() for _ in range(4)] == [4, 4, 1, 0]
    assert projection.handled == 9


async def test_events_the_projection_ignores_still_move_its_checkpoint(
    memory_store: EventStore[MemoryTransaction],
) -> None:
    """A tail of unwanted events is skipped once, not rescanned at every run."""
    await seed(memory_store, users=2, changes=1)
    projection = EmailsInMemory()
    projection.event_types = frozenset({UserRegistered.FULL_NAME})
    runner = ProjectionRunner(memory_store, projection)
    assert await runner.catch_up() == 2
    assert await memory_store.recorder.checkpoint("emails") == 4


async def test_a_failing_batch_keeps_neither_its_writes_nor_its_checkpoint(
    memory_store: EventStore[MemoryTransaction],
) -> None:
    """A handler error rolls back the whole batch, so the next run retries it."""
    await seed(memory_store, users=2, changes=1)
    projection = EmailsInMemory(fail_on="1@example.com")
    with pytest.raises(Boom):
        await ProjectionRunner(memory_store, projection).catch_up()
    assert projection.rows == {}
    assert await memory_store.recorder.checkpoint("emails") == 0


async def test_a_delivered_event_is_projected_once(
    memory_store: EventStore[MemoryTransaction],
) -> None:
    """The Kafka path: a redelivered event is recognised by its id and skipped."""
    event = user_registered(email="a@b.c", display_name="A", source="u")
    projection = EmailsInMemory()
    assert await project_once(memory_store, projection, event)
    assert not await project_once(memory_store, projection, event)
    assert projection.handled == 1


async def test_a_delivered_event_of_another_type_is_skipped(
    memory_store: EventStore[MemoryTransaction],
) -> None:
    """Events outside the projection's types are neither handled nor marked."""
    event = user_registered(email="a@b.c", display_name="A", source="u")
    projection = EmailsInMemory()
    projection.event_types = frozenset({EmailChanged.FULL_NAME})
    assert not await project_once(memory_store, projection, event)
    assert not await memory_store.recorder.is_processed("emails", event.envelope.event_id)


async def test_a_rebuild_replaces_the_model_with_the_replay(
    memory_store: EventStore[MemoryTransaction],
) -> None:
    """A model that drifted is rebuilt from the store, equal to a fresh catch-up."""
    ids = await seed(memory_store, users=3, changes=2)
    projection = EmailsInMemory()
    await ProjectionRunner(memory_store, projection).catch_up()
    projection.rows[ids[0]] = "drifted@example.com"
    assert await ProjectionRunner(memory_store, projection).rebuild() == 9
    assert projection.rows == dict.fromkeys(ids, "2@example.com")
    assert await memory_store.recorder.checkpoint("emails") == 9


async def test_running_keeps_the_model_up_to_date(
    memory_store: EventStore[MemoryTransaction],
) -> None:
    """The run loop projects events appended while it runs, and stops when asked."""
    projection = EmailsInMemory()
    stop = asyncio.Event()
    runner = ProjectionRunner(memory_store, projection, poll_interval=0.01)
    task = asyncio.create_task(runner.run(stop))
    await seed(memory_store, users=2, changes=1)
    for _ in range(200):
        if projection.handled == 4:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert len(projection.rows) == 2


async def test_a_rebuilt_read_model_equals_the_live_one(
    postgres_store: EventStore[PostgresTransaction], postgres_recorder: PostgresRecorder
) -> None:
    """Three thousand events projected live, batch by batch, rebuild to identical rows."""
    projection = UsersByEmail()
    live = ProjectionRunner(postgres_store, projection, batch_size=250)
    ids = [uuid.uuid4() for _ in range(1000)]
    for change in range(3):
        for start in range(0, len(ids), 100):
            async with postgres_store.transaction() as transaction:
                for user_id in ids[start : start + 100]:
                    await postgres_store.append(
                        str(user_id),
                        [_user_event(user_id, change)],
                        expected_version=change,
                        transaction=transaction,
                    )
        await live.catch_up()
    live_rows = await read_model(postgres_recorder)
    assert len(live_rows) == 1000
    assert {row[3] for row in live_rows} == {2}

    assert await ProjectionRunner(postgres_store, projection, batch_size=700).rebuild() == 3000
    assert await read_model(postgres_recorder) == live_rows
    assert await postgres_recorder.checkpoint(projection.name) == 3000


async def test_projecting_deliveries_with_duplicates_equals_the_replay(
    postgres_store: EventStore[PostgresTransaction], postgres_recorder: PostgresRecorder
) -> None:
    """Feeding every event twice through the Kafka path builds the same rows as a rebuild."""
    await seed(postgres_store, users=20, changes=3)
    projection = UsersByEmail()
    for recorded in await postgres_store.read_all():
        assert await project_once(postgres_store, projection, recorded.event)
        assert not await project_once(postgres_store, projection, recorded.event)
    delivered = await read_model(postgres_recorder)
    await ProjectionRunner(postgres_store, projection).rebuild()
    assert await read_model(postgres_recorder) == delivered


async def test_read_model_rows_commit_with_the_checkpoint(
    postgres_store: EventStore[PostgresTransaction], postgres_recorder: PostgresRecorder
) -> None:
    """A batch that fails halfway leaves no rows and no checkpoint behind."""
    await seed(postgres_store, users=3, changes=0)  # all three register as 0@example.com
    await postgres_recorder.pool.execute("CREATE UNIQUE INDEX one_email ON users_by_email (email)")
    with pytest.raises(asyncpg.UniqueViolationError):
        await ProjectionRunner(postgres_store, UsersByEmail()).catch_up()
    assert await read_model(postgres_recorder) == []
    assert await postgres_recorder.checkpoint("users_by_email") == 0


def test_projections_are_found_by_service_and_name() -> None:
    """The lookup reads PROJECTIONS from the module given (or the service's own)."""
    found = find_projection("users", "users_by_email", module="tests.eventstore.sample_projections")
    assert isinstance(found, UsersByEmail)


def test_an_unknown_projection_names_the_ones_there_are() -> None:
    """Asking for a projection the service lacks lists the available ones."""
    with pytest.raises(ProjectionNotFound, match="users_by_email"):
        find_projection("users", "nope", module="tests.eventstore.sample_projections")


def test_a_service_without_a_projections_module_has_none() -> None:
    """A service with no projections module has no projections."""
    with pytest.raises(ProjectionNotFound, match="none"):
        find_projection("no-such-service", "anything")


def _user_event(user_id: uuid.UUID, change: int) -> UserRegistered | EmailChanged:
    if change == 0:
        return UserRegistered.new(
            user_id=user_id, email=f"{user_id}@0.example", display_name="U", source="users"
        )
    return EmailChanged.new(
        user_id=user_id,
        previous_email=f"{user_id}@{change - 1}.example",
        new_email=f"{user_id}@{change}.example",
        source="users",
    )
