"""``evp replay``: a service's read model rebuilt from its event store by the CLI."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from evp.avro import AvroCodec, InMemorySchemaLookup
from evp.cli.main import main
from evp.eventstore import EventStore, PostgresRecorder, ProjectionRunner
from evp.postgres import migrate_url

from .sample_projections import MIGRATIONS, MIGRATIONS_COMPONENT, UsersByEmail
from .test_outbox import seed

MODULE = "tests.eventstore.sample_projections"


async def live_model(url: str, lookup: InMemorySchemaLookup) -> list[tuple[object, ...]]:
    """Seed users, project them live, drift one row, and return the live rows before drift."""
    await migrate_url(url, MIGRATIONS_COMPONENT, MIGRATIONS)
    recorder = await PostgresRecorder.connect(url)
    try:
        store = EventStore(recorder, AvroCodec(lookup))
        await seed(store, users=30, changes=2)
        await ProjectionRunner(store, UsersByEmail()).catch_up()
        rows = await rows_of(url)
        await recorder.pool.execute("UPDATE users_by_email SET email = 'drifted'")
        return rows
    finally:
        await recorder.close()


async def rows_of(url: str) -> list[tuple[object, ...]]:
    """The users_by_email rows, in user id order."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT * FROM users_by_email ORDER BY user_id")
        return [tuple(row) for row in rows]
    finally:
        await connection.close()


def test_replay_rebuilds_the_read_model_from_the_store(
    evp_database: str,
    lookup: InMemorySchemaLookup,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With USERS_DATABASE_URL set, the rebuilt rows equal the live ones before they drifted."""
    live = asyncio.run(live_model(evp_database, lookup))
    monkeypatch.setenv("USERS_DATABASE_URL", evp_database)
    argv = ["replay", "--service", "users", "--projection", "users_by_email", "--module", MODULE]
    assert main(argv) == 0
    assert asyncio.run(rows_of(evp_database)) == live
    assert "rebuilt users/users_by_email from 90 events" in capsys.readouterr().out


def test_replay_of_an_unknown_projection_fails_with_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A projection the service lacks is a one-line error listing the ones it has."""
    argv = ["replay", "--service", "users", "--projection", "nope", "--module", MODULE]
    assert main(argv) == 2
    assert "users_by_email" in capsys.readouterr().err


def test_replay_refuses_an_invalid_service_name(capsys: pytest.CaptureFixture[str]) -> None:
    """A service name that cannot form an environment variable is refused at once."""
    argv = ["replay", "--service", "Bad Name", "--projection", "p"]
    assert main(argv) == 2
    assert "service" in capsys.readouterr().err
