"""Each service's own database: its URL from the environment, else an embedded Postgres.

A service NAME reads ``NAME_DATABASE_URL`` (upper-cased, ``-`` as ``_``). When it is not
set, the service gets an embedded Postgres in ``$EVP_DATA_DIR/NAME/postgres`` (default
``.evp/NAME/postgres``) with a database named after the service. No table is shared
between services: each one's event store and read models live in its own database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from collections.abc import Mapping
from contextlib import AsyncExitStack
from pathlib import Path

from evp.postgres import EmbeddedPostgres, ensure_database
from evp.settings import PlatformSettings, SettingsError, env_str

__all__ = ["ServiceDatabase", "database_url_variable"]

_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def database_url_variable(service: str) -> str:
    """The environment variable holding ``service``'s database URL, e.g. ``USERS_DATABASE_URL``."""
    return f"{service.upper().replace('-', '_')}_DATABASE_URL"


@dataclasses.dataclass(frozen=True)
class ServiceDatabase:
    """Where one service's database is; ``url`` is ``None`` for the embedded default."""

    service: str
    url: str | None
    data_dir: Path

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> ServiceDatabase:
        """Read the service's settings once; :class:`SettingsError` names a bad value."""
        if not _SERVICE_NAME.match(service):
            raise SettingsError("service", service, "a lower-case name such as orders")
        env = os.environ if environ is None else environ
        return cls(
            service=service,
            url=env_str(env, database_url_variable(service)),
            data_dir=PlatformSettings.from_env(env).data_dir / service,
        )

    async def open(self, stack: AsyncExitStack) -> str:
        """The database URL, starting the embedded Postgres (stopped with ``stack``) if needed.

        Starting and stopping the embedded server block for a second or two, so both run
        on a worker thread: the event loop, and whatever else it serves, keeps going.
        """
        if self.url is not None:
            return self.url
        loop = asyncio.get_running_loop()
        server = EmbeddedPostgres(self.data_dir / "postgres")
        admin = await loop.run_in_executor(None, server.start)

        async def stop() -> None:
            await loop.run_in_executor(None, server.stop)

        stack.push_async_callback(stop)
        return await ensure_database(admin, self.service.replace("-", "_"))
