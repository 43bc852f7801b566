"""The versioned-SQL migrations runner."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from evp.postgres import Migration, MigrationError, load_migrations, migrate, migrate_url

FIRST = Migration(1, "create_items", "CREATE TABLE items (id integer PRIMARY KEY)")
SECOND = Migration(2, "add_name", "ALTER TABLE items ADD COLUMN name text")
BROKEN = Migration(3, "broken", "CREATE TABLE half (id integer); SELECT no_such_function()")


async def _tables(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


async def _recorded(url: str, component: str = "test") -> list[int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT version FROM evp_migrations WHERE component = $1 ORDER BY version", component
        )
        return [row["version"] for row in rows]
    finally:
        await connection.close()


async def test_pending_migrations_are_applied_in_order(evp_database: str) -> None:
    """Both migrations run, the second after the first, and both are recorded."""
    applied = await migrate_url(evp_database, "test", [SECOND, FIRST])
    assert [m.version for m in applied] == [1, 2]
    assert await _recorded(evp_database) == [1, 2]


async def test_running_again_applies_nothing(evp_database: str) -> None:
    """A second run with the same migrations is a no-op."""
    await migrate_url(evp_database, "test", [FIRST, SECOND])
    assert await migrate_url(evp_database, "test", [FIRST, SECOND]) == []


async def test_a_failed_migration_leaves_the_database_as_it_was(evp_database: str) -> None:
    """The failing migration's table and record are rolled back; earlier ones stay."""
    with pytest.raises(MigrationError) as raised:
        await migrate_url(evp_database, "test", [FIRST, BROKEN])
    assert raised.value.version == 3
    assert "half" not in await _tables(evp_database)
    assert await _recorded(evp_database) == [1]


async def test_an_edited_applied_migration_is_refused(evp_database: str) -> None:
    """Changing the text of an applied migration makes the next run fail."""
    await migrate_url(evp_database, "test", [FIRST])
    edited = Migration(1, "create_items", FIRST.sql + " -- edited")
    with pytest.raises(MigrationError, match="edited"):
        await migrate_url(evp_database, "test", [edited])


async def test_components_are_recorded_separately(evp_database: str) -> None:
    """Version 1 of one component does not count as version 1 of another."""
    await migrate_url(evp_database, "test", [FIRST])
    other = Migration(1, "other", "CREATE TABLE others (id integer)")
    assert await migrate_url(evp_database, "other", [other]) == [other]


async def test_concurrent_runners_apply_each_migration_once(evp_database: str) -> None:
    """Five runners starting together apply the two migrations exactly once in total."""
    results = await asyncio.gather(
        *(migrate_url(evp_database, "test", [FIRST, SECOND]) for _ in range(5))
    )
    assert sorted(m.version for applied in results for m in applied) == [1, 2]


async def test_migrate_accepts_an_open_connection(evp_database: str) -> None:
    """migrate() works on a connection the caller owns."""
    connection = await asyncpg.connect(evp_database)
    try:
        assert await migrate(connection, "test", [FIRST]) == [FIRST]
    finally:
        await connection.close()


def test_migrations_load_from_a_package_in_version_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_migrations reads NNNN_name.sql files, ordered by number, skipping other files."""
    package = tmp_path / "fake_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0002_second.sql").write_text("SELECT 2")
    (package / "0001_first.sql").write_text("SELECT 1")
    (package / "README.md").write_text("not a migration")
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded = load_migrations("fake_migrations")
    assert [(m.version, m.name, m.sql) for m in loaded] == [
        (1, "first", "SELECT 1"),
        (2, "second", "SELECT 2"),
    ]


def test_two_files_with_one_version_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two migration files numbered alike raise MigrationError."""
    package = tmp_path / "clashing_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_a.sql").write_text("SELECT 1")
    (package / "0001_b.sql").write_text("SELECT 1")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MigrationError):
        load_migrations("clashing_migrations")
