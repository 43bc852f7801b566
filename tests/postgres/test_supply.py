"""The background supply of fresh test databases."""

from __future__ import annotations

import asyncpg

from evp.postgres import DatabaseSupply, database_url


async def _databases(admin_url: str, prefix: str) -> set[str]:
    connection = await asyncpg.connect(admin_url)
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix
        )
        return {row["datname"] for row in rows}
    finally:
        await connection.close()


async def test_each_take_is_a_new_database(evp_postgres: str) -> None:
    """Two takes give two different databases that exist."""
    with DatabaseSupply(evp_postgres, prefix="supply_a", ahead=2) as supply:
        (first, _), (second, _) = supply.take(), supply.take()
        assert first != second
        assert {first, second} <= await _databases(evp_postgres, "supply_a")


async def test_closing_drops_released_and_untaken_databases(evp_postgres: str) -> None:
    """After close, neither released nor never-taken databases remain."""
    supply = DatabaseSupply(evp_postgres, prefix="supply_b", ahead=2)
    name, _ = supply.take()
    supply.release(name)
    supply.close()
    assert await _databases(evp_postgres, "supply_b") == set()


async def test_the_url_reaches_the_database(evp_postgres: str) -> None:
    """The URL given with a name connects to that database."""
    with DatabaseSupply(evp_postgres, prefix="supply_c", ahead=1) as supply:
        name, url = supply.take()
        connection = await asyncpg.connect(url)
        try:
            assert await connection.fetchval("SELECT current_database()") == name
        finally:
            await connection.close()


async def test_databases_copy_the_template(evp_postgres: str) -> None:
    """With a template, each database starts with the template's tables."""
    template = "supply_template_d"
    connection = await asyncpg.connect(evp_postgres)
    try:
        await connection.execute(f"CREATE DATABASE {template}")
    finally:
        await connection.close()
    seeded = await asyncpg.connect(database_url(evp_postgres, template))
    try:
        await seeded.execute("CREATE TABLE seeded (id integer)")
    finally:
        await seeded.close()
    with DatabaseSupply(evp_postgres, prefix="supply_d", ahead=1, template=template) as supply:
        _, url = supply.take()
        copy = await asyncpg.connect(url)
        try:
            assert await copy.fetchval("SELECT count(*) FROM seeded") == 0
        finally:
            await copy.close()
