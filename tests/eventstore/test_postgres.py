"""The Postgres recorder against the conformance suite, plus what only Postgres has."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from evp.eventstore import NewEvent, PostgresRecorder, RecorderError

from .contracts import Boom, RecorderContract, new_events


class TestPostgresRecorder(RecorderContract):
    """Every recorder promise, kept by Postgres."""

    @pytest.fixture
    async def recorder(self, evp_database: str) -> AsyncIterator[PostgresRecorder]:
        """A Postgres recorder on a fresh, migrated database."""
        recorder = await PostgresRecorder.connect(evp_database)
        yield recorder
        await recorder.close()


async def test_connecting_again_applies_no_migration(
    postgres_recorder: PostgresRecorder, evp_database: str
) -> None:
    """A second start finds the event store's tables and leaves them alone."""
    await postgres_recorder.append("s", 0, new_events(1))
    again = await PostgresRecorder.connect(evp_database)
    try:
        assert len(await again.read_all()) == 1
    finally:
        await again.close()
    versions = await postgres_recorder.pool.fetch(
        "SELECT version FROM evp_migrations WHERE component = 'eventstore'"
    )
    assert [row["version"] for row in versions] == [1, 2, 3]


async def test_metadata_is_queryable_beside_the_frames(
    postgres_recorder: PostgresRecorder,
) -> None:
    """Events of one flow are found by correlation id in plain SQL."""
    flow = uuid.uuid4()
    events = [NewEvent(uuid.uuid4(), "shop.orders.OrderPlaced", b"\x00frame", flow)]
    await postgres_recorder.append("order-1", 0, events)
    await postgres_recorder.append("other", 0, new_events(2))
    rows = await postgres_recorder.pool.fetch(
        "SELECT stream_id, data FROM evp_events WHERE correlation_id = $1", flow
    )
    assert [(row["stream_id"], row["data"]) for row in rows] == [("order-1", b"\x00frame")]


async def test_the_handlers_own_sql_commits_with_its_mark(
    postgres_recorder: PostgresRecorder,
) -> None:
    """A row written on the transaction's connection commits with the processed mark."""
    await postgres_recorder.pool.execute("CREATE TABLE notes (body text)")
    event_id = uuid.uuid4()
    async with postgres_recorder.transaction() as transaction:
        await transaction.mark_processed("notifier", event_id)
        await transaction.connection.execute("INSERT INTO notes VALUES ('sent')")
    assert await postgres_recorder.pool.fetchval("SELECT count(*) FROM notes") == 1
    assert await postgres_recorder.is_processed("notifier", event_id)


async def test_the_handlers_own_sql_rolls_back_with_its_mark(
    postgres_recorder: PostgresRecorder,
) -> None:
    """A failing handler leaves neither its row nor its mark."""
    await postgres_recorder.pool.execute("CREATE TABLE notes (body text)")
    event_id = uuid.uuid4()

    async def doomed() -> None:
        async with postgres_recorder.transaction() as transaction:
            await transaction.mark_processed("notifier", event_id)
            await transaction.connection.execute("INSERT INTO notes VALUES ('sent')")
            raise Boom

    with pytest.raises(Boom):
        await doomed()
    assert await postgres_recorder.pool.fetchval("SELECT count(*) FROM notes") == 0
    assert not await postgres_recorder.is_processed("notifier", event_id)


async def test_errors_of_the_handlers_own_sql_pass_through(
    postgres_recorder: PostgresRecorder,
) -> None:
    """The recorder translates its own driver errors, not the caller's."""
    with pytest.raises(asyncpg.UndefinedTableError):
        async with postgres_recorder.transaction() as transaction:
            await transaction.connection.execute("INSERT INTO missing VALUES (1)")


async def test_an_unreachable_database_raises_a_recorder_error(tmp_path: object) -> None:
    """Connection failures surface as the store's own error, naming the operation."""
    with pytest.raises(RecorderError) as raised:
        await PostgresRecorder.connect("postgresql://nobody@127.0.0.1:1/none")
    assert raised.value.operation == "connect"


async def test_an_append_finds_its_predecessor_without_scanning_every_event(
    evp_database: str,
) -> None:
    """An append after a stored version probes the index, whatever the planner's statistics."""
    # One connection, so the scans counted are the append's own.
    recorder = await PostgresRecorder.connect(evp_database, max_connections=1)
    try:
        pool = recorder.pool
        # A new store's counter row is not analysed yet (the planner guesses 2,200 rows), as
        # on the bench's fresh database; keep it so for the test's length.
        await pool.execute("ALTER TABLE evp_event_position SET (autovacuum_enabled = off)")
        for stream in ("a", "b", "c"):
            await recorder.append(stream, 0, new_events(2))
        before = await _sequential_scans_of_events(pool)
        await recorder.append("a", 2, new_events(3))
        assert await _sequential_scans_of_events(pool) == before
        versions = [event.stream_version for event in await recorder.read_stream("a")]
        assert versions == [1, 2, 3, 4, 5]
    finally:
        await recorder.close()


async def _sequential_scans_of_events(pool: asyncpg.Pool) -> int:
    # Counters reach the shared statistics when the backend goes idle; force that now.
    await pool.execute("SELECT pg_stat_force_next_flush()")
    scans = await pool.fetchval(
        "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'evp_events'"
    )
    return int(scans)
