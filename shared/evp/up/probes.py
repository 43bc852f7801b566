"""Health probes: is Postgres, Kafka, the registry, an SMTP server or a service answering?

Each probe returns when the part answers as it should and raises
:class:`~evp.up.errors.Unreachable` (saying why) when it does not; :func:`until_healthy`
repeats one until it passes. ``evp up`` gates each boot step on them, ``evp doctor``
reports them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
import httpx

from evp.credentials import BasicCredentials, mask_password
from evp.up.errors import Unreachable

__all__ = [
    "http_ready",
    "kafka_answers",
    "postgres_accepts",
    "registry_answers",
    "smtp_accepts",
    "until_healthy",
]

Probe = Callable[[], Awaitable[None]]


async def postgres_accepts(url: str, *, timeout: float = 5.0) -> None:
    """Postgres at ``url`` accepts a connection (and the database exists)."""
    try:
        connection = await asyncpg.connect(url, timeout=timeout)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise Unreachable("Postgres", mask_password(url), _reason(error)) from error
    await connection.close()


async def kafka_answers(
    bootstrap: str, *, properties: Mapping[str, str] | None = None, timeout: float = 5.0
) -> None:
    """A Kafka cluster at ``bootstrap`` answers a metadata request."""
    from evp.messaging.errors import BrokerError
    from evp.messaging.topics import TopicAdmin

    config = {"bootstrap.servers": bootstrap, "client.id": "evp-up-probe", **(properties or {})}

    def ask() -> None:
        TopicAdmin(config).brokers(timeout=timeout)

    try:
        await asyncio.to_thread(ask)
    except BrokerError as error:
        raise Unreachable("Kafka", bootstrap, _reason(error)) from error


async def registry_answers(
    url: str, *, credentials: BasicCredentials | None = None, timeout: float = 5.0
) -> None:
    """The schema registry at ``url`` answers ``GET /subjects`` with 200."""
    auth = (credentials.user, credentials.password.reveal()) if credentials else None
    await _get_ok("the schema registry", f"{url.rstrip('/')}/subjects", url, timeout, auth)


async def http_ready(url: str, *, timeout: float = 5.0) -> None:
    """The service at ``url`` answers ``GET /health/ready`` with 200."""
    await _get_ok("the service", f"{url.rstrip('/')}/health/ready", url, timeout, None)


async def smtp_accepts(address: str, *, timeout: float = 5.0) -> None:
    """An SMTP server at ``host:port`` accepts a connection and greets with 220."""
    host, _, port = address.rpartition(":")
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, int(port))
            try:
                greeting = await reader.readline()
            finally:
                writer.close()
    except (OSError, TimeoutError) as error:
        raise Unreachable("the SMTP server", address, _reason(error)) from error
    if not greeting.startswith(b"220"):
        raise Unreachable("the SMTP server", address, f"greeted with {greeting[:60]!r}")


async def until_healthy(probe: Probe, *, timeout: float, interval: float = 0.2) -> None:
    """Run ``probe`` until it passes; after ``timeout`` seconds, raise its last failure."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await probe()
            return
        except Unreachable:
            if loop.time() + interval > deadline:
                raise
        await asyncio.sleep(interval)


async def _get_ok(
    what: str, url: str, address: str, timeout: float, auth: tuple[str, str] | None
) -> None:
    try:
        async with httpx.AsyncClient(timeout=timeout, auth=auth) as client:
            response = await client.get(url)
    except httpx.HTTPError as error:
        raise Unreachable(what, address, _reason(error)) from error
    if response.status_code != 200:
        raise Unreachable(what, address, f"GET {url} answered {response.status_code}")


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__
