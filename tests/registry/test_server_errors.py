"""5xx answers carry a generic message and a reference; the driver's text goes to the log only."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import pytest
from starlette.testclient import TestClient

from evp.registry.app import create_app
from evp.registry.purge_watch import Forget
from evp.registry.store import RegistryReads, RegistryTransaction

from .schemas import USER_V1

# What Postgres says about a missing table, in part or whole, and the driver's class name.
DRIVER_TEXT = ("registry_subject_versions", "relation", "does not exist", "UndefinedTable")
REFERENCE = re.compile(r"\(reference ([0-9a-f]{12})\)$")


def _drop_versions_table(database_url: str) -> None:
    async def drop() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute("DROP TABLE registry_subject_versions")
        finally:
            await connection.close()

    asyncio.run(drop())


def _subjects_without_their_table(database_url: str) -> tuple[int, dict[str, Any]]:
    """GET /subjects from a registry whose versions table was dropped after start-up."""
    with TestClient(create_app(database_url)) as client:
        _drop_versions_table(database_url)
        response = client.get("/subjects")
    return response.status_code, response.json()


def test_store_error_answer_has_no_driver_text(evp_database: str) -> None:
    """A failing query answers 500 / 50001 "Store error" without any of Postgres's words."""
    status, body = _subjects_without_their_table(evp_database)
    assert (status, body["error_code"]) == (500, 50001)
    message = body["message"]
    assert message.startswith("Store error (reference ")
    assert not [text for text in DRIVER_TEXT if text in message]


def test_store_error_is_logged_in_full_under_its_reference(
    evp_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The log holds the driver's text under the reference the answer gave."""
    _, body = _subjects_without_their_table(evp_database)
    found = REFERENCE.search(body["message"])
    assert found is not None
    logged = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert logged
    assert logged[0].levelno == logging.ERROR
    assert "registry_subject_versions" in logged[0].getMessage()


async def test_statement_timeout_is_50002_without_driver_text(evp_database: str) -> None:
    """A statement cancelled by Postgres's statement_timeout answers 500 / 50002."""
    admin = await asyncpg.connect(evp_database)
    try:
        await admin.execute("SET statement_timeout = 0")
        database = await admin.fetchval("SELECT current_database()")
        await admin.execute(f'ALTER DATABASE "{database}" SET statement_timeout = 200')
        # Hold the subject's lock, so the registration waits until Postgres cancels it.
        await admin.execute("SELECT pg_advisory_lock($1, hashtext($2))", 0x5253_0001, "users")
        with TestClient(create_app(evp_database)) as client:
            response = client.post("/subjects/users/versions", json={"schema": USER_V1})
    finally:
        await admin.close()
    assert response.status_code == 500
    assert response.json()["error_code"] == 50002
    message = response.json()["message"]
    assert message.startswith("Operation timed out (reference ")
    assert "statement timeout" not in message
    assert "canceling" not in message


class _Failing(AbstractAsyncContextManager[Any]):
    async def __aenter__(self) -> Any:
        raise RuntimeError(SECRET_TEXT)

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class _BrokenStore:
    """A store whose every use fails with an error the registry does not expect."""

    def transaction(self) -> AbstractAsyncContextManager[RegistryTransaction]:
        return _Failing()

    def reads(self) -> AbstractAsyncContextManager[RegistryReads]:
        return _Failing()

    @asynccontextmanager
    async def watch_purges(self, forget: Forget) -> AsyncIterator[None]:
        yield

    async def close(self) -> None:
        pass


SECRET_TEXT = "connect to db.internal:5432 as admin password=hunter2 failed"


def test_unexpected_error_answer_has_no_exception_text() -> None:
    """An error the app does not expect answers 500 / 500 naming only a reference."""
    with TestClient(create_app(store=_BrokenStore()), raise_server_exceptions=False) as client:
        response = client.get("/subjects")
    assert response.status_code == 500
    assert response.json()["error_code"] == 500
    message = response.json()["message"]
    assert REFERENCE.search(message)
    assert not [text for text in ("db.internal", "hunter2", "RuntimeError") if text in message]
