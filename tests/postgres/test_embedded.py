"""The embedded Postgres launcher."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from evp.postgres import EmbeddedPostgres, EmbeddedPostgresError


async def _query(url: str, statement: str) -> object:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(statement)
    finally:
        await connection.close()


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    """Rows written before a stop are there after the next start in the same directory."""
    server = EmbeddedPostgres(tmp_path / "data")
    url = server.start()
    await _query(url, "CREATE TABLE kept AS SELECT 42 AS answer")
    server.stop()
    restarted = EmbeddedPostgres(tmp_path / "data", delete_on_stop=True)
    try:
        assert await _query(restarted.start(), "SELECT answer FROM kept") == 42
    finally:
        restarted.stop()


def test_url_of_a_stopped_server_is_refused(tmp_path: Path) -> None:
    """Asking a server that is not running for a URL raises a launcher error."""
    with pytest.raises(EmbeddedPostgresError):
        EmbeddedPostgres(tmp_path / "data").url()


def test_stopping_a_stopped_server_is_harmless(tmp_path: Path) -> None:
    """stop() on a server that never started does nothing."""
    EmbeddedPostgres(tmp_path / "data").stop()
