"""Postgres helpers shared by the registry and the event store.

An embedded server in a data directory (:class:`EmbeddedPostgres`), fresh databases for
tests (:class:`DatabaseSupply`), and a versioned-SQL migrations runner that is safe under
concurrent start-up.
"""

from evp.postgres.database import (
    create_database,
    database_url,
    drop_database,
    ensure_database,
    unique_name,
)
from evp.postgres.embedded import EmbeddedPostgres
from evp.postgres.errors import EmbeddedPostgresError, MigrationError, PostgresError
from evp.postgres.migrations import Migration, load_migrations, migrate, migrate_url
from evp.postgres.supply import DatabaseSupply

__all__ = [
    "DatabaseSupply",
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "Migration",
    "MigrationError",
    "PostgresError",
    "create_database",
    "database_url",
    "drop_database",
    "ensure_database",
    "load_migrations",
    "migrate",
    "migrate_url",
    "unique_name",
]
