"""Errors of the Postgres helpers: the embedded launcher and the migrations runner."""

from __future__ import annotations

from evp.errors import EvpError

__all__ = ["EmbeddedPostgresError", "MigrationError", "PostgresError"]


class PostgresError(EvpError):
    """Root of every deliberate error raised by :mod:`evp.postgres`."""


class EmbeddedPostgresError(PostgresError):
    """The embedded server could not be started or stopped; ``data_dir`` names it."""

    def __init__(self, message: str, *, data_dir: str) -> None:
        super().__init__(message, data_dir=data_dir)
        self.data_dir = data_dir


class MigrationError(PostgresError):
    """A migration could not be applied, or an applied one no longer matches its file."""

    def __init__(self, message: str, *, component: str, version: int, name: str) -> None:
        super().__init__(message, component=component, version=version, name=name)
        self.component = component
        self.version = version
        self.name = name
