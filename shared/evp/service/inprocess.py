"""A service run inside this process, as ``evp serve`` runs it, with a client on its app.

::

    async with running_service(payments, settings) as bank:
        response = await bank.http.get("/health/ready")

Its lifespan starts every part (database, bus, relay, projections); HTTP requests go
through the whole app (middleware, auth, problem responses) without a socket, as
Starlette's ``TestClient`` does. Tests, the demo and benchmarks use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from fastapi import FastAPI

from evp.service.runtime import ServiceRuntime
from evp.service.service import Service
from evp.service.settings import ServiceSettings

__all__ = ["RunningService", "running_service"]


@dataclasses.dataclass(frozen=True)
class RunningService:
    """A service started in a test: its app, an HTTP client on it, and its running parts."""

    app: FastAPI
    http: httpx.AsyncClient
    runtime: ServiceRuntime

    async def wait_for(
        self,
        condition: Callable[[], Awaitable[bool]] | Callable[[], bool],
        *,
        timeout: float = 15.0,
        interval: float = 0.02,
    ) -> None:
        """Wait until ``condition`` (sync or async) holds; :class:`TimeoutError` otherwise."""
        async with asyncio.timeout(timeout):
            while True:
                outcome = condition()
                if isinstance(outcome, Awaitable):
                    outcome = await outcome
                if outcome:
                    return
                await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def running_service(
    service: Service, settings: ServiceSettings, *, assigned: bool = True
) -> AsyncIterator[RunningService]:
    """Start ``service`` with ``settings`` (its consumers assigned, unless told not to wait)."""
    app = service.app(settings)
    async with app.router.lifespan_context(app):
        runtime: ServiceRuntime = app.state.runtime
        if assigned:
            await runtime.bus.wait_assigned()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
            yield RunningService(app, http, runtime)
