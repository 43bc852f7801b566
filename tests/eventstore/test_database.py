"""Each service's database settings: a URL from the environment, else embedded Postgres."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import pytest

from evp.eventstore import ServiceDatabase, database_url_variable
from evp.settings import SettingsError
from evp.testing.loop import ticking


def test_the_url_variable_is_named_after_the_service() -> None:
    """orders reads ORDERS_DATABASE_URL; dashes become underscores."""
    assert database_url_variable("orders") == "ORDERS_DATABASE_URL"
    assert database_url_variable("read-side") == "READ_SIDE_DATABASE_URL"


def test_a_set_url_is_used() -> None:
    """The service's variable gives its database URL."""
    settings = ServiceDatabase.from_env("users", {"USERS_DATABASE_URL": "postgresql://db/users"})
    assert settings.url == "postgresql://db/users"


def test_without_a_url_the_embedded_database_lives_under_the_data_dir() -> None:
    """No URL: an embedded Postgres in $EVP_DATA_DIR/<service>."""
    settings = ServiceDatabase.from_env("orders", {"EVP_DATA_DIR": "/var/evp"})
    assert (settings.url, settings.data_dir) == (None, Path("/var/evp/orders"))


def test_another_services_url_is_not_used() -> None:
    """Services never share a database by accident: only their own variable counts."""
    settings = ServiceDatabase.from_env("orders", {"USERS_DATABASE_URL": "postgresql://db/u"})
    assert settings.url is None


def test_an_invalid_service_name_is_refused() -> None:
    """A name that cannot form a variable name fails fast, naming the setting."""
    with pytest.raises(SettingsError) as raised:
        ServiceDatabase.from_env("Orders!", {})
    assert raised.value.key == "service"


async def test_opening_without_a_url_starts_an_embedded_database(tmp_path: Path) -> None:
    """The embedded server starts in the data dir with a database named after the service."""
    settings = ServiceDatabase("payments", None, tmp_path / "payments")
    async with AsyncExitStack() as stack:
        url = await settings.open(stack)
        assert url.split("?")[0].endswith("/payments")
        assert await _current_database(url) == "payments"
    assert (tmp_path / "payments" / "postgres").is_dir()


async def test_opening_the_embedded_database_leaves_the_event_loop_running(
    tmp_path: Path,
) -> None:
    """The embedded server starts inside a running loop, which keeps serving meanwhile."""
    settings = ServiceDatabase("orders", None, tmp_path / "orders")
    async with ticking() as ticks, AsyncExitStack() as stack:
        await settings.open(stack)
    assert ticks.count >= 10


async def _current_database(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        name: str = await connection.fetchval("SELECT current_database()")
        return name
    finally:
        await connection.close()
