"""An embedded Postgres server kept in a data directory, started through ``pgserver``.

The server listens on a Unix socket inside (or next to) the data directory, so several
embedded servers never fight over a TCP port. Data survives restarts unless the launcher
was asked to delete it on stop (which tests do).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any

from evp.postgres.database import database_url
from evp.postgres.errors import EmbeddedPostgresError

__all__ = ["EmbeddedPostgres"]

# Settings that can change without a restart; ALTER SYSTEM keeps them across restarts.
_NOT_DURABLE = """
ALTER SYSTEM SET fsync = off;
ALTER SYSTEM SET synchronous_commit = off;
ALTER SYSTEM SET full_page_writes = off;
SELECT pg_reload_conf();
"""


class EmbeddedPostgres:
    """A Postgres server owned by this process, with its cluster in ``data_dir``.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. With
    ``delete_on_stop`` the data directory is removed when the server stops. With
    ``durable=False`` the server stops flushing to disk (``fsync`` and synchronous commit
    off): a crash may lose data, which throwaway test servers can afford for the speed.
    """

    def __init__(
        self, data_dir: Path | str, *, delete_on_stop: bool = False, durable: bool = True
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.delete_on_stop = delete_on_stop
        self.durable = durable
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server and return the URL of its ``postgres`` database."""
        if self._server is None:
            try:
                # Imported here: pgserver probes the runtime directory at import time, which
                # commands that never need Postgres should not pay for.
                from pgserver.postgres_server import get_server

                self.data_dir.parent.mkdir(parents=True, exist_ok=True)
                self._server = get_server(
                    self.data_dir, cleanup_mode="delete" if self.delete_on_stop else "stop"
                )
                if not self.durable:
                    self._server.psql(_NOT_DURABLE)
            except (OSError, subprocess.SubprocessError, AssertionError) as error:
                raise EmbeddedPostgresError(
                    f"could not start embedded Postgres: {error}", data_dir=str(self.data_dir)
                ) from error
        return self.url()

    def url(self, database: str = "postgres") -> str:
        """The connection URL of ``database`` on the running server."""
        if self._server is None:
            raise EmbeddedPostgresError(
                "embedded Postgres is not running", data_dir=str(self.data_dir)
            )
        return database_url(str(self._server.get_uri()), database)

    def stop(self) -> None:
        """Stop the server (and delete its data when asked to); stopping twice is harmless."""
        server, self._server = self._server, None
        if server is None:
            return
        try:
            server.cleanup()
        except (OSError, subprocess.SubprocessError) as error:
            raise EmbeddedPostgresError(
                f"could not stop embedded Postgres: {error}", data_dir=str(self.data_dir)
            ) from error

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
